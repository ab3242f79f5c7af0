/**
 * @module util/libc — the process's one binding of the C library (on the JS thread): the system calls
 * node:fs does not offer — fcntl, umount2, epoll, mknod, the l*xattr family, renameat2, utimensat,
 * fallocate, lseek (SEEK_DATA/SEEK_HOLE), stat calls into caller buffers, getdents64 — and errno. A Worker is a separate JS context
 * and binds what it needs itself (src/fuse/dispatch.ts, src/fuse/notify.ts).
 */
import { dlopen, FFIType, read } from "bun:ffi";
import { Errno } from "./errno.ts";
import { fsPath } from "./names.ts";

const { i32, u32, i64, u64, ptr: P, void: VOID } = FFIType;

export const libc = dlopen("libc.so.6", {
  __errno_location: { args: [], returns: P },
  free: { args: [P], returns: VOID },
  strlen: { args: [P], returns: u64 },
  fcntl: { args: [i32, i32, i32], returns: i32 },
  umount2: { args: [P, i32], returns: i32 },
  epoll_create1: { args: [i32], returns: i32 },
  epoll_ctl: { args: [i32, i32, i32, P], returns: i32 },
  eventfd: { args: [u32, i32], returns: i32 },
  mknod: { args: [P, u32, u64], returns: i32 },
  lsetxattr: { args: [P, P, P, u64, i32], returns: i32 },
  lgetxattr: { args: [P, P, P, u64], returns: i64 },
  llistxattr: { args: [P, P, u64], returns: i64 },
  lremovexattr: { args: [P, P], returns: i32 },
  renameat2: { args: [i32, P, i32, P, u32], returns: i32 },
  utimensat: { args: [i32, P, P, i32], returns: i32 },
  fallocate: { args: [i32, i32, i64, i64], returns: i32 },
  lseek: { args: [i32, i64, i32], returns: i64 },
  lstat: { args: [P, P], returns: i32 },
  fstat: { args: [i32, P], returns: i32 },
  fstatat: { args: [i32, P, P, i32], returns: i32 },
  getdents64: { args: [i32, P, u64], returns: i64 },
}).symbols;

/** errno of the libc call that just failed: read right after it, before any other libc call. */
export function lastErrno(): number {
  const p = libc.__errno_location();
  return p ? read.i32(p, 0) : Errno.EIO;
}

/**
 * A NUL-terminated copy of a path or name for a C call (its exact bytes, escapes restored: see
 * util/names; a path over PATH_MAX goes through directory fds, see util/long-path); keep it
 * referenced during the call, and make the call right away.
 */
export function cString(s: string): Buffer {
  const p = fsPath(s);
  const bytes = typeof p === "string" ? Buffer.from(p) : p;
  const b = Buffer.alloc(bytes.length + 1);
  bytes.copy(b);
  return b;
}
