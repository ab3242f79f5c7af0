/**
 * @module remote/pack-worker — the body of the pack-parsing thread (see remote/pack-thread.ts): parses
 * one pack (inflate, deltas, ids) and sends its objects back in one transferred buffer, so the daemon's
 * JS thread, which serves every FUSE request, does none of that work. Built into the executable as an
 * entry point of its own (scripts/build.ts).
 */
import { parsePack } from "./pack.ts";
import { RemoteError } from "./remote-error.ts";
import type { PackRequest, PackResponse } from "./pack-thread.ts";

declare const self: Worker;

self.onmessage = (ev: MessageEvent<PackRequest>) => {
  const { id, pack, url } = ev.data;
  try {
    const objects = parsePack(pack, url);
    let total = 0;
    for (const o of objects) total += o.data.byteLength;
    const bytes = new Uint8Array(total);
    const types: string[] = [];
    const oids: string[] = [];
    const ends = new Uint32Array(objects.length);
    let at = 0;
    objects.forEach((o, i) => {
      bytes.set(o.data, at);
      at += o.data.byteLength;
      ends[i] = at;
      types.push(o.type);
      oids.push(o.oid);
    });
    const reply: PackResponse = { id, types, oids, ends, bytes };
    self.postMessage(reply, [bytes.buffer, ends.buffer]);
  } catch (err) {
    const e = err as Error;
    const reply: PackResponse = { id, error: { message: e.message, failure: err instanceof RemoteError ? err.failure : "protocol" } };
    self.postMessage(reply);
  }
};
