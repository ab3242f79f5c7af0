/**
 * @module overlay/host-syscalls — the few host system calls node:fs does not offer, through libc:
 * mknod (whiteouts, FIFOs), the l*xattr family (opaque markers, user xattrs), renameat2 (NOREPLACE,
 * EXCHANGE) and utimensat with nanoseconds and UTIME_NOW. Every call acts on a host path in the upper
 * or CL directory, never on a FUSE mount. Pointers stay inside this file; failures throw `FsError`
 * with the errno libc reported.
 */
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import { Errno, FsError } from "../util/errno.ts";

const libc = dlopen("libc.so.6", {
  __errno_location: { args: [], returns: FFIType.ptr },
  mknod: { args: [FFIType.ptr, FFIType.u32, FFIType.u64], returns: FFIType.i32 },
  lsetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  lgetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  llistxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
  lremovexattr: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  renameat2: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
  utimensat: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  fallocate: { args: [FFIType.i32, FFIType.i32, FFIType.i64, FFIType.i64], returns: FFIType.i32 },
});
const c = libc.symbols;

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const UTIME_NOW = (1 << 30) - 1;
const UTIME_OMIT = (1 << 30) - 2;

/** A NUL-terminated UTF-8 copy of `s`; kept alive by the caller's local variable during the call. */
function cstr(s: string): Buffer {
  const b = Buffer.alloc(Buffer.byteLength(s) + 1);
  b.write(s, "utf8");
  return b;
}

function lastErrno(): number {
  // Read right after the failing call, on the same thread, before any other libc call.
  const p = c.__errno_location();
  return p ? read.i32(p, 0) : Errno.EIO;
}

function fail(what: string, path: string): never {
  const errno = lastErrno();
  throw new FsError(errno || Errno.EIO, `${what} ${path}`);
}

export function mknod(path: string, mode: number, dev: number): void {
  const p = cstr(path);
  if (c.mknod(ptr(p), mode >>> 0, BigInt(dev)) !== 0) fail("mknod", path);
}

export function lsetxattr(path: string, name: string, value: Uint8Array, flags: number): void {
  const p = cstr(path);
  const n = cstr(name);
  const v = value.length > 0 ? value : new Uint8Array(1);
  if (c.lsetxattr(ptr(p), ptr(n), ptr(v), BigInt(value.length), flags) !== 0) fail("setxattr", path);
}

/** The value of xattr `name`, or null when it is not set (ENODATA). */
export function lgetxattr(path: string, name: string): Uint8Array | null {
  const p = cstr(path);
  const n = cstr(name);
  for (let size = 256; ; size *= 4) {
    const buf = new Uint8Array(size);
    const r = Number(c.lgetxattr(ptr(p), ptr(n), ptr(buf), BigInt(size)));
    if (r >= 0) return buf.slice(0, r);
    const e = lastErrno();
    if (e === Errno.ENODATA) return null;
    if (e !== Errno.ERANGE || size > 1 << 20) throw new FsError(e || Errno.EIO, `getxattr ${path}`);
  }
}

export function llistxattr(path: string): string[] {
  const p = cstr(path);
  for (let size = 1024; ; size *= 4) {
    const buf = new Uint8Array(size);
    const r = Number(c.llistxattr(ptr(p), ptr(buf), BigInt(size)));
    if (r >= 0) return r === 0 ? [] : Buffer.from(buf.subarray(0, r)).toString("utf8").split("\0").filter(Boolean);
    const e = lastErrno();
    if (e === Errno.ENOTSUP) return [];
    if (e !== Errno.ERANGE || size > 1 << 20) throw new FsError(e || Errno.EIO, `listxattr ${path}`);
  }
}

export function lremovexattr(path: string, name: string): void {
  const p = cstr(path);
  const n = cstr(name);
  if (c.lremovexattr(ptr(p), ptr(n)) !== 0) fail("removexattr", path);
}

export function renameat2(from: string, to: string, flags: number): void {
  const a = cstr(from);
  const b = cstr(to);
  if (c.renameat2(AT_FDCWD, ptr(a), AT_FDCWD, ptr(b), flags >>> 0) !== 0) fail("rename", from);
}

/** fallocate(2) on an open host fd (preallocate, punch holes, zero ranges: whatever the host supports). */
export function fallocate(fd: number, mode: number, offset: number, length: number): void {
  if (c.fallocate(fd, mode, offset, length) !== 0) fail("fallocate", `fd ${fd}`);
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
  const p = cstr(path);
  if (c.utimensat(AT_FDCWD, ptr(p), ptr(ts), AT_SYMLINK_NOFOLLOW) !== 0) fail("utimensat", path);
}
