/**
 * @module vcs/pkt-line — git's pkt-line framing (4 hex digits of length including themselves, then the
 * payload; `0000` = flush) and side-band demultiplexing (band 1 data, 2 progress, 3 fatal error).
 * Pure functions over bytes; knows nothing of HTTP.
 */

export const FLUSH = new TextEncoder().encode("0000");
/** The largest pkt-line git accepts (65520 bytes including the 4-byte length). */
export const MAX_PKT = 65520;

export class PktLineError extends Error {}

/** One pkt-line carrying `payload` (a string is UTF-8 encoded as is; add the trailing "\n" yourself). */
export function pktLine(payload: string | Uint8Array): Uint8Array {
  const data = typeof payload === "string" ? new TextEncoder().encode(payload) : payload;
  if (data.length + 4 > MAX_PKT) throw new PktLineError(`pkt-line payload too long: ${data.length} bytes`);
  const out = new Uint8Array(data.length + 4);
  out.set(new TextEncoder().encode((data.length + 4).toString(16).padStart(4, "0")), 0);
  out.set(data, 4);
  return out;
}

/** A decoded pkt: its payload, or null for a flush (`0000`) / delimiter (`0001`) / response-end (`0002`). */
export type Pkt = Uint8Array | null;

/** Splits a buffer into pkt-lines; `rest` is where reading stopped (the start of a pack after a flush, say). */
export function readPkts(buf: Uint8Array, opts: { stopAtFlush?: boolean } = {}): { pkts: Pkt[]; rest: number } {
  const pkts: Pkt[] = [];
  let i = 0;
  while (i < buf.length) {
    if (i + 4 > buf.length) throw new PktLineError(`truncated pkt-line length at byte ${i}`);
    const hex = new TextDecoder().decode(buf.subarray(i, i + 4));
    if (!/^[0-9a-f]{4}$/i.test(hex)) throw new PktLineError(`bad pkt-line length ${JSON.stringify(hex)} at byte ${i}`);
    const len = parseInt(hex, 16);
    if (len < 4) {
      pkts.push(null);
      i += 4;
      if (opts.stopAtFlush && len === 0) break;
      continue;
    }
    if (i + len > buf.length) throw new PktLineError(`truncated pkt-line at byte ${i}: ${len} bytes announced, ${buf.length - i} present`);
    pkts.push(buf.subarray(i + 4, i + len));
    i += len;
  }
  return { pkts, rest: i };
}

/** A pkt payload as text without its trailing newline. */
export function pktText(p: Uint8Array): string {
  const s = new TextDecoder().decode(p);
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}

export interface SideBand {
  /** Band 1, concatenated. */
  data: Uint8Array;
  /** Band 2 (progress / `remote:` messages), as text. */
  progress: string;
  /** Band 3 (fatal error), as text; empty when none. */
  error: string;
}

/** Demultiplexes side-band(-64k) pkts up to the first flush. */
export function demuxSideBand(pkts: Pkt[]): SideBand {
  const data: Uint8Array[] = [];
  let progress = "";
  let error = "";
  const dec = new TextDecoder();
  for (const p of pkts) {
    if (p === null) break;
    if (p.length === 0) continue;
    const band = p[0];
    const body = p.subarray(1);
    if (band === 1) data.push(body);
    else if (band === 2) progress += dec.decode(body);
    else if (band === 3) error += dec.decode(body);
    else throw new PktLineError(`unknown side-band channel ${band}`);
  }
  return { data: concatBytes(data), progress, error };
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
