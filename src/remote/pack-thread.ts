/**
 * @module remote/pack-thread — parses packs on a thread of their own. Inflating and hashing a pack of a
 * thousand small files is tens of milliseconds of CPU; on the daemon's JS thread that time would hold
 * up the FUSE requests of every mount (the reader waiting for the pack's first files among them). One
 * worker, started when a pack fetch begins (its start-up then overlaps the network wait) and unref'd
 * while idle; packs are parsed one after another in it. A small pack is parsed on the calling thread:
 * a few hundred small objects take a millisecond or two, less than a trip to the worker, and the small
 * pack a reader waits for must not queue behind a big one.
 */
import { RemoteError, type RemoteFailure } from "./remote-error.ts";
import { parsePack, type PackObject, type PackObjectType } from "./pack.ts";
import type { Oid } from "./oid.ts";
import { WorkerCalls } from "../util/worker-calls.ts";

export interface PackRequest {
  id: number;
  pack: Uint8Array;
  url: string;
}

export type PackResponse =
  | { id: number; types: string[]; oids: string[]; ends: Uint32Array; bytes: Uint8Array; error?: undefined }
  | { id: number; error: { message: string; failure: RemoteFailure } };

/**
 * Where the worker's code is: next to this module when run from source; in the executable, where
 * `bun build --compile` puts a second entry point (paths relative to `src/`).
 */
function workerUrl(): string {
  return Bun.main.startsWith("/$bunfs/") ? "/$bunfs/root/remote/pack-worker.js" : new URL("./pack-worker.ts", import.meta.url).href;
}

let thread: WorkerCalls<Omit<PackRequest, "id">, PackResponse> | undefined;

/** Packs of at most this many objects and bytes are parsed on the calling thread. */
const INLINE_MAX_OBJECTS = 256;
const INLINE_MAX_BYTES = 256 * 1024;

/** Starts the pack thread if it is not running: call when a pack is on its way. */
export function preparePackThread(): WorkerCalls<Omit<PackRequest, "id">, PackResponse> {
  if (!thread || thread.failed) thread = new WorkerCalls(new Worker(workerUrl()), "pack parser");
  return thread;
}

/**
 * `parsePack` on the pack thread (inline for a small pack): the same objects (ids computed from their
 * bytes), the same errors.
 */
export async function parsePackOffThread(pack: Uint8Array, url: string): Promise<PackObject[]> {
  // The object count is in the header (bytes 8-11); parsePack checks the rest.
  const count = pack.length >= 12 ? new DataView(pack.buffer, pack.byteOffset, 12).getUint32(8) : 0;
  if (count <= INLINE_MAX_OBJECTS && pack.length <= INLINE_MAX_BYTES) return parsePack(pack, url);
  // The pack's bytes are not needed here any more: moved, not copied, when they own their buffer.
  const whole = pack.byteOffset === 0 && pack.byteLength === pack.buffer.byteLength;
  const r = await preparePackThread()
    .call({ pack, url }, whole ? [pack.buffer as ArrayBuffer] : [])
    .catch((err: Error) => {
      throw new RemoteError({ failure: "protocol", url, message: err.message });
    });
  if (r.error) throw new RemoteError({ failure: r.error.failure, url, message: r.error.message });
  const objects: PackObject[] = new Array(r.oids.length);
  let start = 0;
  for (let i = 0; i < r.oids.length; i++) {
    objects[i] = { type: r.types[i] as PackObjectType, oid: r.oids[i] as Oid, data: r.bytes.subarray(start, r.ends[i]) };
    start = r.ends[i]!;
  }
  return objects;
}
