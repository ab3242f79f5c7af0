/**
 * @module fuse/ops-table — one descriptor per `fuse_lowlevel_ops` slot: its name, slot index, C
 * argument types and the adapter that copies C arguments into JS values, calls the filesystem and
 * shapes the reply. The ops struct, logging and metrics are all generated from this table.
 *
 * Contract kept here, for every op: arguments that point into libfuse memory (names, `fi`, write
 * data, setattr's stat) are copied before the handler runs; exactly one reply is sent per request.
 */
import { CString, FFIType, read, toArrayBuffer, type Pointer } from "bun:ffi";
import { libc } from "../util/libc.ts";
import { decodeName, NEEDS_EXACT_DECODE } from "../util/names.ts";
import { FILE_INFO, FORGET_DATA, SET_ATTR, STAT } from "./structs.ts";
import type { Replier, ReplyTimeouts } from "./reply.ts";
import type { FileInfo, LowLevelFs, LowLevelOpName, MaybePromise, RequestContext, SetattrChanges } from "./types.ts";

const P = FFIType.ptr;
const i32 = FFIType.i32;
const u32 = FFIType.u32;
const S = FFIType.cstring;
/** A file name or link target: a pointer, decoded by `nameAt` (bytes that are not UTF-8 survive). */
const N = FFIType.ptr;
const U64 = FFIType.u64_fast;
const I64 = FFIType.i64_fast;

/** What an adapter needs from the session that owns it. */
export interface OpRuntime {
  readonly fs: LowLevelFs;
  readonly reply: Replier;
  readonly timeouts: ReplyTimeouts;
  /** `fuse_buf_copy_flags` for spliced read replies; null = reads are copied (see Replier.data). */
  readonly spliceFlags: number | null;
  ctx(req: Pointer): RequestContext;
  /** Calls the handler, then `ok` with its value, or replies with its errno; counts the op. */
  run<T>(op: number, req: Pointer, call: () => MaybePromise<T>, ok: (req: Pointer, value: T) => void): void;
  /** Counts `n` requests of an op that has no reply (forget), for stats. */
  count(op: number, n: number): void;
  onInit(conn: Pointer): void;
  onDestroy(): void;
}

type Adapter = (...args: never[]) => void;

export interface OpDescriptor {
  readonly name: string;
  readonly slot: number;
  readonly args: readonly FFIType[];
  /** The filesystem method that must exist for the slot to be filled; null = always filled. */
  readonly method: LowLevelOpName | null;
  readonly bind: (rt: OpRuntime, op: number) => Adapter;
}

const fh = (fi: Pointer | null): number | undefined => (fi ? read.ptr(fi, FILE_INFO.fh) : undefined);
const fhOf = (fi: Pointer | null): number => (fi ? read.ptr(fi, FILE_INFO.fh) : 0);
const flagsOf = (fi: Pointer | null): number => (fi ? read.i32(fi, FILE_INFO.flags) : 0);
const fileInfo = (fi: Pointer | null): FileInfo => ({ flags: flagsOf(fi), fh: fhOf(fi) });
const copyBytes = (p: Pointer | null, len: number): Uint8Array =>
  p && len > 0 ? new Uint8Array(toArrayBuffer(p, 0, len)).slice() : new Uint8Array(0);
const i64At = (p: Pointer, off: number): number => Number(read.i64(p, off));

/**
 * A NUL-terminated name in libfuse's request buffer, copied out. Bun's C-string decoding is the fast
 * path; it turns bytes that are not UTF-8 into U+FFFD, so then (or when the name holds characters of
 * the escape range) the bytes are decoded again without loss (util/names).
 */
function nameAt(p: Pointer): string {
  const s = new CString(p).toString();
  return NEEDS_EXACT_DECODE.test(s) ? decodeName(new Uint8Array(toArrayBuffer(p, 0, Number(libc.strlen(p))))) : s;
}

function decodeSetattr(attr: Pointer, toSet: number): SetattrChanges {
  const c: SetattrChanges = {};
  if (toSet & SET_ATTR.MODE) c.mode = read.u32(attr, STAT.mode);
  if (toSet & SET_ATTR.UID) c.uid = read.u32(attr, STAT.uid);
  if (toSet & SET_ATTR.GID) c.gid = read.u32(attr, STAT.gid);
  if (toSet & SET_ATTR.SIZE) c.size = i64At(attr, STAT.size_);
  if (toSet & SET_ATTR.ATIME_NOW) c.atime = "now";
  else if (toSet & SET_ATTR.ATIME) c.atime = { sec: i64At(attr, STAT.atimeSec), nsec: i64At(attr, STAT.atimeNsec) };
  if (toSet & SET_ATTR.MTIME_NOW) c.mtime = "now";
  else if (toSet & SET_ATTR.MTIME) c.mtime = { sec: i64At(attr, STAT.mtimeSec), nsec: i64At(attr, STAT.mtimeNsec) };
  if (toSet & SET_ATTR.CTIME) c.ctime = { sec: i64At(attr, STAT.ctimeSec), nsec: i64At(attr, STAT.ctimeNsec) };
  return c;
}

function encodeNames(names: readonly string[]): Uint8Array {
  const parts = names.map((n) => Buffer.from(n + "\0"));
  return Buffer.concat(parts);
}

/** Size of the kernel's min dirent (24-byte header + 8-byte padded name) and direntplus (+128). */
const maxEntriesFor = (size: number, plus: boolean): number => Math.max(1, Math.ceil(size / (plus ? 152 : 32)));

const ERANGE = 34;

export const OPS: readonly OpDescriptor[] = [
  {
    name: "init", slot: 0, args: [P, P], method: null,
    bind: (rt) => ((_userdata: Pointer, conn: Pointer) => rt.onInit(conn)) as Adapter,
  },
  {
    name: "destroy", slot: 1, args: [P], method: null,
    bind: (rt) => (() => rt.onDestroy()) as Adapter,
  },
  {
    name: "lookup", slot: 2, args: [P, U64, N], method: "lookup",
    bind: (rt, op) => ((req: Pointer, parent: number, namePtr: Pointer) => {
      const name = nameAt(namePtr);
      rt.run(op, req, () => rt.fs.lookup!(parent, name, rt.ctx(req)), (r, e) => rt.reply.entryReply(r, e, rt.timeouts));
    }) as Adapter,
  },
  {
    name: "forget", slot: 3, args: [P, U64, U64], method: "forget",
    bind: (rt, op) => ((req: Pointer, ino: number, nlookup: number) => {
      rt.count(op, 1);
      try {
        rt.fs.forget!(ino, nlookup);
      } finally {
        rt.reply.none(req);
      }
    }) as Adapter,
  },
  {
    name: "getattr", slot: 4, args: [P, U64, P], method: "getattr",
    bind: (rt, op) => ((req: Pointer, ino: number, fi: Pointer | null) =>
      rt.run(op, req, () => rt.fs.getattr!(ino, fh(fi), rt.ctx(req)), (r, a) => rt.reply.attr(r, a.attr, a.attrTimeout ?? rt.timeouts.attr))) as Adapter,
  },
  {
    name: "setattr", slot: 5, args: [P, U64, P, i32, P], method: "setattr",
    bind: (rt, op) => ((req: Pointer, ino: number, attr: Pointer, toSet: number, fi: Pointer | null) => {
      const changes = decodeSetattr(attr, toSet);
      const handle = fh(fi);
      rt.run(op, req, () => rt.fs.setattr!(ino, changes, handle, rt.ctx(req)), (r, a) => rt.reply.attr(r, a.attr, a.attrTimeout ?? rt.timeouts.attr));
    }) as Adapter,
  },
  {
    name: "readlink", slot: 6, args: [P, U64], method: "readlink",
    bind: (rt, op) => ((req: Pointer, ino: number) =>
      rt.run(op, req, () => rt.fs.readlink!(ino, rt.ctx(req)), (r, t) => rt.reply.readlink(r, t))) as Adapter,
  },
  {
    name: "mknod", slot: 7, args: [P, U64, N, u32, U64], method: "mknod",
    bind: (rt, op) => ((req: Pointer, parent: number, namePtr: Pointer, mode: number, rdev: number) => {
      const name = nameAt(namePtr);
      rt.run(op, req, () => rt.fs.mknod!(parent, name, mode, rdev, rt.ctx(req)), (r, e) => rt.reply.entryReply(r, e, rt.timeouts));
    }) as Adapter,
  },
  {
    name: "mkdir", slot: 8, args: [P, U64, N, u32], method: "mkdir",
    bind: (rt, op) => ((req: Pointer, parent: number, namePtr: Pointer, mode: number) => {
      const name = nameAt(namePtr);
      rt.run(op, req, () => rt.fs.mkdir!(parent, name, mode, rt.ctx(req)), (r, e) => rt.reply.entryReply(r, e, rt.timeouts));
    }) as Adapter,
  },
  {
    name: "unlink", slot: 9, args: [P, U64, N], method: "unlink",
    bind: (rt, op) => ((req: Pointer, parent: number, namePtr: Pointer) => {
      const name = nameAt(namePtr);
      rt.run(op, req, () => rt.fs.unlink!(parent, name, rt.ctx(req)), (r) => rt.reply.err(r, 0));
    }) as Adapter,
  },
  {
    name: "rmdir", slot: 10, args: [P, U64, N], method: "rmdir",
    bind: (rt, op) => ((req: Pointer, parent: number, namePtr: Pointer) => {
      const name = nameAt(namePtr);
      rt.run(op, req, () => rt.fs.rmdir!(parent, name, rt.ctx(req)), (r) => rt.reply.err(r, 0));
    }) as Adapter,
  },
  {
    name: "symlink", slot: 11, args: [P, N, U64, N], method: "symlink",
    bind: (rt, op) => ((req: Pointer, targetPtr: Pointer, parent: number, namePtr: Pointer) => {
      const target = nameAt(targetPtr);
      const name = nameAt(namePtr);
      rt.run(op, req, () => rt.fs.symlink!(target, parent, name, rt.ctx(req)), (r, e) => rt.reply.entryReply(r, e, rt.timeouts));
    }) as Adapter,
  },
  {
    name: "rename", slot: 12, args: [P, U64, N, U64, N, u32], method: "rename",
    bind: (rt, op) => ((req: Pointer, parent: number, namePtr: Pointer, newParent: number, newNamePtr: Pointer, flags: number) => {
      const name = nameAt(namePtr);
      const newName = nameAt(newNamePtr);
      rt.run(op, req, () => rt.fs.rename!(parent, name, newParent, newName, flags, rt.ctx(req)), (r) => rt.reply.err(r, 0));
    }) as Adapter,
  },
  {
    name: "link", slot: 13, args: [P, U64, U64, N], method: "link",
    bind: (rt, op) => ((req: Pointer, ino: number, newParent: number, newNamePtr: Pointer) => {
      const newName = nameAt(newNamePtr);
      rt.run(op, req, () => rt.fs.link!(ino, newParent, newName, rt.ctx(req)), (r, e) => rt.reply.entryReply(r, e, rt.timeouts));
    }) as Adapter,
  },
  {
    name: "open", slot: 14, args: [P, U64, P], method: "open",
    bind: (rt, op) => ((req: Pointer, ino: number, fi: Pointer) => {
      const flags = flagsOf(fi);
      rt.run(op, req, () => rt.fs.open!(ino, flags, rt.ctx(req)), (r, o) => rt.reply.open(r, o, flags));
    }) as Adapter,
  },
  {
    name: "read", slot: 15, args: [P, U64, U64, I64, P], method: "read",
    bind: (rt, op) => ((req: Pointer, ino: number, size: number, off: number, fi: Pointer) => {
      const handle = fhOf(fi);
      rt.run(op, req, () => rt.fs.read!(ino, size, off, handle, rt.ctx(req)), (r, d) => rt.reply.data(r, d, rt.spliceFlags));
    }) as Adapter,
  },
  {
    name: "write", slot: 16, args: [P, U64, P, U64, I64, P], method: "write",
    bind: (rt, op) => ((req: Pointer, ino: number, buf: Pointer, size: number, off: number, fi: Pointer) => {
      const data = copyBytes(buf, size);
      const info = fileInfo(fi);
      rt.run(op, req, () => rt.fs.write!(ino, data, off, info, rt.ctx(req)), (r, n) => rt.reply.write(r, n));
    }) as Adapter,
  },
  {
    name: "flush", slot: 17, args: [P, U64, P], method: "flush",
    bind: (rt, op) => ((req: Pointer, ino: number, fi: Pointer) => {
      const handle = fhOf(fi);
      rt.run(op, req, () => rt.fs.flush!(ino, handle, rt.ctx(req)), (r) => rt.reply.err(r, 0));
    }) as Adapter,
  },
  {
    name: "release", slot: 18, args: [P, U64, P], method: "release",
    bind: (rt, op) => ((req: Pointer, ino: number, fi: Pointer) => {
      const info = fileInfo(fi);
      rt.run(op, req, () => rt.fs.release!(ino, info), (r) => rt.reply.err(r, 0));
    }) as Adapter,
  },
  {
    name: "fsync", slot: 19, args: [P, U64, i32, P], method: "fsync",
    bind: (rt, op) => ((req: Pointer, ino: number, datasync: number, fi: Pointer) => {
      const handle = fhOf(fi);
      rt.run(op, req, () => rt.fs.fsync!(ino, datasync !== 0, handle), (r) => rt.reply.err(r, 0));
    }) as Adapter,
  },
  {
    name: "opendir", slot: 20, args: [P, U64, P], method: "opendir",
    bind: (rt, op) => ((req: Pointer, ino: number, fi: Pointer) => {
      const flags = flagsOf(fi);
      rt.run(op, req, () => rt.fs.opendir!(ino, flags, rt.ctx(req)), (r, o) => rt.reply.open(r, o, flags));
    }) as Adapter,
  },
  {
    name: "readdir", slot: 21, args: [P, U64, U64, I64, P], method: "readdir",
    bind: (rt, op) => ((req: Pointer, ino: number, size: number, off: number, fi: Pointer) => {
      const handle = fhOf(fi);
      rt.run(op, req, () => rt.fs.readdir!(ino, handle, off, maxEntriesFor(size, false), rt.ctx(req)),
        (r, entries) => void rt.reply.dir(r, size, entries, false, rt.timeouts));
    }) as Adapter,
  },
  {
    name: "releasedir", slot: 22, args: [P, U64, P], method: "releasedir",
    bind: (rt, op) => ((req: Pointer, ino: number, fi: Pointer) => {
      const handle = fhOf(fi);
      rt.run(op, req, () => rt.fs.releasedir!(ino, handle), (r) => rt.reply.err(r, 0));
    }) as Adapter,
  },
  {
    name: "fsyncdir", slot: 23, args: [P, U64, i32, P], method: "fsyncdir",
    bind: (rt, op) => ((req: Pointer, ino: number, datasync: number, fi: Pointer) => {
      const handle = fhOf(fi);
      rt.run(op, req, () => rt.fs.fsyncdir!(ino, datasync !== 0, handle), (r) => rt.reply.err(r, 0));
    }) as Adapter,
  },
  {
    name: "statfs", slot: 24, args: [P, U64], method: "statfs",
    bind: (rt, op) => ((req: Pointer, ino: number) =>
      rt.run(op, req, () => rt.fs.statfs!(ino), (r, s) => rt.reply.statfs(r, s))) as Adapter,
  },
  {
    name: "setxattr", slot: 25, args: [P, U64, S, P, U64, i32], method: "setxattr",
    bind: (rt, op) => ((req: Pointer, ino: number, name: string, value: Pointer, size: number, flags: number) => {
      const bytes = copyBytes(value, size);
      rt.run(op, req, () => rt.fs.setxattr!(ino, name, bytes, flags, rt.ctx(req)), (r) => rt.reply.err(r, 0));
    }) as Adapter,
  },
  {
    name: "getxattr", slot: 26, args: [P, U64, S, U64], method: "getxattr",
    bind: (rt, op) => ((req: Pointer, ino: number, name: string, size: number) =>
      rt.run(op, req, () => rt.fs.getxattr!(ino, name, size, rt.ctx(req)), (r, v) => {
        if (!(v instanceof Uint8Array)) return rt.reply.xattrSize(r, v.size);
        if (size === 0) return rt.reply.xattrSize(r, v.byteLength);
        if (v.byteLength > size) return rt.reply.err(r, ERANGE);
        rt.reply.buf(r, v);
      })) as Adapter,
  },
  {
    name: "listxattr", slot: 27, args: [P, U64, U64], method: "listxattr",
    bind: (rt, op) => ((req: Pointer, ino: number, size: number) =>
      rt.run(op, req, () => rt.fs.listxattr!(ino, rt.ctx(req)), (r, names) => {
        const bytes = encodeNames(names);
        if (size === 0) return rt.reply.xattrSize(r, bytes.byteLength);
        if (bytes.byteLength > size) return rt.reply.err(r, ERANGE);
        rt.reply.buf(r, bytes);
      })) as Adapter,
  },
  {
    name: "removexattr", slot: 28, args: [P, U64, S], method: "removexattr",
    bind: (rt, op) => ((req: Pointer, ino: number, name: string) =>
      rt.run(op, req, () => rt.fs.removexattr!(ino, name, rt.ctx(req)), (r) => rt.reply.err(r, 0))) as Adapter,
  },
  {
    name: "access", slot: 29, args: [P, U64, i32], method: "access",
    bind: (rt, op) => ((req: Pointer, ino: number, mask: number) =>
      rt.run(op, req, () => rt.fs.access!(ino, mask, rt.ctx(req)), (r) => rt.reply.err(r, 0))) as Adapter,
  },
  {
    name: "create", slot: 30, args: [P, U64, N, u32, P], method: "create",
    bind: (rt, op) => ((req: Pointer, parent: number, namePtr: Pointer, mode: number, fi: Pointer) => {
      const name = nameAt(namePtr);
      const flags = flagsOf(fi);
      rt.run(op, req, () => rt.fs.create!(parent, name, mode, flags, rt.ctx(req)), (r, c) => rt.reply.create(r, c, flags, rt.timeouts));
    }) as Adapter,
  },
  {
    name: "forget_multi", slot: 38, args: [P, U64, P], method: "forget",
    bind: (rt, op) => ((req: Pointer, count: number, forgets: Pointer) => {
      rt.count(op, count);
      try {
        for (let i = 0; i < count; i++) {
          const base = i * FORGET_DATA.size;
          rt.fs.forget!(read.ptr(forgets, base + FORGET_DATA.ino), read.ptr(forgets, base + FORGET_DATA.nlookup));
        }
      } finally {
        rt.reply.none(req);
      }
    }) as Adapter,
  },
  {
    name: "fallocate", slot: 40, args: [P, U64, i32, I64, I64, P], method: "fallocate",
    bind: (rt, op) => ((req: Pointer, ino: number, mode: number, off: number, len: number, fi: Pointer) => {
      const handle = fhOf(fi);
      rt.run(op, req, () => rt.fs.fallocate!(ino, mode, off, len, handle), (r) => rt.reply.err(r, 0));
    }) as Adapter,
  },
  {
    name: "readdirplus", slot: 41, args: [P, U64, U64, I64, P], method: "readdirplus",
    bind: (rt, op) => ((req: Pointer, ino: number, size: number, off: number, fi: Pointer) => {
      const handle = fhOf(fi);
      rt.run(op, req, () => rt.fs.readdirplus!(ino, handle, off, maxEntriesFor(size, true), rt.ctx(req)), (r, entries) => {
        const sent = rt.reply.dir(r, size, entries, true, rt.timeouts);
        // The filesystem took a reference for every entry it returned; give back those the kernel never saw.
        for (let i = sent; i < entries.length; i++) {
          const e = entries[i]!;
          if (e.entry && rt.fs.forget) rt.fs.forget(e.entry.ino, 1);
        }
      });
    }) as Adapter,
  },
  {
    name: "copy_file_range", slot: 42, args: [P, U64, I64, P, U64, I64, P, U64, i32], method: "copyFileRange",
    bind: (rt, op) => ((req: Pointer, inoIn: number, offIn: number, fiIn: Pointer, inoOut: number, offOut: number, fiOut: Pointer, len: number, flags: number) => {
      const fhIn = fhOf(fiIn);
      const fhOut = fhOf(fiOut);
      rt.run(op, req, () => rt.fs.copyFileRange!(inoIn, offIn, fhIn, inoOut, offOut, fhOut, len, flags), (r, n) => rt.reply.write(r, n));
    }) as Adapter,
  },
  {
    name: "lseek", slot: 43, args: [P, U64, I64, i32, P], method: "lseek",
    bind: (rt, op) => ((req: Pointer, ino: number, off: number, whence: number, fi: Pointer) => {
      const handle = fhOf(fi);
      rt.run(op, req, () => rt.fs.lseek!(ino, off, whence, handle), (r, o) => rt.reply.lseek(r, o));
    }) as Adapter,
  },
];

export const OP_NAMES: readonly string[] = OPS.map((o) => o.name);
