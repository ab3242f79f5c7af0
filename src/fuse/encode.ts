/**
 * @module fuse/encode — writes C structs without BigInt on the hot path: 64-bit integers as two
 * 32-bit halves, and `struct stat` from an `Attr` (or as-is from a native one). Shared by replies
 * and directory encoding.
 */
import { STAT } from "./structs.ts";
import type { AttrSource } from "./types.ts";

const TWO32 = 4294967296;

/** Stores a 64-bit integer without BigInt (hot path): exact for |v| < 2^53. */
export function put64(dv: DataView, off: number, v: number): void {
  if (v >= 0) {
    dv.setUint32(off, v % TWO32, true);
    dv.setUint32(off + 4, Math.floor(v / TWO32), true);
  } else dv.setBigInt64(off, BigInt(Math.trunc(v)), true);
}

/**
 * Stores a 64-bit integer as two little-endian words at word index `i` (two's complement for
 * negatives; exact for |v| < 2^53). Uint32Array stores reduce modulo 2^32, which is the low word.
 */
export function set64(w: Uint32Array, i: number, v: number): void {
  if (v >= 0 && v < TWO32) {
    w[i] = v;
    w[i + 1] = 0;
  } else {
    w[i] = v;
    w[i + 1] = Math.floor(v / TWO32);
  }
}

const views = new WeakMap<Buffer, DataView>();
export function viewOf(b: Buffer): DataView {
  let dv = views.get(b);
  if (!dv) views.set(b, (dv = new DataView(b.buffer, b.byteOffset, b.byteLength)));
  return dv;
}

/** Checks that a native `struct stat` has the platform's size (anything else is a filesystem bug). */
export function checkNativeStat(s: Uint8Array): void {
  if (s.byteLength !== STAT.size) throw new RangeError(`a native struct stat is ${STAT.size} bytes, got ${s.byteLength}`);
}

/** Fills a `struct stat` at `base`. Unset optional fields are zero (blocks derive from size). */
export function writeStat(b: Buffer, a: AttrSource, base = 0): void {
  if (a instanceof Uint8Array) {
    checkNativeStat(a);
    b.set(a, base);
    return;
  }
  const dv = viewOf(b);
  b.fill(0, base, base + STAT.size);
  put64(dv, base + STAT.ino, a.ino);
  put64(dv, base + STAT.nlink, a.nlink);
  dv.setUint32(base + STAT.mode, a.mode >>> 0, true);
  dv.setUint32(base + STAT.uid, a.uid >>> 0, true);
  dv.setUint32(base + STAT.gid, a.gid >>> 0, true);
  if (a.rdev) put64(dv, base + STAT.rdev, a.rdev);
  put64(dv, base + STAT.size_, a.size);
  put64(dv, base + STAT.blksize, a.blksize ?? 4096);
  put64(dv, base + STAT.blocks, a.blocks ?? Math.ceil(a.size / 512));
  put64(dv, base + STAT.atimeSec, Math.trunc(a.atimeSec));
  put64(dv, base + STAT.atimeNsec, a.atimeNsec ?? 0);
  put64(dv, base + STAT.mtimeSec, Math.trunc(a.mtimeSec));
  put64(dv, base + STAT.mtimeNsec, a.mtimeNsec ?? 0);
  put64(dv, base + STAT.ctimeSec, Math.trunc(a.ctimeSec));
  put64(dv, base + STAT.ctimeNsec, a.ctimeNsec ?? 0);
}
