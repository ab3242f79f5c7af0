/**
 * @module store/lfs-objects — Git LFS objects in the process's one blob cache. An object is downloaded
 * through the LFS batch API (`LfsClient`: sha-256 and size verified while streaming, straight into the
 * cache's `tmp/`), then stored as a blob under its git blob id: the same budget (`cache_max_bytes`), LRU
 * eviction, pins and shared fds as any blob, and no copy in memory. `LfsIndex` remembers which blob holds
 * which object, so a restart finds it and an evicted one is fetched again through the LFS API.
 *
 * Single-flight per object; many objects (prefetch, read-ahead) go in one batch call. A per-object error
 * keeps its errno (404/410 → ENOENT, corrupt data and the rest → EIO); nothing unverified is stored.
 */
import { open } from "node:fs/promises";
import { Errno, FsError } from "../util/errno.ts";
import { logger } from "../util/log.ts";
import { EMPTY_BLOB_OID, raceSignal, SingleFlight } from "../remote/index.ts";
import type { LfsClient, LfsObjectSpec } from "../remote/lfs-client.ts";
import type { BlobCache } from "./blob-cache.ts";
import type { LfsIndex } from "./lfs-index.ts";
import type { Oid } from "./types.ts";

const log = logger("store/lfs");

export interface LfsObjectCounters {
  /** LFS objects downloaded, and their bytes. */
  downloads: number;
  downloadBytes: number;
  /** Batch calls made for downloads (one per read, or one per prefetch/read-ahead group). */
  batches: number;
  /** Objects that failed (per-object error, corrupt data, network). */
  failures: number;
}

export class LfsObjects {
  readonly counters: LfsObjectCounters = { downloads: 0, downloadBytes: 0, batches: 0, failures: 0 };
  readonly #flights = new SingleFlight<string, Oid>();

  constructor(
    private readonly cache: BlobCache,
    readonly index: LfsIndex,
    readonly client: LfsClient,
  ) {}

  /** The blob id an object is cached under, when its content is in the cache now. */
  cachedOid(o: LfsObjectSpec): Oid | null {
    if (o.size === 0) return EMPTY_BLOB_OID;
    const row = this.index.bySha256(o.oid);
    return row && row.size === o.size && this.cache.hasBlob(row.oid) ? row.oid : null;
  }

  /** The LFS object a blob id stands for (to fetch an evicted one again), or null. */
  objectFor(oid: Oid): LfsObjectSpec | null {
    const row = this.index.byOid(oid);
    return row ? { oid: row.sha256 as LfsObjectSpec["oid"], size: row.size } : null;
  }

  /** Makes sure the object is cached; resolves with its blob id. Single-flight per object. */
  async ensure(o: LfsObjectSpec, signal?: AbortSignal): Promise<Oid> {
    const hit = this.cachedOid(o);
    if (hit) return hit;
    const [p] = this.#start([o]);
    return raceSignal(p!, signal);
  }

  /**
   * Fetches many objects with one batch call (objects already cached or in flight are not asked for
   * again). Per-object results; never throws.
   */
  async ensureMany(objects: readonly LfsObjectSpec[]): Promise<Array<{ oid: string; ok: true; blob: Oid } | { oid: string; ok: false; error: unknown }>> {
    const wanted = [...new Map(objects.map((o) => [o.oid, o])).values()];
    const flights = this.#start(wanted.filter((o) => !this.cachedOid(o)));
    const byOid = new Map(wanted.filter((o) => !this.cachedOid(o)).map((o, i) => [o.oid, flights[i]!]));
    return Promise.all(
      wanted.map(async (o) => {
        try {
          return { oid: o.oid, ok: true as const, blob: this.cachedOid(o) ?? (await byOid.get(o.oid)!) };
        } catch (error) {
          return { oid: o.oid, ok: false as const, error };
        }
      }),
    );
  }

  /** One flight per object; objects not in flight yet share one batch call. */
  #start(objects: readonly LfsObjectSpec[]): Array<Promise<Oid>> {
    const fresh: LfsObjectSpec[] = [];
    const settle = new Map<string, { resolve: (oid: Oid) => void; reject: (e: unknown) => void }>();
    const flights = objects.map((o) =>
      this.#flights.do(o.oid, () => {
        fresh.push(o);
        return new Promise<Oid>((resolve, reject) => settle.set(o.oid, { resolve, reject }));
      }),
    );
    if (fresh.length > 0) void this.#download(fresh, settle);
    return flights;
  }

  async #download(objects: LfsObjectSpec[], settle: Map<string, { resolve: (oid: Oid) => void; reject: (e: unknown) => void }>): Promise<void> {
    const stored = new Map<string, Oid>();
    this.counters.batches++;
    try {
      const results = await this.client.download(objects, {
        tempPath: (o) => this.cache.tempPath(`lfs-${o.oid}`),
        commit: async (o, tmp) => {
          // The client checked sha-256 and size; the git blob id names the file in the cache.
          const oid = await gitBlobOidOfFile(tmp, o.size);
          this.cache.adoptVerified(oid, tmp, o.size);
          this.index.put({ sha256: o.oid, oid, size: o.size });
          stored.set(o.oid, oid);
          this.counters.downloads++;
          this.counters.downloadBytes += o.size;
        },
      });
      for (const r of results) {
        const s = settle.get(r.oid);
        if (!s) continue;
        const oid = stored.get(r.oid);
        if (r.ok && oid) s.resolve(oid);
        else {
          this.counters.failures++;
          const error = r.ok ? new FsError(Errno.EIO, `LFS object ${r.oid} was not stored`) : r.error;
          log.warn("cannot fetch LFS object", { oid: r.oid, error: error as Error });
          s.reject(error);
        }
        settle.delete(r.oid);
      }
    } catch (err) {
      this.counters.failures += settle.size;
      log.warn("LFS batch download failed", { objects: objects.length, error: err as Error });
      for (const s of settle.values()) s.reject(err);
      settle.clear();
    }
    for (const [oid, s] of settle) s.reject(new FsError(Errno.EIO, `LFS object ${oid}: no answer from the batch API`));
  }
}

/** git's blob id of a file (`SHA-1("blob <size>\0" + content)`), streamed. */
async function gitBlobOidOfFile(path: string, size: number): Promise<Oid> {
  const h = new Bun.CryptoHasher("sha1");
  h.update(`blob ${size}\0`);
  const fh = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; ; ) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return h.digest("hex") as Oid;
}
