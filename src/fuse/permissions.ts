/**
 * @module fuse/permissions — the POSIX ownership rules a filesystem applies itself, as Linux does for
 * a local filesystem (fs/attr.c setattr_prepare, fs/namei.c may_delete, fs/inode.c inode_init_owner),
 * for the caller of a request. With `default_permissions` the kernel checks these before a request
 * reaches us; a filesystem that runs as root repeats them so that nothing it does on the caller's
 * behalf goes further than the caller could go on ext4:
 * - chown: only root changes the owner; the owner may change the group to one of its own groups;
 * - chmod: only the owner or root; the setgid bit is dropped when the caller is not in the file's group;
 * - times: explicit times only by the owner or root; "now" for both also by anyone who may write;
 * - truncate by path needs write permission (through an open handle it does not);
 * - a sticky directory: only the owner of the entry or of the directory (or root) unlinks or renames it;
 * - creating: needs write and search permission on the directory; the new entry's group is the
 *   directory's when the directory is setgid (and a new subdirectory is setgid too), and a new
 *   group-executable file loses setgid when its creator is not in that group.
 * Root means uid 0 (the caller's capabilities are not visible to FUSE). Pure functions: no I/O.
 */
import { Errno, FsError } from "../util/errno.ts";
import { ACCESS, checkAccess, inGroup, type Caller } from "./access.ts";
import { S_IF } from "./structs.ts";
import type { Attr, SetattrChanges } from "./types.ts";

export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;
const S_IXGRP = 0o010;

export type Owned = Pick<Attr, "mode" | "uid" | "gid">;

const isRoot = (c: Caller) => c.uid === 0;

/**
 * Checks a setattr of `attr` by `caller`; returns the changes to apply (the mode may lose setgid).
 * `viaHandle`: the request came through an open file (ftruncate), whose open already checked access.
 */
export function checkSetattr(attr: Owned, ch: SetattrChanges, caller: Caller, viaHandle: boolean): SetattrChanges {
  const owner = caller.uid === attr.uid;
  if (ch.uid !== undefined && !isRoot(caller) && !(owner && ch.uid === attr.uid)) throw new FsError(Errno.EPERM, "only root may change the owner");
  if (ch.gid !== undefined && !isRoot(caller) && !(owner && (ch.gid === attr.gid || inGroup(caller, ch.gid)))) {
    throw new FsError(Errno.EPERM, "only the owner may change the group, and only to one of its groups");
  }
  let out = ch;
  if (ch.mode !== undefined) {
    const old = attr.mode & 0o7777;
    const wanted = ch.mode & 0o7777;
    // The kernel drops setuid/setgid on write, truncate and chown by sending a chmod for whoever
    // wrote: a change that only clears those bits is allowed to anyone.
    const onlyClearsIds = (wanted & ~old) === 0 && ((old & ~wanted) & ~(S_ISUID | S_ISGID)) === 0;
    if (!isRoot(caller) && !owner && !onlyClearsIds) throw new FsError(Errno.EPERM, "only the owner may change the mode");
    if ((wanted & S_ISGID) !== 0 && !isRoot(caller) && !inGroup(caller, ch.gid ?? attr.gid)) out = { ...out, mode: ch.mode & ~S_ISGID };
  }
  if (ch.size !== undefined && !viaHandle) checkAccess(attr, ACCESS.W_OK, caller);
  const explicit = (t: SetattrChanges["atime"]) => t !== undefined && t !== "now";
  if ((explicit(ch.atime) || explicit(ch.mtime)) && !isRoot(caller) && !owner) throw new FsError(Errno.EPERM, "only the owner may set explicit times");
  if (ch.atime === "now" && ch.mtime === "now" && !isRoot(caller) && !owner) checkAccess(attr, ACCESS.W_OK, caller);
  return out;
}

/** Throws EPERM when a sticky directory `dir` protects `entry` from `caller` (unlink, rmdir, rename). */
export function checkSticky(dir: Owned, entry: Owned, caller: Caller): void {
  if ((dir.mode & S_ISVTX) === 0 || isRoot(caller)) return;
  if (caller.uid === entry.uid || caller.uid === dir.uid) return;
  throw new FsError(Errno.EPERM, "the directory is sticky and the entry is not the caller's");
}

/** Throws unless `caller` may remove or rename `entry` out of directory `dir`. */
export function checkRemove(dir: Owned, entry: Owned, caller: Caller): void {
  checkAccess(dir, ACCESS.W_OK | ACCESS.X_OK, caller);
  checkSticky(dir, entry, caller);
}

/** Throws unless `caller` may add an entry to directory `dir`. */
export function checkCreate(dir: Owned, caller: Caller): void {
  checkAccess(dir, ACCESS.W_OK | ACCESS.X_OK, caller);
}

/**
 * Owner, group and permission bits of a new entry of type `type` (S_IF*) made by `caller` in `dir`
 * with requested permission bits `perm` (umask already applied).
 */
export function newEntryOwnership(dir: Owned, type: number, perm: number, caller: Caller): { uid: number; gid: number; mode: number } {
  const setgidDir = (dir.mode & S_ISGID) !== 0;
  const gid = setgidDir ? dir.gid : caller.gid;
  let mode = perm & 0o7777;
  if (type === S_IF.DIR) {
    // mkdir(2) takes only the rwx and sticky bits; a setgid directory passes setgid down.
    mode &= 0o1777;
    if (setgidDir) mode |= S_ISGID;
  } else if ((mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP) && !isRoot(caller) && !inGroup(caller, gid)) {
    mode &= ~S_ISGID;
  }
  return { uid: caller.uid, gid, mode };
}
