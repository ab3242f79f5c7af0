/**
 * @module fuse/reply — turns typed replies into libfuse reply calls. Every `fuse_reply_*` copies its
 * arguments before returning, so one set of scratch buffers serves every request of every session
 * (all replies happen on the JS thread).
 */
import { ptr, type Pointer } from "bun:ffi";
import { readSync } from "node:fs";
import { nativeBuffer, type NativeBuffer } from "./memory.ts";
import { encodeName, hasEscapes } from "../util/names.ts";
import { encodeDirents } from "./dirents.ts";
import { put64, writeStat } from "./encode.ts";
import type { Libfuse } from "./libfuse.ts";
import { ENTRY_PARAM, FILE_INFO, FI_BIT, FUSE_BUF, FUSE_BUFVEC, FUSE_BUF_COPY, FUSE_BUF_FLAG, STAT, STATVFS } from "./structs.ts";
import type { AttrSource, CreateReply, DirEntry, DirEntryPlus, EntryReply, NegativeEntryReply, OpenReply, ReadReply, StatfsReply } from "./types.ts";

export interface ReplyTimeouts {
  attr: number;
  entry: number;
}

const MAX_NAME = 4096;
/** With splicing on, fd-backed reads up to this size are still copied (a splice costs more for a few KiB). */
const SMALL_FD_READ = 32 * 1024;
/**
 * The read buffer grows to the largest fd-backed read seen, up to this; larger reads (the kernel
 * never asks for more than max_read, 1 MiB today) go through libfuse's own copy.
 */
const MAX_READ_BUFFER = 16 * 1024 * 1024;

/**
 * Reply buffers shared by every session of the process: replies are built and sent synchronously on
 * the one JS thread, so a process with a hundred mounts still holds one of each. fd-backed reads are
 * pread into `read`; directory listings are encoded into `dir` (with its 32-bit word view).
 */
const shared = { read: nativeBuffer(128 * 1024), dir: dirBuffer(128 * 1024) };

/** A native buffer with a 32-bit word view of it, for the directory encoder. */
function dirBuffer(size: number): NativeBuffer & { words: Uint32Array } {
  const nb = nativeBuffer(size);
  return { ...nb, words: new Uint32Array(nb.bytes.buffer, 0, size >>> 2) };
}

export class Replier {
  private readonly stat = nativeBuffer(STAT.size);
  private readonly entry = nativeBuffer(ENTRY_PARAM.size);
  private readonly fi = nativeBuffer(FILE_INFO.alloc);
  private readonly statvfs = nativeBuffer(STATVFS.size);
  private readonly name = nativeBuffer(MAX_NAME * 4 + 1);
  private readonly bufvec = nativeBuffer(FUSE_BUFVEC.size + FUSE_BUF.alloc);

  constructor(private readonly lib: Libfuse) {}

  err(req: Pointer, errno: number): void {
    this.lib.fuse.fuse_reply_err(req, errno);
  }

  none(req: Pointer): void {
    this.lib.fuse.fuse_reply_none(req);
  }

  attr(req: Pointer, attr: AttrSource, timeout: number): void {
    writeStat(this.stat.bytes, attr);
    this.lib.fuse.fuse_reply_attr(req, this.stat.ptr, timeout);
  }

  entryReply(req: Pointer, e: EntryReply | NegativeEntryReply, t: ReplyTimeouts): void {
    this.fillEntry(e, t);
    this.lib.fuse.fuse_reply_entry(req, this.entry.ptr);
  }

  create(req: Pointer, c: CreateReply, flags: number, t: ReplyTimeouts): void {
    this.fillEntry(c, t);
    this.fillFileInfo(flags, c);
    this.lib.fuse.fuse_reply_create(req, this.entry.ptr, this.fi.ptr);
  }

  open(req: Pointer, o: OpenReply, flags: number): void {
    this.fillFileInfo(flags, o);
    this.lib.fuse.fuse_reply_open(req, this.fi.ptr);
  }

  readlink(req: Pointer, target: string | Uint8Array): void {
    const n = this.putCString(target);
    if (n < 0) return this.err(req, 36 /* ENAMETOOLONG */);
    this.lib.fuse.fuse_reply_readlink(req, this.name.ptr);
  }

  write(req: Pointer, count: number): void {
    this.lib.fuse.fuse_reply_write(req, count);
  }

  buf(req: Pointer, data: Uint8Array): void {
    // ptr() of an empty view throws: an empty reply is a NULL pointer with size 0.
    if (data.byteLength === 0) this.lib.fuse.fuse_reply_buf(req, null, 0);
    else this.lib.fuse.fuse_reply_buf(req, ptr(data), data.byteLength);
  }

  /**
   * Replies to a read. An fd-backed range is pread into the reused read buffer and sent from there:
   * measured faster than libfuse's splice and than its own copy (which mallocs a buffer per read),
   * at 128 KiB page-cache reads and 1 MiB direct-I/O reads alike (docs/benchmarks.md). With
   * `spliceFlags` (the session's `splice` option), ranges over 32 KiB are spliced by libfuse instead.
   */
  data(req: Pointer, r: ReadReply, spliceFlags: number | null): void {
    if (r instanceof Uint8Array) return this.buf(req, r);
    if ((spliceFlags === null || r.length <= SMALL_FD_READ) && r.length <= MAX_READ_BUFFER) {
      if (shared.read.bytes.length < r.length) shared.read = nativeBuffer(Math.min(MAX_READ_BUFFER, 2 ** Math.ceil(Math.log2(r.length))));
      const n = r.length === 0 ? 0 : readSync(r.fd, shared.read.bytes, 0, r.length, r.offset);
      if (n === 0) this.lib.fuse.fuse_reply_buf(req, null, 0);
      else this.lib.fuse.fuse_reply_buf(req, shared.read.ptr, n);
      return;
    }
    // An fd-backed bufvec: libfuse reads (or splices) the range itself, the bytes never enter JS.
    const b = this.bufvec.bytes;
    b.fill(0);
    b.writeBigUInt64LE(1n, FUSE_BUFVEC.count);
    const o = FUSE_BUFVEC.buf0;
    put64(this.bufvec.view, o + FUSE_BUF.size_, r.length);
    b.writeInt32LE(FUSE_BUF_FLAG.isFd | FUSE_BUF_FLAG.fdSeek, o + FUSE_BUF.flags);
    b.writeInt32LE(r.fd, o + FUSE_BUF.fd);
    put64(this.bufvec.view, o + FUSE_BUF.pos, r.offset);
    this.lib.fuse.fuse_reply_data(req, this.bufvec.ptr, spliceFlags ?? FUSE_BUF_COPY.noSplice);
  }

  statfs(req: Pointer, s: StatfsReply): void {
    const b = this.statvfs.bytes;
    b.fill(0);
    put64(this.statvfs.view, STATVFS.bsize, s.bsize);
    put64(this.statvfs.view, STATVFS.frsize, s.frsize ?? s.bsize);
    put64(this.statvfs.view, STATVFS.blocks, s.blocks);
    put64(this.statvfs.view, STATVFS.bfree, s.bfree);
    put64(this.statvfs.view, STATVFS.bavail, s.bavail);
    put64(this.statvfs.view, STATVFS.files, s.files);
    put64(this.statvfs.view, STATVFS.ffree, s.ffree);
    put64(this.statvfs.view, STATVFS.favail, s.favail ?? s.ffree);
    put64(this.statvfs.view, STATVFS.namemax, s.namemax);
    this.lib.fuse.fuse_reply_statfs(req, this.statvfs.ptr);
  }

  xattrSize(req: Pointer, size: number): void {
    this.lib.fuse.fuse_reply_xattr(req, size);
  }

  lseek(req: Pointer, off: number): void {
    this.lib.fuse.fuse_reply_lseek(req, off);
  }

  /**
   * Encodes directory entries into one kernel buffer of at most `size` bytes and replies.
   * Returns how many entries were sent, so readdirplus can give back the references of the rest.
   */
  dir(req: Pointer, size: number, entries: readonly (DirEntry | DirEntryPlus)[], plus: boolean, t: ReplyTimeouts): number {
    if (shared.dir.bytes.length < size) shared.dir = dirBuffer(size + 7);
    const { used, sent } = encodeDirents(shared.dir.bytes, shared.dir.words, size, entries, plus, t);
    if (used === 0) this.lib.fuse.fuse_reply_buf(req, null, 0);
    else this.lib.fuse.fuse_reply_buf(req, shared.dir.ptr, used);
    return sent;
  }

  private fillEntry(e: EntryReply | NegativeEntryReply, t: ReplyTimeouts): void {
    const b = this.entry.bytes;
    if (e.ino === 0) {
      b.fill(0);
      b.writeDoubleLE((e as NegativeEntryReply).entryTimeout, ENTRY_PARAM.entryTimeout);
      return;
    }
    const full = e as EntryReply;
    const dv = this.entry.view;
    put64(dv, ENTRY_PARAM.ino, full.ino);
    put64(dv, ENTRY_PARAM.generation, full.generation ?? 0);
    writeStat(b, full.attr, ENTRY_PARAM.attr);
    b.writeDoubleLE(full.attrTimeout ?? t.attr, ENTRY_PARAM.attrTimeout);
    b.writeDoubleLE(full.entryTimeout ?? t.entry, ENTRY_PARAM.entryTimeout);
  }

  private fillFileInfo(flags: number, o: OpenReply | CreateReply): void {
    const b = this.fi.bytes;
    b.fill(0);
    b.writeInt32LE(flags | 0, FILE_INFO.flags);
    let bits = 0;
    if (o.keepCache) bits |= FI_BIT.keepCache;
    if (o.directIo) bits |= FI_BIT.directIo;
    if ((o as OpenReply).nonseekable) bits |= FI_BIT.nonseekable;
    if ((o as OpenReply).cacheReaddir) bits |= FI_BIT.cacheReaddir;
    b.writeUInt32LE(bits, FILE_INFO.bits);
    put64(this.fi.view, FILE_INFO.fh, o.fh);
  }

  /** Writes a NUL-terminated copy into the name scratch buffer; -1 if it does not fit. */
  private putCString(s: string | Uint8Array): number {
    let n: number;
    if (typeof s === "string") {
      if (s.length * 3 >= this.name.bytes.length || hasEscapes(s)) {
        const bytes = encodeName(s);
        if (bytes.length >= this.name.bytes.length) return -1;
        bytes.copy(this.name.bytes);
        n = bytes.length;
      } else n = this.name.bytes.write(s, 0, "utf8");
    } else {
      if (s.byteLength >= this.name.bytes.length) return -1;
      this.name.bytes.set(s);
      n = s.byteLength;
    }
    this.name.bytes[n] = 0;
    return n;
  }
}
