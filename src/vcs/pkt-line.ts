/**
 * @module vcs/pkt-line — reading git's pkt-line framing (`<4 hex length><payload>`, `0000` flush) and the
 * ref advertisement of smart HTTP `info/refs`. Pure; knows nothing of HTTP.
 */

export interface AdvertisedRefs {
  /** ref name → object id (`HEAD` included when advertised). */
  refs: Map<string, string>;
  capabilities: string[];
}

const decoder = new TextDecoder();

/** Splits a pkt-line stream into payloads; a flush packet is `null`. Throws on malformed framing. */
export function readPktLines(body: Uint8Array): Array<Uint8Array | null> {
  const out: Array<Uint8Array | null> = [];
  let i = 0;
  while (i < body.length) {
    if (i + 4 > body.length) throw new Error(`truncated pkt-line at byte ${i}`);
    const len = Number.parseInt(decoder.decode(body.subarray(i, i + 4)), 16);
    if (!Number.isInteger(len) || (len > 0 && len < 4)) throw new Error(`bad pkt-line length at byte ${i}`);
    if (len === 0) {
      out.push(null);
      i += 4;
      continue;
    }
    if (i + len > body.length) throw new Error(`truncated pkt-line at byte ${i}`);
    out.push(body.subarray(i + 4, i + len));
    i += len;
  }
  return out;
}

/** Parses an `info/refs?service=…` body (with or without the `# service=` preamble). */
export function parseRefAdvertisement(body: Uint8Array): AdvertisedRefs {
  const refs = new Map<string, string>();
  let capabilities: string[] = [];
  for (const pkt of readPktLines(body)) {
    if (pkt === null) continue;
    let line = decoder.decode(pkt).replace(/\n$/, "");
    if (line.startsWith("# service=")) continue;
    const nul = line.indexOf("\0");
    if (nul >= 0) {
      capabilities = line.slice(nul + 1).split(" ").filter(Boolean);
      line = line.slice(0, nul);
    }
    const m = /^([0-9a-f]{40}) (.+)$/.exec(line);
    if (!m) continue;
    if (m[2] === "capabilities^{}") continue;
    refs.set(m[2]!, m[1]!);
  }
  return { refs, capabilities };
}
