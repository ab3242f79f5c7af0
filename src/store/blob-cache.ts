/**
 * @module store/blob-cache — the bounded, verified cache of blob content: files (blob-files.ts) plus
 * their index rows (blob-index.ts), LRU eviction with pins (lru.ts), and the checks that keep a bad
 * file from being served. Only bytes whose git blob id equals the oid are ever stored; a file that is
 * missing or has the wrong size is dropped from the index when noticed (it is simply fetched again).
 *
 * Concurrency: one JS thread. Every step that must not interleave with eviction (rename + index row,
 * size check + pin) runs synchronously within one turn of the event loop.
 * Knows nothing of inodes, Mega or FUSE.
 */
import type { Database } from "bun:sqlite";
import { open } from "node:fs/promises";
import { closeSync, fstatSync, openSync, readFileSync, statSync } from "node:fs";
import type { BlobHandle, BlobUsage, GcOptions, GcReport, Oid, VerifyOptions, VerifyReport } from "./types.ts";
import { BlobFiles } from "./blob-files.ts";
import { BlobIndex, type BlobRow } from "./blob-index.ts";
import { AccessLog, PinSet } from "./lru.ts";
import { gitBlobOid, isOid } from "../remote/index.ts";
import { Errno, FsError, errnoOf } from "../util/errno.ts";
import { logger } from "../util/log.ts";

const log = logger("store");

/** Flush batched access times early once this many are pending, to bound memory. */
const MAX_PENDING_ACCESSES = 10_000;
const PAGE = 512;
/** Blobs of a batch stored per step (one transaction each) before the event loop gets a turn. */
const BATCH_CHUNK = 128;

export interface BlobCacheOptions {
  /**
   * Re-hash each blob the first time this process opens it. Set after an unclean shutdown when blob
   * files are written without fsync: a crash can leave a file of the right size with the wrong bytes.
   */
  readonly rehashOnFirstOpen?: boolean;
  readonly maxBytes: number;
  readonly lowWaterRatio: number;
  readonly accessFlushMs: number;
  readonly now: () => number;
}

function asFsError(err: unknown, what: string): FsError {
  if (err instanceof FsError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FsError(errnoOf(err) ?? Errno.EIO, `${what}: ${message}`, { cause: err });
}

export class BlobCache {
  /** Blobs re-hashed since start when `rehashOnFirstOpen` is set. */
  readonly #verified = new Set<string>();
  readonly #files: BlobFiles;
  readonly #index: BlobIndex;
  readonly #access = new AccessLog();
  readonly #pins = new PinSet();
  readonly #opts: BlobCacheOptions;
  readonly #evictListeners = new Set<(oid: Oid) => void>();
  /** Mirror of SUM(size) over stored rows; kept in step with every markStored/markDropped. */
  #storedBytes: number;
  #timer: ReturnType<typeof setInterval> | null;

  constructor(db: Database, files: BlobFiles, opts: BlobCacheOptions) {
    if (!(opts.maxBytes >= 0)) throw FsError.of("EINVAL", `cache_max_bytes must be ≥ 0, got ${opts.maxBytes}`);
    this.#files = files;
    this.#index = new BlobIndex(db);
    this.#opts = opts;
    this.#storedBytes = this.#index.storedTotals().bytes;
    this.#timer = setInterval(() => this.flushAccess(), opts.accessFlushMs);
    // The flush timer must not keep a finished process alive; close() flushes the rest.
    this.#timer.unref?.();
  }

  get maxBytes(): number {
    return this.#opts.maxBytes;
  }

  /** Eviction stops at this many cached bytes. */
  get lowWaterBytes(): number {
    return Math.floor(this.#opts.maxBytes * this.#opts.lowWaterRatio);
  }

  /**
   * Verifies and stores a blob. Bytes whose git blob id is not `oid` are rejected with EIO and
   * nothing is written. With `pin`, the blob is pinned before it can be evicted and the caller owns
   * one `unpin`. The blob just stored is never the victim of the eviction this call triggers.
   */
  async putBlob(oid: Oid, bytes: Uint8Array, opts: { pin?: boolean } = {}): Promise<void> {
    if (!isOid(oid)) throw FsError.of("EINVAL", `not a git object id: ${JSON.stringify(oid)}`);
    const actual = gitBlobOid(bytes);
    if (actual !== oid) throw FsError.of("EIO", `blob ${oid}: content hashes to ${actual}; not stored`);
    return this.putVerified(oid, bytes, opts);
  }

  /**
   * Stores bytes the caller has already checked against `oid` (the object store hashes each
   * download exactly once). Never call this with unverified bytes.
   */
  async putVerified(oid: Oid, bytes: Uint8Array, opts: { pin?: boolean } = {}): Promise<void> {
    if (opts.pin) this.#pins.pin(oid);
    try {
      const existing = this.#index.get(oid);
      if (existing?.stored && this.#fileHasSize(oid, existing.size)) {
        this.#access.touch(oid, this.#opts.now());
        return;
      }
      const tmp = await this.#files.writeTemp(oid, bytes);
      // From here to the index row: synchronous (see module comment).
      this.#files.commit(tmp, oid);
      if (!this.#index.get(oid)?.stored) this.#storedBytes += bytes.byteLength;
      this.#index.markStored(oid, bytes.byteLength, this.#opts.now());
    } catch (err) {
      if (opts.pin) this.#pins.unpin(oid);
      throw asFsError(err, `storing blob ${oid}`);
    }
    if (this.#storedBytes > this.#opts.maxBytes) this.#evictTo(this.lowWaterBytes, oid);
  }

  /**
   * `putVerified` for a batch (the blobs of a pack), in chunks of BATCH_CHUNK: a chunk's files are
   * written first (small ones on the writer thread), then all their renames and index rows happen in
   * one synchronous step with one SQLite transaction — a thousand small files cost a few commits, not a
   * thousand. Meanwhile the event loop runs, so FUSE requests (and a smaller pack someone waits for) are
   * served while a big pack is stored. Blobs already cached are skipped. On failure nothing of the failing chunk stays
   * (its renamed files are removed again); earlier chunks are stored. Returns how many were stored.
   * `onChunk` runs after each chunk is stored, with its items (readers waiting for one of them can go on).
   */
  async putManyVerified(items: ReadonlyArray<{ readonly oid: Oid; readonly bytes: Uint8Array }>, opts: { onChunk?: (chunk: ReadonlyArray<{ readonly oid: Oid }>) => void } = {}): Promise<number> {
    let stored = 0;
    for (let i = 0; i < items.length; i += BATCH_CHUNK) {
      if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const chunk = items.slice(i, i + BATCH_CHUNK);
      stored += await this.#putChunk(chunk);
      opts.onChunk?.(chunk);
    }
    return stored;
  }

  async #putChunk(items: ReadonlyArray<{ readonly oid: Oid; readonly bytes: Uint8Array }>): Promise<number> {
    const todo = items.filter((it) => !this.#index.get(it.oid)?.stored);
    let temps: string[];
    try {
      temps = await this.#files.writeTemps(todo);
    } catch (err) {
      throw asFsError(err, `storing ${todo.length} blobs`);
    }
    // From here to the index rows: synchronous (see module comment).
    const renamed: Array<{ oid: Oid; size: number }> = [];
    try {
      todo.forEach((it, i) => {
        // Stored meanwhile by another download (the writes above may have awaited): keep that one.
        if (this.#index.get(it.oid)?.stored) return this.#files.discard(temps[i]!);
        this.#files.commit(temps[i]!, it.oid);
        renamed.push({ oid: it.oid, size: it.bytes.byteLength });
      });
      this.#index.markManyStored(renamed, this.#opts.now());
    } catch (err) {
      for (const t of temps) this.#files.discard(t); // those already renamed are simply not there
      for (const r of renamed) this.#files.remove(r.oid);
      throw asFsError(err, `storing ${todo.length} blobs`);
    }
    for (const r of renamed) this.#storedBytes += r.size;
    if (this.#storedBytes > this.#opts.maxBytes) this.#evictTo(this.lowWaterBytes, null);
    return renamed.length;
  }

  /** A fresh temp path in the cache's `tmp/` (same filesystem as the blobs), for `adoptVerified`. */
  tempPath(hint: string): string {
    return this.#files.tempPath(hint);
  }

  /**
   * Takes over a complete file (in `tmp/`, from `tempPath`) that the caller has checked holds blob `oid`
   * of `size` bytes: large content (LFS objects) is stored without being held in memory. Like
   * `putVerified` otherwise; the file is gone afterwards in every case.
   */
  adoptVerified(oid: Oid, tmp: string, size: number): void {
    try {
      const existing = this.#index.get(oid);
      if (existing?.stored && this.#fileHasSize(oid, existing.size)) {
        this.#files.discard(tmp);
        this.#access.touch(oid, this.#opts.now());
        return;
      }
      this.#files.commit(tmp, oid);
      if (!this.#index.get(oid)?.stored) this.#storedBytes += size;
      this.#index.markStored(oid, size, this.#opts.now());
    } catch (err) {
      this.#files.discard(tmp);
      throw asFsError(err, `storing blob ${oid}`);
    }
    if (this.#storedBytes > this.#opts.maxBytes) this.#evictTo(this.lowWaterBytes, oid);
  }

  /**
   * Opens a cached blob for zero-copy reads, pinned until the handle is closed. Null if the content is
   * not cached, or if its file turned out missing or of the wrong size (then it is dropped, so the
   * caller fetches it again). With `pin: false` the handle does not pin: the blob may be evicted while
   * it is open (the fd stays readable; eviction listeners are told so they can close it).
   */
  openBlob(oid: Oid, opts: { pin?: boolean } = {}): BlobHandle | null {
    const pin = opts.pin ?? true;
    const row = this.#index.get(oid);
    if (!row?.stored) return null;
    const path = this.#files.pathFor(oid);
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (err) {
      if (errnoOf(err) === Errno.ENOENT) {
        this.#drop(row, "file missing");
        return null;
      }
      throw asFsError(err, `opening blob ${oid}`);
    }
    const size = fstatSync(fd).size;
    if (size !== row.size) {
      closeSync(fd);
      this.#drop(row, `file has ${size} bytes, expected ${row.size}`);
      return null;
    }
    const torn = this.#checkAfterCrash(oid, () => readFileSync(fd));
    if (torn) {
      closeSync(fd);
      this.#drop(row, torn);
      return null;
    }
    if (pin) this.#pins.pin(oid);
    this.#touch(oid);
    let closed = false;
    return {
      oid,
      path,
      fd,
      size,
      close: () => {
        if (closed) return;
        closed = true;
        closeSync(fd);
        if (pin) this.#pins.unpin(oid);
      },
    };
  }

  /** The whole content of a cached blob, or null (see `openBlob`). Pinned while reading. */
  async readBlob(oid: Oid): Promise<Uint8Array | null> {
    const row = this.#index.get(oid);
    if (!row?.stored) return null;
    this.#pins.pin(oid);
    try {
      let fh;
      try {
        fh = await open(this.#files.pathFor(oid), "r");
      } catch (err) {
        if (errnoOf(err) !== Errno.ENOENT) throw asFsError(err, `opening blob ${oid}`);
        this.#drop(row, "file missing");
        return null;
      }
      try {
        const bytes = new Uint8Array(await fh.readFile());
        if (bytes.byteLength !== row.size) {
          this.#drop(row, `file has ${bytes.byteLength} bytes, expected ${row.size}`);
          return null;
        }
        const torn = this.#checkAfterCrash(oid, () => bytes);
        if (torn) {
          this.#drop(row, torn);
          return null;
        }
        this.#touch(oid);
        return bytes;
      } finally {
        await fh.close();
      }
    } finally {
      this.#pins.unpin(oid);
    }
  }

  /** True if the index says the content is cached (no disk access; `openBlob` checks the file). */
  hasBlob(oid: Oid): boolean {
    return this.#index.get(oid)?.stored ?? false;
  }

  /**
   * The file of a cached blob whose bytes may be handed out without opening it here (read it while it
   * is there: eviction may remove it), or null. After an unclean shutdown only blobs re-hashed since
   * start qualify: the others are checked when `openBlob` first opens them.
   */
  storedPath(oid: Oid): string | null {
    if (!this.hasBlob(oid)) return null;
    if (this.#opts.rehashOnFirstOpen && !this.#verified.has(oid)) return null;
    return this.#files.pathFor(oid);
  }

  /** A known size: of cached content, or recorded with `recordSize`; null if unknown. 0 is a real size. */
  blobSize(oid: Oid): number | null {
    return this.#index.get(oid)?.size ?? null;
  }

  /** Remembers a size learned without the content (HEAD). Ignored if verified content is cached. */
  recordSize(oid: Oid, size: number): void {
    if (!isOid(oid)) throw FsError.of("EINVAL", `not a git object id: ${JSON.stringify(oid)}`);
    if (!(Number.isSafeInteger(size) && size >= 0)) throw FsError.of("EINVAL", `invalid blob size ${size}`);
    this.#index.recordSize(oid, size);
  }

  pin(oid: Oid): void {
    this.#pins.pin(oid);
  }

  /** Calls `listener` for every blob whose file is removed (eviction, damage), so open fds can be let go. */
  onEvict(listener: (oid: Oid) => void): () => void {
    this.#evictListeners.add(listener);
    return () => this.#evictListeners.delete(listener);
  }

  /** Cached bytes right now (the mirror kept in step with the index, no query). */
  get storedBytes(): number {
    return this.#storedBytes;
  }

  unpin(oid: Oid): void {
    this.#pins.unpin(oid);
  }

  isPinned(oid: Oid): boolean {
    return this.#pins.isPinned(oid);
  }

  /** Writes batched last-access times to SQLite. Runs on a timer, before eviction and on close. */
  flushAccess(): void {
    if (this.#access.size === 0) return;
    this.#index.touchMany(this.#access.drain());
  }

  /** Evicts unpinned blobs, least recently used first, down to `targetBytes` (default: low-water mark). */
  gc(opts: GcOptions = {}): GcReport {
    const target = Math.max(0, opts.targetBytes ?? this.lowWaterBytes);
    const before = this.usage();
    const evicted = this.#evictTo(target, null);
    return {
      evictedBlobs: evicted.blobs,
      evictedBytes: evicted.bytes,
      remainingBytes: this.#storedBytes,
      pinnedBytes: before.pinnedBytes,
    };
  }

  usage(): BlobUsage {
    const totals = this.#index.storedTotals();
    let pinned = 0;
    let pinnedBytes = 0;
    for (const oid of this.#pins.oids()) {
      const row = this.#index.get(oid);
      if (!row?.stored) continue;
      pinned++;
      pinnedBytes += row.size;
    }
    return {
      blobs: totals.count,
      bytes: totals.bytes,
      pinned,
      pinnedBytes,
      sizeOnly: this.#index.sizeOnlyCount(),
      maxBytes: this.#opts.maxBytes,
    };
  }

  /**
   * Checks every cached blob's file (size, and with `rehash` its git blob id) and every file under
   * objects/ for an index row. Bad rows are dropped; orphan files are adopted only after a successful
   * re-hash (unverified bytes are never served), otherwise removed.
   */
  async verify(opts: VerifyOptions = {}): Promise<VerifyReport> {
    this.flushAccess();
    let checked = 0;
    let dropped = 0;
    let adopted = 0;
    let removedOrphans = 0;
    for (let cursor = "", page: BlobRow[]; (page = this.#index.storedPage(cursor, PAGE)).length > 0; ) {
      for (const row of page) {
        cursor = row.oid;
        checked++;
        const reason = await this.#checkFile(row, opts.rehash ?? false);
        // Re-read the row: it may have been evicted or dropped while we awaited.
        if (reason && this.#index.get(row.oid)?.stored) {
          this.#drop(row, reason);
          dropped++;
        }
      }
    }
    for (const file of this.#files.list()) {
      if (isOid(file.name) && this.#index.get(file.name)?.stored) continue;
      if (opts.rehash && isOid(file.name)) {
        const bytes = await Bun.file(file.path).bytes().catch(() => null);
        // The index may have gained the row while we read (a concurrent putBlob): then it is not an orphan.
        if (this.#index.get(file.name)?.stored) continue;
        if (bytes && gitBlobOid(bytes) === file.name) {
          this.#storedBytes += bytes.byteLength;
          this.#index.markStored(file.name, bytes.byteLength, 0); // oldest: first to go if space is short
          adopted++;
          continue;
        }
      }
      this.#files.remove(file.name as Oid);
      removedOrphans++;
    }
    if (this.#storedBytes > this.#opts.maxBytes) this.#evictTo(this.lowWaterBytes, null);
    return { checked, dropped, adopted, removedOrphans };
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.flushAccess();
  }

  #touch(oid: Oid): void {
    this.#access.touch(oid, this.#opts.now());
    if (this.#access.size >= MAX_PENDING_ACCESSES) this.flushAccess();
  }

  #fileHasSize(oid: Oid, size: number): boolean {
    try {
      return statSync(this.#files.pathFor(oid)).size === size;
    } catch {
      return false;
    }
  }

  /** After an unclean shutdown: why a blob's bytes are not its oid's (once per blob), or null. */
  #checkAfterCrash(oid: Oid, bytes: () => Uint8Array): string | null {
    if (!this.#opts.rehashOnFirstOpen || this.#verified.has(oid)) return null;
    const actual = gitBlobOid(bytes());
    if (actual !== oid) return `content hashes to ${actual} after an unclean shutdown`;
    this.#verified.add(oid);
    return null;
  }

  /** Why a cached file is bad, or null if it is fine. */
  async #checkFile(row: BlobRow, rehash: boolean): Promise<string | null> {
    const path = this.#files.pathFor(row.oid);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return "file missing";
    }
    if (size !== row.size) return `file has ${size} bytes, expected ${row.size}`;
    if (!rehash) return null;
    const bytes = await Bun.file(path).bytes().catch(() => null);
    if (!bytes) return "file unreadable";
    const actual = gitBlobOid(bytes);
    return actual === row.oid ? null : `content hashes to ${actual}`;
  }

  /** Forgets a bad cached file: removes it (if it is still there) and marks the row size-only. */
  #drop(row: BlobRow, reason: string): void {
    log.warn("dropping cached blob", { oid: row.oid, reason });
    try {
      this.#files.remove(row.oid);
    } catch (err) {
      log.warn("could not remove blob file", { oid: row.oid, err });
    }
    if (this.#index.get(row.oid)?.stored) {
      this.#index.markDropped(row.oid);
      this.#storedBytes -= row.size;
    }
    this.#notifyEvicted(row.oid);
  }

  #notifyEvicted(oid: Oid): void {
    for (const l of this.#evictListeners) {
      try {
        l(oid);
      } catch (err) {
        log.error("eviction listener failed", { oid, err });
      }
    }
  }

  /** Evicts unpinned blobs, oldest access first, until at most `target` bytes are cached. */
  #evictTo(target: number, keep: Oid | null): { blobs: number; bytes: number } {
    this.flushAccess();
    let blobs = 0;
    let bytes = 0;
    let afterAccess = -1;
    let afterOid = "";
    while (this.#storedBytes > target) {
      const page = this.#index.lruOrder(PAGE, afterAccess, afterOid);
      if (page.length === 0) break;
      for (const row of page) {
        afterAccess = row.lastAccess;
        afterOid = row.oid;
        if (this.#storedBytes <= target) break;
        if (row.oid === keep || this.#pins.isPinned(row.oid)) continue;
        try {
          this.#files.remove(row.oid);
        } catch (err) {
          log.warn("could not evict blob", { oid: row.oid, err });
          continue;
        }
        this.#index.markDropped(row.oid);
        this.#storedBytes -= row.size;
        this.#notifyEvicted(row.oid);
        blobs++;
        bytes += row.size;
      }
    }
    if (this.#storedBytes > target) {
      log.debug("cache still above target after eviction (pinned blobs)", { bytes: this.#storedBytes, target });
    }
    return { blobs, bytes };
  }
}
