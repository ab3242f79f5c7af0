/**
 * @module vcs/pack-writer — a git pack, version 2: "PACK", version, object count, then each object as a
 * type/size varint header plus zlib(body), then the SHA-1 of everything before it. Whole objects only (no
 * deltas): Mega and `git index-pack` accept that, and deltas against server objects would need thin packs.
 */
import { deflateSync } from "node:zlib";
import type { GitObjectType } from "./loose-objects.ts";

const TYPE_CODE: Record<GitObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };

export interface PackObject {
  type: GitObjectType;
  body: Uint8Array;
}

/** The pack as a list of chunks (so large packs are not copied into one buffer) and its checksum. */
export function writePack(objects: PackObject[]): { chunks: Uint8Array[]; size: number; checksum: string } {
  const hasher = new Bun.CryptoHasher("sha1");
  const chunks: Uint8Array[] = [];
  let size = 0;
  const push = (c: Uint8Array) => {
    hasher.update(c);
    chunks.push(c);
    size += c.length;
  };
  const header = new Uint8Array(12);
  header.set(new TextEncoder().encode("PACK"), 0);
  const view = new DataView(header.buffer);
  view.setUint32(4, 2);
  view.setUint32(8, objects.length);
  push(header);
  for (const o of objects) {
    push(objectHeader(TYPE_CODE[o.type], o.body.length));
    push(deflateSync(o.body));
  }
  const trailer = new Uint8Array(hasher.digest());
  chunks.push(trailer);
  size += trailer.length;
  return { chunks, size, checksum: Buffer.from(trailer).toString("hex") };
}

/** Type in bits 4-6 of the first byte, size in 4 bits there and 7 bits per continuation byte (MSB = more). */
export function objectHeader(type: number, size: number): Uint8Array {
  const out: number[] = [];
  let byte = (type << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    out.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  out.push(byte);
  return new Uint8Array(out);
}
