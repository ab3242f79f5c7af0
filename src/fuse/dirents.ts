/**
 * @module fuse/dirents — encodes readdir and readdirplus replies in the kernel's wire format
 * (`struct fuse_dirent` / `struct fuse_direntplus`) straight into the reply buffer. Byte for byte what
 * libfuse's `fuse_add_direntry[_plus]` writes (checked by test/fuse/dirents.test.ts), without an FFI
 * call and a C-string copy per entry: listings of thousands of entries spend their time here.
 */
import { put64 } from "./encode.ts";
import { FUSE_ATTR, FUSE_DIRENT, FUSE_ENTRY_OUT, S_IF } from "./structs.ts";
import type { Attr, DirEntry, DirEntryPlus } from "./types.ts";

export interface DirentTimeouts {
  attr: number;
  entry: number;
}

const PLUS_HEADER = FUSE_ENTRY_OUT.size;

/** Seconds and nanoseconds of a timeout, as libfuse's calc_timeout_sec/nsec compute them. */
function timeoutParts(t: number): [sec: number, nsec: number] {
  if (!(t > 0)) return [0, 0];
  const sec = Math.floor(t);
  const f = t - sec;
  return [sec, f >= 0.999999999 ? 999999999 : Math.floor(f * 1e9)];
}

function putAttr(dv: DataView, at: number, a: Attr): void {
  put64(dv, at + FUSE_ATTR.ino, a.ino);
  put64(dv, at + FUSE_ATTR.size_, a.size);
  put64(dv, at + FUSE_ATTR.blocks, a.blocks ?? Math.ceil(a.size / 512));
  put64(dv, at + FUSE_ATTR.atime, Math.trunc(a.atimeSec));
  put64(dv, at + FUSE_ATTR.mtime, Math.trunc(a.mtimeSec));
  put64(dv, at + FUSE_ATTR.ctime, Math.trunc(a.ctimeSec));
  dv.setUint32(at + FUSE_ATTR.atimensec, a.atimeNsec ?? 0, true);
  dv.setUint32(at + FUSE_ATTR.mtimensec, a.mtimeNsec ?? 0, true);
  dv.setUint32(at + FUSE_ATTR.ctimensec, a.ctimeNsec ?? 0, true);
  dv.setUint32(at + FUSE_ATTR.mode, a.mode >>> 0, true);
  dv.setUint32(at + FUSE_ATTR.nlink, a.nlink >>> 0, true);
  dv.setUint32(at + FUSE_ATTR.uid, a.uid >>> 0, true);
  dv.setUint32(at + FUSE_ATTR.gid, a.gid >>> 0, true);
  dv.setUint32(at + FUSE_ATTR.rdev, (a.rdev ?? 0) >>> 0, true);
  dv.setUint32(at + FUSE_ATTR.blksize, (a.blksize ?? 4096) >>> 0, true);
}

/**
 * UTF-8 length of a name. Most names are ASCII: counting char codes in JS beats the native
 * `Buffer.byteLength` call per entry; anything else takes the exact path.
 */
function asciiLength(name: string): number {
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) > 0x7f) return Buffer.byteLength(name, "utf8");
  return name.length;
}

function writeName(out: Buffer, name: string, at: number, bytes: number): void {
  if (bytes === name.length) {
    for (let i = 0; i < bytes; i++) out[at + i] = name.charCodeAt(i);
  } else out.write(name, at, bytes, "utf8");
}

/**
 * Writes as many entries as fit in `size` bytes of `out` (whose DataView is `dv`). Returns the bytes
 * used and how many entries were written (the rest did not fit, or had an over-long name).
 */
export function encodeDirents(
  out: Buffer,
  dv: DataView,
  size: number,
  entries: readonly (DirEntry | DirEntryPlus)[],
  plus: boolean,
  t: DirentTimeouts,
): { used: number; sent: number } {
  const header = plus ? PLUS_HEADER : 0;
  let used = 0;
  let sent = 0;
  for (const e of entries) {
    const namelen = asciiLength(e.name);
    const entlen = header + FUSE_DIRENT.nameOffset + namelen;
    const padded = (entlen + FUSE_DIRENT.align - 1) & ~(FUSE_DIRENT.align - 1);
    if (used + padded > size) break;
    let ino = e.ino;
    if (plus) {
      out.fill(0, used, used + PLUS_HEADER);
      const full = (e as DirEntryPlus).entry;
      if (full) {
        ino = full.attr.ino;
        put64(dv, used + FUSE_ENTRY_OUT.nodeid, full.ino);
        put64(dv, used + FUSE_ENTRY_OUT.generation, full.generation ?? 0);
        const [es, en] = timeoutParts(full.entryTimeout ?? t.entry);
        const [as, an] = timeoutParts(full.attrTimeout ?? t.attr);
        put64(dv, used + FUSE_ENTRY_OUT.entryValid, es);
        put64(dv, used + FUSE_ENTRY_OUT.attrValid, as);
        dv.setUint32(used + FUSE_ENTRY_OUT.entryValidNsec, en, true);
        dv.setUint32(used + FUSE_ENTRY_OUT.attrValidNsec, an, true);
        putAttr(dv, used + FUSE_ENTRY_OUT.attr, full.attr);
      } else {
        // "." and "..": nodeid 0 tells the kernel to take no reference; only ino and type matter.
        put64(dv, used + FUSE_ENTRY_OUT.attr + FUSE_ATTR.ino, e.ino);
        dv.setUint32(used + FUSE_ENTRY_OUT.attr + FUSE_ATTR.mode, e.mode >>> 0, true);
      }
    }
    const d = used + header;
    put64(dv, d + FUSE_DIRENT.ino, ino);
    put64(dv, d + FUSE_DIRENT.off, e.nextOffset);
    dv.setUint32(d + FUSE_DIRENT.namelen, namelen, true);
    dv.setUint32(d + FUSE_DIRENT.type, ((plus && (e as DirEntryPlus).entry ? (e as DirEntryPlus).entry!.attr.mode : e.mode) & S_IF.MT) >>> 12, true);
    writeName(out, e.name, d + FUSE_DIRENT.nameOffset, namelen);
    for (let z = d + FUSE_DIRENT.nameOffset + namelen; z < used + padded; z++) out[z] = 0;
    used += padded;
    sent++;
  }
  return { used, sent };
}
