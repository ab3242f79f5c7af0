/**
 * @module remote/pack — git smart-HTTP fetch of one path's objects (protocol v0, as Mega serves any
 * path as a repository: `{P}.git/info/refs` + `{P}.git/git-upload-pack`) and a parser for the pack it
 * returns: pkt-lines, side-band-64k, pack v2 entries, zlib, ofs/ref deltas. Every object's id is
 * computed from its resolved bytes, so what comes out is verified by construction; the pack's trailing
 * SHA-1 is checked too. Pure apart from the two HTTP exchanges; knows nothing of caching.
 */
import zlib from "node:zlib";
import { gitObjectOid, hexOf, type Oid } from "./oid.ts";
import { parseGitTree } from "./git-tree.ts";
import { RemoteError } from "./remote-error.ts";

export type PackObjectType = "commit" | "tree" | "blob" | "tag";

export interface PackObject {
  readonly type: PackObjectType;
  readonly oid: Oid;
  readonly data: Uint8Array;
}

/** What one pack fetch brought: the commit the path's repository advertised, and every object. */
export interface PackFetch {
  readonly head: Oid | null;
  readonly objects: PackObject[];
}

/**
 * The blobs of the pack reachable from `head`'s tree, each once, in depth-first tree order (the order
 * a walk of the tree reads them): a sub-path repository's pack carries the path's history too, and only
 * the current versions are worth caching.
 */
export function reachableBlobs(fetched: PackFetch): PackObject[] {
  const byOid = new Map<Oid, PackObject>(fetched.objects.map((o) => [o.oid, o]));
  const out = new Map<Oid, PackObject>();
  const commit = fetched.head ? byOid.get(fetched.head) : undefined;
  if (!commit || commit.type !== "commit") return [];
  const m = /^tree ([0-9a-f]{40})/.exec(decoder.decode(commit.data.subarray(0, 46)));
  const seen = new Set<Oid>();
  const visit = (tree: Oid) => {
    if (seen.has(tree)) return;
    seen.add(tree);
    const t = byOid.get(tree);
    if (!t || t.type !== "tree") return;
    for (const e of parseGitTree(t.data)) {
      if (e.kind === "tree") visit(e.oid);
      else if (e.kind === "blob" && !out.has(e.oid)) {
        const b = byOid.get(e.oid);
        if (b?.type === "blob") out.set(e.oid, b);
      }
    }
  };
  if (m) visit(m[1] as Oid);
  return [...out.values()];
}

const TYPES: Record<number, PackObjectType> = { 1: "commit", 2: "tree", 3: "blob", 4: "tag" };
const OFS_DELTA = 6;
const REF_DELTA = 7;
const ZERO_ID = "0".repeat(40);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function pktLine(s: string): Uint8Array {
  const body = encoder.encode(s);
  return encoder.encode((body.length + 4).toString(16).padStart(4, "0") + s);
}

/** Splits pkt-lines; `null` stands for a flush (0000) or delimiter packet. */
export function readPktLines(buf: Uint8Array, url: string): Array<Uint8Array | null> {
  const out: Array<Uint8Array | null> = [];
  let i = 0;
  while (i + 4 <= buf.length) {
    const len = parseInt(decoder.decode(buf.subarray(i, i + 4)), 16);
    if (!Number.isFinite(len)) throw protocol(url, `bad pkt-line length at byte ${i}`);
    if (len < 4) {
      out.push(null);
      i += 4;
      continue;
    }
    if (i + len > buf.length) throw protocol(url, "truncated pkt-line");
    out.push(buf.subarray(i + 4, i + len));
    i += len;
  }
  return out;
}

/** The commit a path's repository advertises (refs/heads/main, else HEAD); null when it has none. */
export function advertisedHead(advertisement: Uint8Array, url: string): Oid | null {
  let head: string | null = null;
  let main: string | null = null;
  for (const line of readPktLines(advertisement, url)) {
    if (!line) continue;
    const text = decoder.decode(line);
    if (text.startsWith("#")) continue;
    const [ref = "", name = ""] = text.split("\0")[0]!.trim().split(" ");
    if (name === "HEAD") head = ref;
    if (name === "refs/heads/main") main = ref;
  }
  const id = main ?? head;
  return id && id !== ZERO_ID && /^[0-9a-f]{40}$/.test(id) ? (id as Oid) : null;
}

/** The body of an upload-pack request for everything reachable from `want`. */
export function uploadPackRequest(want: Oid): Uint8Array {
  const parts = [pktLine(`want ${want} side-band-64k ofs-delta no-progress agent=scorpio\n`), encoder.encode("0000"), pktLine("done\n")];
  return Buffer.concat(parts);
}

/** The pack bytes of an upload-pack response (band 1 of side-band-64k, after NAK/ACK lines). */
export function packFromResponse(body: Uint8Array, url: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  for (const line of readPktLines(body, url)) {
    if (!line || line.length === 0) continue;
    const band = line[0];
    if (band === 1) chunks.push(line.subarray(1));
    else if (band === 3) throw protocol(url, `server error: ${decoder.decode(line.subarray(1)).trim()}`);
    else if (band === 2) continue;
    else if (chunks.length === 0) continue; // NAK / ACK lines before the pack
    else throw protocol(url, `unexpected side-band ${band}`);
  }
  return Buffer.concat(chunks);
}

interface RawEntry {
  offset: number;
  type: number;
  data: Uint8Array;
  baseOffset?: number;
  baseOid?: Oid;
}

/**
 * Parses a version 2 pack: every object with its type, resolved bytes and computed id. Synchronous: the
 * daemon runs it on the pack thread, or inline for a small pack only (remote/pack-thread.ts).
 */
export function parsePack(pack: Uint8Array, url = "pack"): PackObject[] {
  if (pack.length < 32 || decoder.decode(pack.subarray(0, 4)) !== "PACK") throw protocol(url, "not a git pack");
  const dv = new DataView(pack.buffer, pack.byteOffset, pack.byteLength);
  const version = dv.getUint32(4);
  if (version !== 2 && version !== 3) throw protocol(url, `unsupported pack version ${version}`);
  const count = dv.getUint32(8);
  const trailer = hexOf(pack.subarray(pack.length - 20));
  const h = new Bun.CryptoHasher("sha1");
  h.update(pack.subarray(0, pack.length - 20));
  if (h.digest("hex") !== trailer) throw protocol(url, "pack checksum mismatch");

  const entries: RawEntry[] = [];
  let pos = 12;
  for (let n = 0; n < count; n++) {
    const offset = pos;
    let c = pack[pos++]!;
    const type = (c >> 4) & 7;
    let size = c & 15;
    let shift = 4;
    while (c & 0x80) {
      c = pack[pos++]!;
      size += (c & 0x7f) * 2 ** shift;
      shift += 7;
    }
    const e: RawEntry = { offset, type, data: new Uint8Array(0) };
    if (type === OFS_DELTA) {
      c = pack[pos++]!;
      let off = c & 127;
      while (c & 128) {
        c = pack[pos++]!;
        off = (off + 1) * 128 + (c & 127);
      }
      e.baseOffset = offset - off;
    } else if (type === REF_DELTA) {
      e.baseOid = hexOf(pack.subarray(pos, pos + 20)) as Oid;
      pos += 20;
    } else if (!TYPES[type]) throw protocol(url, `unknown object type ${type} at byte ${offset}`);
    const inflated = zlib.inflateSync(pack.subarray(pos, pack.length - 20), { info: true } as zlib.ZlibOptions) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    if (inflated.buffer.length !== size) throw protocol(url, `object at byte ${offset}: ${inflated.buffer.length} bytes, header says ${size}`);
    e.data = new Uint8Array(inflated.buffer.buffer, inflated.buffer.byteOffset, inflated.buffer.length);
    pos += inflated.engine.bytesWritten;
    entries.push(e);
  }

  const byOffset = new Map<number, RawEntry>(entries.map((e) => [e.offset, e]));
  const resolved = new Map<number, PackObject>();
  const byOid = new Map<Oid, PackObject>();
  const resolve = (e: RawEntry, depth: number): PackObject => {
    const done = resolved.get(e.offset);
    if (done) return done;
    if (depth > 10_000) throw protocol(url, "delta chain too long");
    let obj: PackObject;
    if (e.type === OFS_DELTA || e.type === REF_DELTA) {
      let base: PackObject | undefined;
      if (e.baseOffset !== undefined) {
        const b = byOffset.get(e.baseOffset);
        if (!b) throw protocol(url, `delta base at byte ${e.baseOffset} is not an object`);
        base = resolve(b, depth + 1);
      } else {
        base = byOid.get(e.baseOid!);
        if (!base) {
          for (const other of entries) {
            if (other.type === REF_DELTA && other.baseOid === e.baseOid) continue;
            const o = resolve(other, depth + 1);
            if (o.oid === e.baseOid) {
              base = o;
              break;
            }
          }
        }
        if (!base) throw protocol(url, `delta base ${e.baseOid} is not in the pack (thin packs are not requested)`);
      }
      const data = applyDelta(base.data, e.data, url);
      obj = { type: base.type, oid: gitObjectOid(base.type, data), data };
    } else {
      const type = TYPES[e.type]!;
      obj = { type, oid: gitObjectOid(type, e.data), data: e.data };
    }
    resolved.set(e.offset, obj);
    byOid.set(obj.oid, obj);
    return obj;
  };
  return entries.map((e) => resolve(e, 0));
}

/** git's delta format: source size, target size, then copy (from base) and insert instructions. */
export function applyDelta(base: Uint8Array, delta: Uint8Array, url = "pack"): Uint8Array {
  let i = 0;
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    let c: number;
    do {
      c = delta[i++]!;
      v += (c & 0x7f) * 2 ** shift;
      shift += 7;
    } while (c & 0x80);
    return v;
  };
  const srcSize = varint();
  if (srcSize !== base.length) throw protocol(url, `delta expects a ${srcSize}-byte base, got ${base.length}`);
  const out = new Uint8Array(varint());
  let o = 0;
  while (i < delta.length) {
    const op = delta[i++]!;
    if (op & 0x80) {
      let off = 0;
      let size = 0;
      for (let b = 0; b < 4; b++) if (op & (1 << b)) off += delta[i++]! * 2 ** (8 * b);
      for (let b = 0; b < 3; b++) if (op & (0x10 << b)) size += delta[i++]! * 2 ** (8 * b);
      if (size === 0) size = 0x10000;
      if (off + size > base.length || o + size > out.length) throw protocol(url, "delta copy out of range");
      out.set(base.subarray(off, off + size), o);
      o += size;
    } else if (op > 0) {
      if (o + op > out.length || i + op > delta.length) throw protocol(url, "delta insert out of range");
      out.set(delta.subarray(i, i + op), o);
      i += op;
      o += op;
    } else throw protocol(url, "delta opcode 0 is reserved");
  }
  if (o !== out.length) throw protocol(url, `delta produced ${o} bytes, expected ${out.length}`);
  return out;
}

function protocol(url: string, message: string): RemoteError {
  return new RemoteError({ failure: "protocol", url, message: `${url}: ${message}` });
}
