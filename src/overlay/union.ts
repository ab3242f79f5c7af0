/**
 * @module overlay/union — the union's operations on merged-tree paths: create, mkdir, mknod,
 * symlink, link, unlink, rmdir, rename (incl. NOREPLACE / EXCHANGE), setattr, xattrs and opening.
 * Each returns data or throws `FsError`; none knows of inode numbers, lookup counts or FUSE replies
 * (overlay-fs.ts does). Writes go to the upper directory only: entries of the CL and lower layers
 * are copied up first, and deleting or moving them leaves a whiteout.
 */
import { chmodSync, fchmodSync, fchownSync, ftruncateSync, lchownSync, linkSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, symlinkSync, truncateSync, type BigIntStats } from "node:fs";
import { O, RENAME, S_IF, type SetattrChanges } from "../fuse/index.ts";
import { Errno, FsError } from "../util/errno.ts";
import { fsPath } from "../util/names.ts";
import { CopyUp } from "./copy-up.ts";
import { lgetxattr, llistxattr, lremovexattr, lsetxattr, lutimens, mknod, renameat2, type TimeSpec } from "./host-syscalls.ts";
import { joinRel, splitRel, type Layers, type Resolved } from "./layers.ts";
import { clearWhiteout, isPrivateName, isPrivateXattr, writeOpaque, writeWhiteout, type WhiteoutFormat } from "./whiteout.ts";

const O_DIRECT = 0o40000;
const O_NOCTTY = 0o400;
/** Flags that only make sense for the open that creates a file, or that the host must not see. */
const STRIP_ON_OPEN = O.CREAT | O.EXCL | O_NOCTTY | O_DIRECT;

export interface Owner {
  uid: number;
  gid: number;
}

const IS_ROOT = process.getuid?.() === 0;

/**
 * New entries belong to the caller when the daemon is allowed to give them away (the owner comes
 * from the request's credentials, never from anything the caller names). Done before the mode is
 * set: a chown clears setuid/setgid.
 */
function setOwner(path: string, owner: Owner | null): void {
  if (IS_ROOT && owner && (owner.uid !== 0 || owner.gid !== 0)) lchownSync(fsPath(path), owner.uid, owner.gid);
}

function checkName(name: string): void {
  if (isPrivateName(name)) throw new FsError(Errno.EPERM, `names starting with ".wh." are reserved by the overlay: ${name}`);
  if (name.length > 255) throw new FsError(Errno.ENAMETOOLONG);
}

export class Union {
  readonly copyUp: CopyUp;

  constructor(readonly layers: Layers, readonly format: () => WhiteoutFormat) {
    this.copyUp = new CopyUp(layers, format);
  }

  resolve(rel: string): Promise<Resolved | null> {
    return this.layers.resolve(rel);
  }

  async mustResolve(rel: string): Promise<Resolved> {
    const r = await this.layers.resolve(rel);
    if (!r) throw new FsError(Errno.ENOENT, rel);
    return r;
  }

  /** Upper host path for a new name `name` in `parentRel`; EEXIST when the merged tree has it. */
  private async placeName(parentRel: string, name: string): Promise<{ rel: string; path: string; clearedWhiteout: boolean }> {
    checkName(name);
    const rel = joinRel(parentRel, name);
    if (await this.layers.resolve(rel)) throw new FsError(Errno.EEXIST, rel);
    await this.copyUp.dir(parentRel);
    const path = this.layers.upperPath(rel);
    const clearedWhiteout = clearWhiteout(path);
    this.layers.invalidate();
    return { rel, path, clearedWhiteout };
  }

  /**
   * Creates and opens a regular file with permission bits `mode` (umask already applied); an
   * existing one is opened instead unless O_EXCL.
   */
  async create(parentRel: string, name: string, mode: number, flags: number, owner: Owner | null): Promise<{ rel: string; fd: number }> {
    const rel = joinRel(parentRel, name);
    const existing = await this.layers.resolve(rel);
    if (existing) {
      if (flags & O.EXCL) throw new FsError(Errno.EEXIST, rel);
      return { rel, fd: await this.openWrite(existing, flags) };
    }
    const { path } = await this.placeName(parentRel, name);
    const fd = openSync(fsPath(path), (flags & ~STRIP_ON_OPEN) | O.CREAT | O.EXCL, mode & 0o777);
    if (IS_ROOT && owner && (owner.uid !== 0 || owner.gid !== 0)) fchownSync(fd, owner.uid, owner.gid);
    // The daemon's own umask also applied; set exactly what the caller asked for.
    fchmodSync(fd, mode & 0o7777);
    return { rel, fd };
  }

  /** A directory with permission bits `mode` (umask already applied). */
  async mkdir(parentRel: string, name: string, mode: number, owner: Owner | null): Promise<string> {
    const { rel, path, clearedWhiteout } = await this.placeName(parentRel, name);
    mkdirSync(fsPath(path), 0o700);
    setOwner(path, owner);
    chmodSync(fsPath(path), mode & 0o7777);
    // Re-creating a deleted directory: the old lower contents must stay hidden.
    if (clearedWhiteout || (await this.lowerContributes(rel))) writeOpaque(path, this.format());
    this.layers.invalidate();
    return rel;
  }

  private async lowerContributes(rel: string): Promise<boolean> {
    this.layers.invalidate();
    const r = await this.layers.resolve(rel);
    return r?.dir !== null && r?.dir !== undefined && (r.dir.cl !== null || r.dir.lower !== null);
  }

  /** A special file; `mode` is its type and permission bits (umask already applied). */
  async mknod(parentRel: string, name: string, mode: number, rdev: number, owner: Owner | null): Promise<string> {
    const { rel, path } = await this.placeName(parentRel, name);
    const type = mode & S_IF.MT;
    if (type === S_IF.CHR && rdev === 0) throw new FsError(Errno.EPERM, "a 0/0 character device is a whiteout");
    mknod(path, type | (mode & 0o777), rdev);
    setOwner(path, owner);
    chmodSync(fsPath(path), mode & 0o7777);
    this.layers.invalidate();
    return rel;
  }

  async symlink(target: string, parentRel: string, name: string, owner: Owner | null): Promise<string> {
    const { rel, path } = await this.placeName(parentRel, name);
    symlinkSync(fsPath(target), fsPath(path));
    setOwner(path, owner);
    this.layers.invalidate();
    return rel;
  }

  /** A second name for `srcRel`; both names end up in upper. Returns the new path and host stat. */
  async link(srcRel: string, parentRel: string, name: string): Promise<{ rel: string; st: BigIntStats }> {
    const src = await this.mustResolve(srcRel);
    if (src.kind === "dir") throw new FsError(Errno.EPERM, "hard links to directories are not allowed");
    const srcUp = await this.copyUp.entry(src);
    const { rel, path } = await this.placeName(parentRel, name);
    linkSync(fsPath(srcUp), fsPath(path));
    this.layers.invalidate();
    return { rel, st: lstatSync(fsPath(path), { bigint: true }) };
  }

  async unlink(rel: string): Promise<void> {
    const r = await this.mustResolve(rel);
    if (r.kind === "dir") throw new FsError(Errno.EISDIR, rel);
    await this.remove(r);
  }

  async rmdir(rel: string): Promise<void> {
    if (rel === "") throw new FsError(Errno.EBUSY);
    const r = await this.mustResolve(rel);
    if (r.kind !== "dir") throw new FsError(Errno.ENOTDIR, rel);
    if (!(await this.layers.isEmpty(r.dir!))) throw new FsError(Errno.ENOTEMPTY, rel);
    await this.remove(r);
  }

  /** Removes the upper entry (a directory holds only markers by now) and hides the lower ones. */
  private async remove(r: Resolved): Promise<void> {
    const up = this.layers.upperPath(r.rel);
    if (r.upper) rmSync(fsPath(up), { recursive: r.kind === "dir", force: true });
    if (r.below) {
      await this.copyUp.dir(splitRel(r.rel).parent);
      writeWhiteout(up, this.format());
    }
    this.layers.invalidate();
  }

  async rename(from: string, to: string, flags: number): Promise<void> {
    if (flags & ~(RENAME.NOREPLACE | RENAME.EXCHANGE)) throw new FsError(Errno.EINVAL, "unsupported rename flags");
    if ((flags & RENAME.NOREPLACE) && (flags & RENAME.EXCHANGE)) throw new FsError(Errno.EINVAL);
    checkName(splitRel(to).name);
    const src = await this.mustResolve(from);
    if (to.startsWith(from + "/")) throw new FsError(Errno.EINVAL, "cannot move a directory into itself");
    const dst = await this.layers.resolve(to);
    if (flags & RENAME.EXCHANGE) {
      if (!dst) throw new FsError(Errno.ENOENT, to);
      if (from.startsWith(to + "/")) throw new FsError(Errno.EINVAL);
      return this.exchange(src, dst);
    }
    if (dst && (flags & RENAME.NOREPLACE)) throw new FsError(Errno.EEXIST, to);
    if (from === to) return;
    if (dst) {
      if (src.kind === "dir") {
        if (dst.kind !== "dir") throw new FsError(Errno.ENOTDIR, to);
        if (!(await this.layers.isEmpty(dst.dir!))) throw new FsError(Errno.ENOTEMPTY, to);
      } else if (dst.kind === "dir") throw new FsError(Errno.EISDIR, to);
      // Two names of one host file: POSIX says rename does nothing.
      if (src.upper && dst.upper && src.upper.st.ino === dst.upper.st.ino && src.upper.st.dev === dst.upper.st.dev) return;
    }
    if (src.kind === "dir") await this.copyUp.tree(from);
    else await this.copyUp.entry(src);
    await this.copyUp.dir(splitRel(to).parent);
    const srcUp = this.layers.upperPath(from);
    const dstUp = this.layers.upperPath(to);
    if (dst?.upper && dst.kind === "dir") rmSync(fsPath(dstUp), { recursive: true, force: true });
    clearWhiteout(dstUp);
    renameSync(fsPath(srcUp), fsPath(dstUp));
    if (src.below) writeWhiteout(srcUp, this.format());
    if (src.kind === "dir" && (await this.lowerContributes(to))) writeOpaque(dstUp, this.format());
    this.layers.invalidate();
  }

  private async exchange(a: Resolved, b: Resolved): Promise<void> {
    for (const r of [a, b]) {
      if (r.kind === "dir") await this.copyUp.tree(r.rel);
      else await this.copyUp.entry(r);
    }
    renameat2(this.layers.upperPath(a.rel), this.layers.upperPath(b.rel), RENAME.EXCHANGE);
    for (const r of [a, b]) {
      const moved = r.rel === a.rel ? b : a;
      if (moved.kind === "dir" && (await this.lowerContributes(r.rel))) writeOpaque(this.layers.upperPath(r.rel), this.format());
    }
    this.layers.invalidate();
  }

  /** Opens an entry for writing (copying it up first); returns a host fd. */
  async openWrite(r: Resolved, flags: number): Promise<number> {
    if (r.kind === "dir") throw new FsError(Errno.EISDIR, r.rel);
    const up = await this.copyUp.entry(r);
    return openSync(fsPath(up), flags & ~STRIP_ON_OPEN);
  }

  /** Applies attribute changes to the upper copy (copying up first). `fd`, when given, is an open host fd. */
  async setattr(rel: string, ch: SetattrChanges, fd: number | null): Promise<void> {
    const r = await this.mustResolve(rel);
    const up = await this.copyUp.entry(r);
    // chown first: on the host it clears setuid/setgid, which a mode sent in the same request restores or confirms.
    if (ch.uid !== undefined || ch.gid !== undefined) lchownSync(fsPath(up), ch.uid ?? -1, ch.gid ?? -1);
    if (ch.mode !== undefined && r.kind !== "symlink") chmodSync(fsPath(up), ch.mode & 0o7777);
    if (ch.size !== undefined) {
      if (r.kind === "dir") throw new FsError(Errno.EISDIR, rel);
      if (fd !== null) ftruncateSync(fd, ch.size);
      else truncateSync(fsPath(up), ch.size);
    }
    if (ch.atime !== undefined || ch.mtime !== undefined) {
      const t = (v: SetattrChanges["atime"]): TimeSpec => (v === undefined ? "omit" : v);
      lutimens(up, t(ch.atime), t(ch.mtime));
    }
    this.layers.invalidate();
  }

  // ---- xattrs: user-visible ones only; the overlay's own markers stay hidden -------------------

  async getxattr(rel: string, name: string): Promise<Uint8Array> {
    if (isPrivateXattr(name)) throw new FsError(Errno.ENODATA);
    const r = await this.mustResolve(rel);
    const host = r.upper ?? (r.top === "cl" ? r.cl : null);
    const v = host ? lgetxattr(host.path, name) : null;
    if (v === null) throw new FsError(Errno.ENODATA);
    return v;
  }

  async listxattr(rel: string): Promise<string[]> {
    const r = await this.mustResolve(rel);
    const host = r.upper ?? (r.top === "cl" ? r.cl : null);
    return host ? llistxattr(host.path).filter((n) => !isPrivateXattr(n)) : [];
  }

  async setxattr(rel: string, name: string, value: Uint8Array, flags: number): Promise<void> {
    if (isPrivateXattr(name)) throw new FsError(Errno.EPERM, `${name} is reserved by the overlay`);
    const up = await this.copyUp.entry(await this.mustResolve(rel));
    lsetxattr(up, name, value, flags);
  }

  async removexattr(rel: string, name: string): Promise<void> {
    if (isPrivateXattr(name)) throw new FsError(Errno.EPERM, `${name} is reserved by the overlay`);
    const r = await this.mustResolve(rel);
    if (!r.upper && !(r.top === "cl" && r.cl && lgetxattr(r.cl.path, name) !== null)) throw new FsError(Errno.ENODATA);
    lremovexattr(await this.copyUp.entry(r), name);
  }
}
