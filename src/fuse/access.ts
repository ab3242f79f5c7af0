/**
 * @module fuse/access — the permission check of access(2) (R_OK/W_OK/X_OK against mode, owner and
 * group), for filesystems mounted without `default_permissions`, where the kernel asks the
 * filesystem, and for the checks a filesystem repeats itself (fuse/permissions). Root may read and
 * write anything and execute what has any x bit (or is a directory). The group class applies when
 * the entry's group is the caller's primary group or one of its supplementary groups.
 */
import { Errno, FsError } from "../util/errno.ts";
import { S_IF } from "./structs.ts";
import type { Attr, RequestContext } from "./types.ts";

export const ACCESS = { F_OK: 0, X_OK: 1, W_OK: 2, R_OK: 4 } as const;

/** Who asks: the request's uid, gid and (when known) supplementary groups. */
export type Caller = Pick<RequestContext, "uid" | "gid" | "groups">;

/** True when `gid` is the caller's primary group or one of its supplementary groups. */
export function inGroup(ctx: Caller, gid: number): boolean {
  return ctx.gid === gid || (ctx.groups?.includes(gid) ?? false);
}

/** Throws EACCES when `ctx` may not access an entry with `attr` for `mask`. */
export function checkAccess(attr: Pick<Attr, "mode" | "uid" | "gid">, mask: number, ctx: Caller): void {
  if (mask === ACCESS.F_OK) return;
  const isDir = (attr.mode & S_IF.MT) === S_IF.DIR;
  if (ctx.uid === 0) {
    if (mask & ACCESS.X_OK && !isDir && (attr.mode & 0o111) === 0) throw new FsError(Errno.EACCES, "no execute bit is set");
    return;
  }
  const shift = ctx.uid === attr.uid ? 6 : inGroup(ctx, attr.gid) ? 3 : 0;
  const granted = (attr.mode >> shift) & 0o7;
  if ((mask & 0o7 & ~granted) !== 0) throw new FsError(Errno.EACCES);
}
