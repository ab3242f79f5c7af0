/**
 * @module overlay/host-syscalls — the few host system calls node:fs does not offer, through libc:
 * mknod (whiteouts, FIFOs), the l*xattr family (opaque markers, user xattrs), renameat2 (NOREPLACE,
 * EXCHANGE), utimensat with nanoseconds and UTIME_NOW, fallocate and lseek (SEEK_DATA/SEEK_HOLE), over the binding in util/libc. Every call acts on a host path in the upper
 * or CL directory, never on a FUSE mount. Pointers stay inside this file; failures throw `FsError`
 * with the errno libc reported.
 */
import { ptr } from "bun:ffi";
import { Errno, FsError } from "../util/errno.ts";
import { cString, lastErrno, libc } from "../util/libc.ts";

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const UTIME_NOW = (1 << 30) - 1;
const UTIME_OMIT = (1 << 30) - 2;

function fail(what: string, path: string): never {
  const errno = lastErrno();
  throw new FsError(errno || Errno.EIO, `${what} ${path}`);
}

export function mknod(path: string, mode: number, dev: number): void {
  const p = cString(path);
  if (libc.mknod(ptr(p), mode >>> 0, BigInt(dev)) !== 0) fail("mknod", path);
}

export function lsetxattr(path: string, name: string, value: Uint8Array, flags: number): void {
  const p = cString(path);
  const n = cString(name);
  const v = value.length > 0 ? value : new Uint8Array(1);
  if (libc.lsetxattr(ptr(p), ptr(n), ptr(v), BigInt(value.length), flags) !== 0) fail("setxattr", path);
}

/** The value of xattr `name`, or null when it is not set (ENODATA). */
export function lgetxattr(path: string, name: string): Uint8Array | null {
  const p = cString(path);
  const n = cString(name);
  for (let size = 256; ; size *= 4) {
    const buf = new Uint8Array(size);
    const r = Number(libc.lgetxattr(ptr(p), ptr(n), ptr(buf), BigInt(size)));
    if (r >= 0) return buf.slice(0, r);
    const e = lastErrno();
    if (e === Errno.ENODATA) return null;
    if (e !== Errno.ERANGE || size > 1 << 20) throw new FsError(e || Errno.EIO, `getxattr ${path}`);
  }
}

export function llistxattr(path: string): string[] {
  const p = cString(path);
  for (let size = 1024; ; size *= 4) {
    const buf = new Uint8Array(size);
    const r = Number(libc.llistxattr(ptr(p), ptr(buf), BigInt(size)));
    if (r >= 0) return r === 0 ? [] : Buffer.from(buf.subarray(0, r)).toString("utf8").split("\0").filter(Boolean);
    const e = lastErrno();
    if (e === Errno.ENOTSUP) return [];
    if (e !== Errno.ERANGE || size > 1 << 20) throw new FsError(e || Errno.EIO, `listxattr ${path}`);
  }
}

export function lremovexattr(path: string, name: string): void {
  const p = cString(path);
  const n = cString(name);
  if (libc.lremovexattr(ptr(p), ptr(n)) !== 0) fail("removexattr", path);
}

export function renameat2(from: string, to: string, flags: number): void {
  const a = cString(from);
  const b = cString(to);
  if (libc.renameat2(AT_FDCWD, ptr(a), AT_FDCWD, ptr(b), flags >>> 0) !== 0) fail("rename", from);
}

/** fallocate(2) on an open host fd (preallocate, punch holes, zero ranges: whatever the host supports). */
export function fallocate(fd: number, mode: number, offset: number, length: number): void {
  if (libc.fallocate(fd, mode, offset, length) !== 0) fail("fallocate", `fd ${fd}`);
}

/** lseek(2) on a host fd: the overlay asks only for SEEK_DATA / SEEK_HOLE, the host knows the holes. */
export function lseek(fd: number, offset: number, whence: number): number {
  const r = Number(libc.lseek(fd, offset, whence));
  if (r < 0) fail("lseek", `fd ${fd}`);
  return r;
}

export type TimeSpec = { sec: number; nsec: number } | "now" | "omit";

/** utimensat(AT_SYMLINK_NOFOLLOW): sets times of the entry itself, symlinks included. */
export function lutimens(path: string, atime: TimeSpec, mtime: TimeSpec): void {
  const ts = new BigInt64Array(4);
  const put = (i: number, t: TimeSpec) => {
    if (t === "now") { ts[i] = 0n; ts[i + 1] = BigInt(UTIME_NOW); }
    else if (t === "omit") { ts[i] = 0n; ts[i + 1] = BigInt(UTIME_OMIT); }
    else { ts[i] = BigInt(Math.trunc(t.sec)); ts[i + 1] = BigInt(t.nsec); }
  };
  put(0, atime);
  put(2, mtime);
  const p = cString(path);
  if (libc.utimensat(AT_FDCWD, ptr(p), ptr(ts), AT_SYMLINK_NOFOLLOW) !== 0) fail("utimensat", path);
}
