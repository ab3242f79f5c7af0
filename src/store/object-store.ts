/**
 * @module store/object-store — the one object store of a process, in front of a `BackingStore`.
 *
 * Every view (workspace, sub-path job views, legacy checkouts) and every CL layer build reads content
 * through here, so one content-addressed cache with one byte budget serves them all. It owns:
 * single-flight per blob, verify-once (each download is SHA-1 checked exactly once, then stored without
 * re-hashing), download concurrency, read-ahead, size discovery (HEAD, batched per directory, sizes
 * persisted by blob id), pack prefetch of a whole directory, raw trees by id, and the open blob files
 * reads are served from. Results say where they came from (memory, disk, remote) for metrics.
 *
 * Open files: the read-only view runs in the kernel's no-open mode, so reads arrive by inode with no
 * open/release to tell what is in use. Open fds are therefore a bounded, *unpinned* cache: when the
 * cache evicts a blob its fd is closed (after the reply in flight), and the next read fetches it again.
 * Only files the kernel really holds open (`pin`/`unpin`, when the kernel sends open/release) and
 * in-progress stores are pinned, so the bound holds: cached bytes ≤ cache_max_bytes + pinned bytes.
 */
import { Errno, FsError, errnoOf } from "../util/errno.ts";
import { logger } from "../util/log.ts";
import { EMPTY_BLOB_OID, gitBlobOid, parseGitTree, raceSignal, reachableBlobs, Semaphore, SingleFlight, type TreeEntry } from "../remote/index.ts";
import type { BackingStore, FetchOptions } from "./backing-store.ts";
import type { BlobCache } from "./blob-cache.ts";
import type { LfsObjects } from "./lfs-objects.ts";
import type { TreeIndex } from "./tree-index.ts";
import type { BlobHandle, GcOptions, GcReport, Oid, VerifyOptions, VerifyReport } from "./types.ts";
import { recordCacheLookup } from "../util/metrics.ts";

const log = logger("store/objects");

export type Origin = "memory" | "disk" | "remote";

/** Counters for status and metrics. Monotonic except `openHandles`. */
export interface ObjectStoreCounters {
  /** Content requests answered from an fd already open / the disk cache / a download. */
  memory: number;
  disk: number;
  remote: number;
  /** Blob downloads and their bytes (per-blob GETs and blobs unpacked from packs). */
  downloads: number;
  downloadBytes: number;
  /** Blobs hashed (exactly one per download; pack objects are hashed when parsed). */
  hashed: number;
  /** Callers that joined a download already in flight. */
  joins: number;
  /** HEAD requests for sizes, and size questions answered without one. */
  sizeRequests: number;
  sizeHits: number;
  /** Pack prefetches, and blobs they stored. */
  packs: number;
  packBlobs: number;
  /** Read-ahead downloads started. */
  readahead: number;
  /** Raw trees answered from the tree index / stored into it. */
  treeHits: number;
  treeStores: number;
  /** Blobs evicted from the cache (bound or gc), and fds closed because of it. */
  evictions: number;
  openHandles: number;
}

export interface ObjectStoreOptions {
  /** Concurrent blob downloads (`fetch_file_thread`). Default 10. */
  downloadConcurrency?: number;
  /** Concurrent HEAD requests when sizing a directory. Default 16. */
  sizeConcurrency?: number;
  /** Concurrent read-ahead downloads; never more than half the download slots. Default 4. */
  readaheadConcurrency?: number;
  /** Open blob fds kept for reads by inode (not pins). Default 1024. */
  maxOpenFiles?: number;
}

export interface Opened {
  /** Null for the empty blob (nothing to read). Owned by the store: do not close. */
  readonly handle: BlobHandle | null;
  readonly origin: Origin;
}

/**
 * Closes an fd in the next macrotask: a read that just got a handle replies from its fd in a later
 * microtask of the same turn, and closing in that turn could pull the fd from under the reply.
 */
function closeLater(h: BlobHandle): void {
  setImmediate(() => h.close());
}

/** What a pack brought: blobs stored (or, while readable only, to be stored), their bytes, trees kept. */
export interface PackResult {
  blobs: number;
  bytes: number;
  trees: number;
}

interface PackJob {
  readonly readable: Promise<PackResult>;
  readonly stored: Promise<PackResult>;
}

export class ObjectStore {
  readonly counters: ObjectStoreCounters = {
    memory: 0, disk: 0, remote: 0, downloads: 0, downloadBytes: 0, hashed: 0, joins: 0, sizeRequests: 0, sizeHits: 0,
    packs: 0, packBlobs: 0, readahead: 0, treeHits: 0, treeStores: 0, evictions: 0, openHandles: 0,
  };
  readonly #downloads = new SingleFlight<Oid, void>();
  readonly #sizing = new SingleFlight<Oid, number>();
  /** Pack fetches in flight by (path, byte bound): when their blobs are known, and when stored. */
  readonly #packs = new Map<string, PackJob>();
  /**
   * Blobs of a parsed pack that are still being stored: their sizes are known and they need no request;
   * a reader waits for `#stored` ticks (one per stored chunk) until its blob is on disk.
   */
  readonly #arriving = new Map<Oid, number>();
  #stored = Promise.withResolvers<void>();
  readonly #downloadSlots: Semaphore;
  readonly #sizeSlots: Semaphore;
  readonly #readaheadSlots: Semaphore;
  /** Open blob fds by oid, least recently read first. Unpinned: eviction closes them. */
  readonly #open = new Map<Oid, BlobHandle>();
  readonly #maxOpen: number;
  readonly #unsubscribe: () => void;
  /** Git LFS objects (content fetched through the LFS batch API, cached as blobs); null: no LFS. */
  lfs: LfsObjects | null = null;

  constructor(
    readonly cache: BlobCache,
    readonly trees: TreeIndex,
    readonly backing: BackingStore,
    opts: ObjectStoreOptions = {},
  ) {
    const downloads = Math.max(1, opts.downloadConcurrency ?? 10);
    this.#downloadSlots = new Semaphore(downloads);
    this.#sizeSlots = new Semaphore(Math.max(1, opts.sizeConcurrency ?? 16));
    this.#readaheadSlots = new Semaphore(Math.max(1, Math.min(opts.readaheadConcurrency ?? 4, Math.ceil(downloads / 2))));
    this.#maxOpen = Math.max(1, opts.maxOpenFiles ?? 1024);
    this.#unsubscribe = cache.onEvict((oid) => {
      this.counters.evictions++;
      this.#forget(oid);
    });
  }

  // ---- content ---------------------------------------------------------------------------------

  /** True when the blob's content is in the cache (or is the empty blob). */
  has(oid: Oid): boolean {
    return oid === EMPTY_BLOB_OID || this.cache.hasBlob(oid);
  }

  /** The file holding a cached blob (it may be evicted at any time after), or null. */
  cachedPath(oid: Oid): string | null {
    return this.cache.storedPath(oid);
  }

  /** True while a download of `oid` is in flight, or it came in a pack that is being stored. */
  isFetching(oid: Oid): boolean {
    return this.#downloads.has(oid) || this.#arriving.has(oid);
  }

  /** Makes sure the blob is cached: downloaded once (single-flight), hashed once, stored. */
  async ensure(oid: Oid, opts: FetchOptions = {}): Promise<Origin> {
    if (this.has(oid)) return "disk";
    // An evicted LFS object is not a blob Mega serves: fetch it again the way it came.
    const lfsObject = this.lfs?.objectFor(oid);
    if (lfsObject) {
      await this.lfs!.ensure(lfsObject, opts.signal).catch((err: unknown) => {
        throw deadlineError(err, opts.signal, `LFS object ${lfsObject.oid}`);
      });
      return "remote";
    }
    if (this.#arriving.has(oid)) {
      await raceSignal(this.#untilStored(oid), opts.signal).catch((err: unknown) => {
        throw deadlineError(err, opts.signal, `blob ${oid}`);
      });
      if (this.has(oid)) return "remote";
      // The pack's store failed (a full disk, say): fetch the blob on its own, which reports why.
    }
    if (this.#downloads.has(oid)) this.counters.joins++;
    await raceSignal(this.#downloads.do(oid, () => this.#download(oid)), opts.signal).catch((err: unknown) => {
      throw deadlineError(err, opts.signal, `blob ${oid}`);
    });
    return "remote";
  }

  /** Resolves once `oid` has left `#arriving` (stored, or its pack's store failed). */
  async #untilStored(oid: Oid): Promise<void> {
    while (this.#arriving.has(oid)) await this.#stored.promise;
  }

  async #download(oid: Oid): Promise<void> {
    const release = await this.#downloadSlots.acquire();
    try {
      if (this.cache.hasBlob(oid)) return;
      let bytes: Uint8Array;
      try {
        bytes = await this.backing.fetchBlob(oid);
        this.counters.hashed++;
        const actual = gitBlobOid(bytes);
        if (actual !== oid) throw new FsError(Errno.EIO, `blob ${oid}: content hashes to ${actual} (${bytes.byteLength} bytes); refusing corrupt data`);
      } catch (err) {
        // Readers only see the errno; the daemon log says why (server down, timeout, corrupt data).
        log.warn("cannot fetch file content", { oid, error: err as Error });
        throw err;
      }
      this.counters.downloads++;
      this.counters.downloadBytes += bytes.byteLength;
      await this.cache.putVerified(oid, bytes);
    } finally {
      release();
    }
  }

  /** Counts a blob served from `origin` (the store's counters and the process metrics). */
  #served(origin: Origin): void {
    this.counters[origin]++;
    recordCacheLookup(origin);
  }

  /**
   * An open, readable fd of the blob (downloaded first if needed), shared by every reader of the
   * process. The store owns it; it stays valid at least until the next macrotask.
   */
  async open(oid: Oid, opts: FetchOptions = {}): Promise<Opened> {
    const now = this.openNow(oid);
    if (now) return now;
    for (let attempt = 0; attempt < 2; attempt++) {
      const origin = await this.ensure(oid, opts);
      const handle = this.cache.openBlob(oid, { pin: false });
      if (handle) {
        this.#served(origin);
        this.#remember(oid, handle);
        return { handle, origin };
      }
      // Evicted or found damaged between store and open: fetch again once.
    }
    throw new FsError(Errno.EIO, `blob ${oid} could not be cached (the cache may be too small for it)`);
  }

  /**
   * `open` without a promise turn, for what is already local: the empty blob, an fd already open, or
   * cached content (opened now). Null when the blob must be fetched: then call `open`. FUSE reads of
   * cached files reply within the request this way, which lets the session catch the next request.
   */
  openNow(oid: Oid): Opened | null {
    if (oid === EMPTY_BLOB_OID) return { handle: null, origin: "memory" };
    const known = this.#open.get(oid);
    if (known) {
      // Most recently used last: the bound closes the oldest.
      this.#open.delete(oid);
      this.#open.set(oid, known);
      this.#served("memory");
      return { handle: known, origin: "memory" };
    }
    const handle = this.cache.openBlob(oid, { pin: false });
    if (!handle) return null;
    this.#served("disk");
    this.#remember(oid, handle);
    return { handle, origin: "disk" };
  }

  /**
   * A blob file opened for a caller that holds it like an open file (an overlay open, a copy-up):
   * pinned until the caller closes the handle. Null for the empty blob.
   */
  async openPinned(oid: Oid, opts: FetchOptions = {}): Promise<BlobHandle | null> {
    if (oid === EMPTY_BLOB_OID) return null;
    for (let attempt = 0; attempt < 2; attempt++) {
      const origin = await this.ensure(oid, opts);
      const handle = this.cache.openBlob(oid, { pin: true });
      if (handle) {
        this.#served(origin);
        return handle;
      }
    }
    throw new FsError(Errno.EIO, `blob ${oid} could not be cached (the cache may be too small for it)`);
  }

  /** The whole content of a blob (for symlink targets and CL layers). */
  async read(oid: Oid, opts: FetchOptions = {}): Promise<{ bytes: Uint8Array; origin: Origin }> {
    if (oid === EMPTY_BLOB_OID) return { bytes: new Uint8Array(0), origin: "memory" };
    for (let attempt = 0; attempt < 2; attempt++) {
      const origin = await this.ensure(oid, opts);
      const bytes = await this.cache.readBlob(oid);
      if (bytes) {
        this.#served(origin);
        return { bytes, origin };
      }
    }
    throw new FsError(Errno.EIO, `blob ${oid} could not be cached (the cache may be too small for it)`);
  }

  #remember(oid: Oid, handle: BlobHandle): void {
    const prev = this.#open.get(oid);
    if (prev) closeLater(prev);
    this.#open.set(oid, handle);
    if (this.#open.size > this.#maxOpen) {
      const [oldest, victim] = this.#open.entries().next().value as [Oid, BlobHandle];
      this.#open.delete(oldest);
      closeLater(victim);
    }
    this.counters.openHandles = this.#open.size;
  }

  /** Closes the fd of a blob that left the cache. */
  #forget(oid: Oid): void {
    const h = this.#open.get(oid);
    if (!h) return;
    this.#open.delete(oid);
    this.counters.openHandles = this.#open.size;
    closeLater(h);
  }

  /** Pins a blob while the kernel holds it open (kernels without no-open mode); one `unpin` each. */
  pin(oid: Oid): void {
    this.cache.pin(oid);
  }

  unpin(oid: Oid): void {
    this.cache.unpin(oid);
  }

  /**
   * Starts background downloads of `oids` (a guess at what is read next), through their own small
   * pool so they never crowd out downloads a reader waits for. Failures are ignored.
   */
  readahead(oids: Iterable<Oid>): void {
    for (const oid of oids) {
      if (this.has(oid) || this.isFetching(oid)) continue;
      this.counters.readahead++;
      void (async () => {
        const release = await this.#readaheadSlots.acquire();
        try {
          if (!this.has(oid)) await this.ensure(oid);
        } catch {
          // Only a guess; a real read reports its own error.
        } finally {
          release();
        }
      })();
    }
  }

  // ---- sizes -----------------------------------------------------------------------------------

  /** A size known without asking the server (cached content or a size recorded earlier), else null. */
  knownSize(oid: Oid): number | null {
    if (oid === EMPTY_BLOB_OID) return 0;
    return this.#arriving.get(oid) ?? this.cache.blobSize(oid);
  }

  /** A blob's size: known, or asked of the server once (HEAD) and persisted by blob id. */
  async size(oid: Oid, opts: FetchOptions = {}): Promise<number> {
    const known = this.knownSize(oid);
    if (known !== null) {
      this.counters.sizeHits++;
      return known;
    }
    const p = this.#sizing.do(oid, async () => {
      const release = await this.#sizeSlots.acquire();
      try {
        const again = this.knownSize(oid);
        if (again !== null) return again;
        this.counters.sizeRequests++;
        const s = await this.backing.blobSize(oid);
        this.cache.recordSize(oid, s);
        return s;
      } finally {
        release();
      }
    });
    return raceSignal(p, opts.signal).catch((err: unknown) => {
      throw deadlineError(err, opts.signal, `size of blob ${oid}`);
    });
  }

  /**
   * Learns the sizes of many blobs together (one directory's files): HEAD requests for all unknown
   * ones at once, bounded by the size pool. Resolves when all are known or failed; never throws.
   */
  async sizes(oids: Iterable<Oid>): Promise<void> {
    const unknown = [...new Set(oids)].filter((o) => this.knownSize(o) === null);
    await Promise.all(unknown.map((o) => this.size(o).catch(() => undefined)));
  }

  // ---- trees -----------------------------------------------------------------------------------

  /** A raw tree body seen before (any view, any commit, any pack), or null. */
  tree(oid: Oid): Uint8Array | null {
    const body = this.trees.get(oid);
    if (body) this.counters.treeHits++;
    return body;
  }

  /** Keeps a raw tree body the caller has checked hashes to `oid`. */
  putTree(oid: Oid, body: Uint8Array): void {
    try {
      this.trees.put(oid, body);
      this.counters.treeStores++;
    } catch (err) {
      // Only an optimisation: a full disk must not fail the listing that was just fetched.
      log.warn("could not keep a tree", { oid, error: err as Error });
    }
  }

  /**
   * The listing of directory `path`. Content-addressed: when the caller knows the tree id it expects
   * (from the parent's listing) and that tree was seen before, no request is made. Otherwise the
   * server's raw tree (modes included) is fetched. A view pinned at `commit` whose server has moved on
   * (the raw tree is not the expected one) lists at its commit with `content-hash`, which has no modes:
   * such entries are plain files and directories.
   */
  async listing(path: string, o: { expected?: Oid | null; commit?: Oid | null; signal?: AbortSignal }): Promise<{ oid: Oid; entries: TreeEntry[]; origin: Origin }> {
    const what = `listing of ${path}`;
    const fail = (err: unknown) => {
      throw deadlineError(err, o.signal, what);
    };
    // A pinned view's root: its tree id at the commit, so a tree seen before (any view) can answer.
    const expected = o.expected ?? (o.commit ? await this.treeIdAt(path, o.commit, o.signal).catch(fail) : null);
    if (expected) {
      const body = this.tree(expected);
      if (body) return { oid: expected, entries: parseGitTree(body), origin: "disk" };
    }
    const { oid, body } = await raceSignal(this.backing.rawTree(path), o.signal).catch(fail);
    if (!o.commit || oid === expected) {
      this.putTree(oid, body);
      return { oid, entries: parseGitTree(body), origin: "remote" };
    }
    const plain = await raceSignal(this.backing.listDir(path, { refs: o.commit! }), o.signal).catch(fail);
    const encoder = new TextEncoder();
    const entries: TreeEntry[] = plain.map((e) => ({
      name: e.name,
      nameBytes: encoder.encode(e.name),
      oid: e.oid,
      mode: e.kind === "directory" ? 0o40000 : 0o100644,
      kind: e.kind === "directory" ? "tree" : "blob",
    }));
    // The id of a mode-less listing cannot be computed from it; the id the commit gives is the right one.
    return { oid: expected ?? oid, entries, origin: "remote" };
  }

  /**
   * The tree id of `path` at `commit`, for the root of a pinned view (whose parent listing cannot say):
   * `dir-hash?refs=` for a sub-path; for "/" only whether the server is still at that commit.
   */
  async treeIdAt(path: string, commit: Oid, signal?: AbortSignal): Promise<Oid | null> {
    if (path === "/") {
      const latest = await raceSignal(this.backing.latestCommit(path), signal);
      return latest.oid === commit ? (await raceSignal(this.backing.rawTree(path), signal)).oid : null;
    }
    return raceSignal(this.backing.dirHash(path, { refs: commit }), signal);
  }

  // ---- pack prefetch ---------------------------------------------------------------------------

  /**
   * Fetches every object of `path` (current commit) in one pack and stores the blobs of the path's
   * current tree (verified by construction: their ids are computed from their bytes; the pack's older
   * history is dropped) and its trees. With `wanted`, only those blobs are kept. A pack larger than
   * `maxBytes` is abandoned (EFBIG) so the caller can fall back to per-blob requests. Throws ENOTSUP
   * when the backing store cannot send packs.
   *
   * Resolves when every blob is stored; with `until: "readable"`, as soon as the pack is parsed: its
   * trees are kept, its blobs' sizes known, and each blob is either stored or on its way to disk
   * (`ensure` and `open` wait for that blob alone, not for the whole pack). Blobs are stored in the
   * order of a walk of the tree, so a reader going through the directories finds its next files first.
   */
  prefetchPack(path: string, o: { wanted?: ReadonlySet<Oid>; maxBytes?: number; signal?: AbortSignal; until?: "readable" | "stored" } = {}): Promise<PackResult> {
    const fetchPack = this.backing.fetchPack?.bind(this.backing);
    if (!fetchPack) return Promise.reject(new FsError(Errno.ENOTSUP, "the server cannot send packs"));
    const key = `${path}\0${o.maxBytes ?? ""}`;
    let job = this.#packs.get(key);
    if (!job) {
      const readable = Promise.withResolvers<PackResult>();
      const stored = this.#runPack(fetchPack, path, o, readable.resolve);
      // A failure before the blobs were known fails both; `readable` is settled once either way.
      stored.then(readable.resolve, readable.reject);
      readable.promise.catch(() => undefined);
      const settled = () => {
        if (this.#packs.get(key) === job) this.#packs.delete(key);
      };
      stored.then(settled, settled);
      job = { readable: readable.promise, stored };
      this.#packs.set(key, job);
    }
    return raceSignal(o.until === "readable" ? job.readable : job.stored, o.signal).catch((err: unknown) => {
      throw deadlineError(err, o.signal, `pack of ${path}`);
    });
  }

  async #runPack(fetchPack: NonNullable<BackingStore["fetchPack"]>, path: string, o: { wanted?: ReadonlySet<Oid>; maxBytes?: number }, onReadable: (r: PackResult) => void): Promise<PackResult> {
    const fetched = await fetchPack(path, o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {});
    this.counters.packs++;
    let trees = 0;
    for (const obj of fetched.objects) {
      if (obj.type !== "tree") continue;
      this.putTree(obj.oid, obj.data);
      trees++;
    }
    // In walk order (the current tree, depth first), which is the order readers and builds go in.
    const items: Array<{ oid: Oid; bytes: Uint8Array }> = [];
    let bytes = 0;
    for (const { oid, data } of reachableBlobs(fetched)) {
      if ((o.wanted && !o.wanted.has(oid)) || this.cache.hasBlob(oid) || this.#arriving.has(oid)) continue;
      items.push({ oid, bytes: data });
      bytes += data.byteLength;
    }
    for (const it of items) this.#arriving.set(it.oid, it.bytes.byteLength);
    const announced = { blobs: items.length, bytes, trees };
    onReadable(announced);
    // Ids were computed from the bytes while parsing: each blob is hashed once, here as elsewhere.
    this.counters.hashed += items.length;
    const arrived = (chunk: ReadonlyArray<{ readonly oid: Oid }>) => {
      for (const it of chunk) this.#arriving.delete(it.oid);
      const current = this.#stored;
      this.#stored = Promise.withResolvers<void>();
      current.resolve();
    };
    try {
      const blobs = await this.cache.putManyVerified(items, { onChunk: arrived });
      this.counters.packBlobs += blobs;
      this.counters.downloads += blobs;
      this.counters.downloadBytes += bytes;
      return { blobs, bytes, trees };
    } catch (err) {
      // What was not stored is left to per-blob requests: nobody may wait for it any longer.
      arrived(items.filter((it) => this.#arriving.has(it.oid)));
      throw err;
    }
  }

  // ---- maintenance -----------------------------------------------------------------------------

  du() {
    return { ...this.cache.usage(), ...this.trees.totals() };
  }

  /** Cached bytes and the bound, from in-memory mirrors: cheap enough for every statfs (`du` scans tables). */
  capacity(): { bytes: number; maxBytes: number } {
    return { bytes: this.cache.storedBytes, maxBytes: this.cache.maxBytes };
  }

  /** Evicts unpinned blobs least recently used first; open fds of evicted blobs are closed. */
  gc(opts: GcOptions = {}): GcReport {
    return this.cache.gc(opts);
  }

  verify(opts: VerifyOptions = {}): Promise<VerifyReport> {
    return this.cache.verify(opts);
  }

  close(): void {
    this.#unsubscribe();
    for (const h of this.#open.values()) closeLater(h);
    this.#open.clear();
    this.counters.openHandles = 0;
  }
}

/** A caller's deadline firing (or any timeout) becomes EIO with a message that says so; other errnos pass unchanged. */
export function deadlineError(err: unknown, signal: AbortSignal | undefined, what: string): unknown {
  if (signal?.aborted && err === signal.reason) {
    return new FsError(Errno.EIO, `${what}: no answer from the server within the request deadline`, { cause: err });
  }
  const errno = errnoOf(err);
  // A server that does not answer is EIO to a reader (what tools expect of a failing disk), whichever
  // deadline fired first: the caller's or the HTTP attempt's.
  if (errno === undefined || errno === Errno.ETIMEDOUT) return new FsError(Errno.EIO, `${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  return err;
}
