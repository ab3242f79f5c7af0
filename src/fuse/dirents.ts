/**
 * @module fuse/dirents — encodes readdir and readdirplus replies in the kernel's wire format
 * (`struct fuse_dirent` / `struct fuse_direntplus`) straight into the reply buffer. Byte for byte what
 * libfuse's `fuse_add_direntry[_plus]` writes (checked by test/fuse/dirents.test.ts), without an FFI
 * call and a C-string copy per entry: listings of thousands of entries spend their time here, so
 * every field is one store into a word view (records are 8-byte aligned) and nothing is allocated
 * per entry.
 */
import { checkNativeStat, set64 } from "./encode.ts";
import { encodeName, hasEscapes, nameByteLength } from "../util/names.ts";
import { FUSE_ATTR, FUSE_DIRENT, FUSE_ENTRY_OUT, STAT, S_IF } from "./structs.ts";
import type { Attr, DirEntry, DirEntryPlus } from "./types.ts";

export interface DirentTimeouts {
  attr: number;
  entry: number;
}

const PLUS_HEADER = FUSE_ENTRY_OUT.size;
const ALIGN = FUSE_DIRENT.align;
const NAME_AT = FUSE_DIRENT.nameOffset;

// Word indexes (byte offset / 4) of every field, relative to the record.
const w = (byteOffset: number) => byteOffset >>> 2;
const E_NODEID = w(FUSE_ENTRY_OUT.nodeid), E_GEN = w(FUSE_ENTRY_OUT.generation);
const E_ENTRY_VALID = w(FUSE_ENTRY_OUT.entryValid), E_ATTR_VALID = w(FUSE_ENTRY_OUT.attrValid);
const E_ENTRY_NSEC = w(FUSE_ENTRY_OUT.entryValidNsec), E_ATTR_NSEC = w(FUSE_ENTRY_OUT.attrValidNsec);
const A = w(FUSE_ENTRY_OUT.attr);
const A_INO = A + w(FUSE_ATTR.ino), A_SIZE = A + w(FUSE_ATTR.size_), A_BLOCKS = A + w(FUSE_ATTR.blocks);
const A_ATIME = A + w(FUSE_ATTR.atime), A_MTIME = A + w(FUSE_ATTR.mtime), A_CTIME = A + w(FUSE_ATTR.ctime);
const A_ATIMENSEC = A + w(FUSE_ATTR.atimensec), A_MTIMENSEC = A + w(FUSE_ATTR.mtimensec), A_CTIMENSEC = A + w(FUSE_ATTR.ctimensec);
const A_MODE = A + w(FUSE_ATTR.mode), A_NLINK = A + w(FUSE_ATTR.nlink), A_UID = A + w(FUSE_ATTR.uid), A_GID = A + w(FUSE_ATTR.gid);
const A_RDEV = A + w(FUSE_ATTR.rdev), A_BLKSIZE = A + w(FUSE_ATTR.blksize), A_FLAGS = A + w(FUSE_ATTR.flags);
const D_INO = w(FUSE_DIRENT.ino), D_OFF = w(FUSE_DIRENT.off), D_NAMELEN = w(FUSE_DIRENT.namelen), D_TYPE = w(FUSE_DIRENT.type);

// A native struct stat is copied into this aligned scratch first: its words are then plain loads,
// and the caller's array is never re-viewed (which could move a small array's storage).
const statScratch = new Uint8Array(new ArrayBuffer(STAT.size));
const sw = new Uint32Array(statScratch.buffer);
const S_INO = w(STAT.ino), S_NLINK = w(STAT.nlink), S_MODE = w(STAT.mode), S_UID = w(STAT.uid), S_GID = w(STAT.gid);
const S_RDEV = w(STAT.rdev), S_SIZE = w(STAT.size_), S_BLKSIZE = w(STAT.blksize), S_BLOCKS = w(STAT.blocks);
const S_ATIME = w(STAT.atimeSec), S_ATIMENSEC = w(STAT.atimeNsec), S_MTIME = w(STAT.mtimeSec), S_MTIMENSEC = w(STAT.mtimeNsec);
const S_CTIME = w(STAT.ctimeSec), S_CTIMENSEC = w(STAT.ctimeNsec);

/** Whole seconds of a timeout, as libfuse's calc_timeout_sec computes them. */
function timeoutSec(t: number): number {
  return t > 0 ? Math.floor(t) : 0;
}

/** Nanoseconds of a timeout, as libfuse's calc_timeout_nsec computes them. */
function timeoutNsec(t: number): number {
  if (!(t > 0)) return 0;
  const f = t - Math.floor(t);
  return f >= 0.999999999 ? 999999999 : Math.floor(f * 1e9);
}

/** `struct fuse_attr` (libfuse's convert_stat) from an Attr, at word `i`. */
function putAttr(o: Uint32Array, i: number, a: Attr): void {
  set64(o, i + A_INO, a.ino);
  set64(o, i + A_SIZE, a.size);
  set64(o, i + A_BLOCKS, a.blocks ?? Math.ceil(a.size / 512));
  set64(o, i + A_ATIME, Math.trunc(a.atimeSec));
  set64(o, i + A_MTIME, Math.trunc(a.mtimeSec));
  set64(o, i + A_CTIME, Math.trunc(a.ctimeSec));
  o[i + A_ATIMENSEC] = a.atimeNsec ?? 0;
  o[i + A_MTIMENSEC] = a.mtimeNsec ?? 0;
  o[i + A_CTIMENSEC] = a.ctimeNsec ?? 0;
  o[i + A_MODE] = a.mode;
  o[i + A_NLINK] = a.nlink;
  o[i + A_UID] = a.uid;
  o[i + A_GID] = a.gid;
  o[i + A_RDEV] = a.rdev ?? 0;
  o[i + A_BLKSIZE] = a.blksize ?? 4096;
  o[i + A_FLAGS] = 0;
}

/** `struct fuse_attr` from a native struct stat: word copies (64-bit fields as two words, the rest truncated as C does). */
function putNativeAttr(o: Uint32Array, i: number, s: Uint8Array): void {
  checkNativeStat(s);
  statScratch.set(s);
  o[i + A_INO] = sw[S_INO]!; o[i + A_INO + 1] = sw[S_INO + 1]!;
  o[i + A_SIZE] = sw[S_SIZE]!; o[i + A_SIZE + 1] = sw[S_SIZE + 1]!;
  o[i + A_BLOCKS] = sw[S_BLOCKS]!; o[i + A_BLOCKS + 1] = sw[S_BLOCKS + 1]!;
  o[i + A_ATIME] = sw[S_ATIME]!; o[i + A_ATIME + 1] = sw[S_ATIME + 1]!;
  o[i + A_MTIME] = sw[S_MTIME]!; o[i + A_MTIME + 1] = sw[S_MTIME + 1]!;
  o[i + A_CTIME] = sw[S_CTIME]!; o[i + A_CTIME + 1] = sw[S_CTIME + 1]!;
  o[i + A_ATIMENSEC] = sw[S_ATIMENSEC]!;
  o[i + A_MTIMENSEC] = sw[S_MTIMENSEC]!;
  o[i + A_CTIMENSEC] = sw[S_CTIMENSEC]!;
  o[i + A_MODE] = sw[S_MODE]!;
  o[i + A_NLINK] = sw[S_NLINK]!;
  o[i + A_UID] = sw[S_UID]!;
  o[i + A_GID] = sw[S_GID]!;
  o[i + A_RDEV] = sw[S_RDEV]!;
  o[i + A_BLKSIZE] = sw[S_BLKSIZE]!;
  o[i + A_FLAGS] = 0;
}

/**
 * Byte length of a name. Most names are ASCII: counting char codes in JS beats a native call per
 * entry; anything else takes the exact path (which restores escaped non-UTF-8 bytes, util/names).
 */
function asciiLength(name: string): number {
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) > 0x7f) return nameByteLength(name);
  return name.length;
}

function writeName(out: Buffer, name: string, at: number, bytes: number): void {
  if (bytes === name.length) {
    for (let i = 0; i < bytes; i++) out[at + i] = name.charCodeAt(i);
  } else if (hasEscapes(name)) encodeName(name).copy(out, at);
  else out.write(name, at, bytes, "utf8");
}

/**
 * Writes as many entries as fit in `size` bytes of `out` (whose 32-bit word view is `words`; both
 * start 8-byte aligned). Returns the bytes used and how many entries were written (the rest did
 * not fit). Plain and plus listings get separate loops so each stays monomorphic for the JIT.
 */
export function encodeDirents(
  out: Buffer,
  words: Uint32Array,
  size: number,
  entries: readonly (DirEntry | DirEntryPlus)[],
  plus: boolean,
  t: DirentTimeouts,
): { used: number; sent: number } {
  return plus ? encodePlus(out, words, size, entries as readonly DirEntryPlus[], t) : encodePlain(out, words, size, entries);
}

/** The record size of a name of `namelen` bytes after a `header`-byte prefix, padded to 8. */
function recordSize(header: number, namelen: number): number {
  return (header + NAME_AT + namelen + ALIGN - 1) & ~(ALIGN - 1);
}

/**
 * The dirent part of a record at byte `d` (ino and type already written by the caller) and its
 * name. The name ends in the record's last 8 bytes: zero them first, the name then overwrites its part.
 */
function putDirent(out: Buffer, words: Uint32Array, d: number, end: number, e: DirEntry, namelen: number): void {
  words[(end >>> 2) - 2] = 0;
  words[(end >>> 2) - 1] = 0;
  const i = d >>> 2;
  set64(words, i + D_OFF, e.nextOffset);
  words[i + D_NAMELEN] = namelen;
  writeName(out, e.name, d + NAME_AT, namelen);
}

function encodePlain(out: Buffer, words: Uint32Array, size: number, entries: readonly DirEntry[]): { used: number; sent: number } {
  let used = 0;
  let sent = 0;
  for (; sent < entries.length; sent++) {
    const e = entries[sent]!;
    const namelen = asciiLength(e.name);
    const padded = recordSize(0, namelen);
    if (used + padded > size) break;
    const d = used >>> 2;
    set64(words, d + D_INO, e.ino);
    words[d + D_TYPE] = (e.mode & S_IF.MT) >>> 12;
    putDirent(out, words, used, used + padded, e, namelen);
    used += padded;
  }
  return { used, sent };
}

function encodePlus(out: Buffer, words: Uint32Array, size: number, entries: readonly DirEntryPlus[], t: DirentTimeouts): { used: number; sent: number } {
  const entrySec = timeoutSec(t.entry), entryNsec = timeoutNsec(t.entry);
  const attrSec = timeoutSec(t.attr), attrNsec = timeoutNsec(t.attr);
  let used = 0;
  let sent = 0;
  for (; sent < entries.length; sent++) {
    const e = entries[sent]!;
    const namelen = asciiLength(e.name);
    const padded = recordSize(PLUS_HEADER, namelen);
    if (used + padded > size) break;
    const i = used >>> 2;
    const full = e.entry;
    if (full) {
      set64(words, i + E_NODEID, full.ino);
      set64(words, i + E_GEN, full.generation ?? 0);
      const et = full.entryTimeout, at = full.attrTimeout;
      if (et === undefined || et === t.entry) {
        words[i + E_ENTRY_VALID] = entrySec; words[i + E_ENTRY_VALID + 1] = 0; words[i + E_ENTRY_NSEC] = entryNsec;
      } else {
        set64(words, i + E_ENTRY_VALID, timeoutSec(et)); words[i + E_ENTRY_NSEC] = timeoutNsec(et);
      }
      if (at === undefined || at === t.attr) {
        words[i + E_ATTR_VALID] = attrSec; words[i + E_ATTR_VALID + 1] = 0; words[i + E_ATTR_NSEC] = attrNsec;
      } else {
        set64(words, i + E_ATTR_VALID, timeoutSec(at)); words[i + E_ATTR_NSEC] = timeoutNsec(at);
      }
      if (full.attr instanceof Uint8Array) putNativeAttr(words, i, full.attr);
      else putAttr(words, i, full.attr);
    } else {
      // "." and "..": nodeid 0 tells the kernel to take no reference; only ino and type matter.
      out.fill(0, used, used + PLUS_HEADER);
      set64(words, i + A_INO, e.ino);
      words[i + A_MODE] = e.mode;
    }
    // As fuse_add_direntry_plus: the dirent's ino and type come from the entry's attributes.
    const d = i + (PLUS_HEADER >>> 2);
    words[d + D_INO] = words[i + A_INO]!;
    words[d + D_INO + 1] = words[i + A_INO + 1]!;
    words[d + D_TYPE] = (words[i + A_MODE]! & S_IF.MT) >>> 12;
    putDirent(out, words, used + PLUS_HEADER, used + padded, e, namelen);
    used += padded;
  }
  return { used, sent };
}
