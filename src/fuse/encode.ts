/**
 * @module fuse/encode — writes C structs without BigInt on the hot path: 64-bit integers as two
 * 32-bit halves, and `struct stat` from an `Attr`. Shared by replies and directory encoding.
 */
import { STAT } from "./structs.ts";
import type { Attr } from "./types.ts";

const TWO32 = 4294967296;

/** Stores a 64-bit integer without BigInt (hot path): exact for |v| < 2^53. */
export function put64(dv: DataView, off: number, v: number): void {
  if (v >= 0) {
    dv.setUint32(off, v % TWO32, true);
    dv.setUint32(off + 4, Math.floor(v / TWO32), true);
  } else dv.setBigInt64(off, BigInt(Math.trunc(v)), true);
}

const views = new WeakMap<Buffer, DataView>();
export function viewOf(b: Buffer): DataView {
  let dv = views.get(b);
  if (!dv) views.set(b, (dv = new DataView(b.buffer, b.byteOffset, b.byteLength)));
  return dv;
}

/** Fills a `struct stat` at `base`. Unset optional fields are zero (blocks derive from size). */
export function writeStat(b: Buffer, a: Attr, base = 0): void {
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
