/**
 * @module store/local-store — one store directory opened by one process: the lock, the SQLite
 * database, the inode table and the blob cache, opened and closed in the right order. This is the
 * local (disk) half of the object store; fetching from Mega belongs to the layer above.
 *
 * Layout: `<path>/LOCK`, `<path>/store.db` (+ `-wal` while open), `<path>/objects/ab/cdef…`,
 * `<path>/tmp/`. See docs/store.md.
 */
import type { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  DEFAULT_ACCESS_FLUSH_MS,
  DEFAULT_CACHE_MAX_BYTES,
  DEFAULT_LOW_WATER_RATIO,
  type GcOptions,
  type GcReport,
  type StoreOptions,
  type StoreUsage,
  type VerifyOptions,
  type VerifyReport,
} from "./types.ts";
import { acquireStoreLock, type StoreLock } from "./lock.ts";
import { openDatabase } from "./database.ts";
import { InodeTable } from "./inode-table.ts";
import { BlobFiles } from "./blob-files.ts";
import { BlobCache } from "./blob-cache.ts";
import { LfsIndex } from "./lfs-index.ts";
import { TreeIndex } from "./tree-index.ts";
import { logger } from "../util/log.ts";

const log = logger("store");

export class LocalStore {
  readonly path: string;
  readonly inodes: InodeTable;
  readonly blobs: BlobCache;
  /** Raw trees by id (shared by every view of the process through the object store). */
  readonly trees: TreeIndex;
  /** Which cached blob holds each LFS object (sha-256 ↔ blob id). */
  readonly lfs: LfsIndex;
  readonly #db: Database;
  readonly #lock: StoreLock;
  #closed = false;

  private constructor(path: string, db: Database, lock: StoreLock, inodes: InodeTable, blobs: BlobCache) {
    this.path = path;
    this.#db = db;
    this.#lock = lock;
    this.inodes = inodes;
    this.blobs = blobs;
    this.trees = new TreeIndex(db);
    this.lfs = new LfsIndex(db);
  }

  /**
   * Opens (creating if needed) the store at `opts.path`. Throws FsError(EBUSY) if another process,
   * or this one, already has it open.
   */
  static async open(opts: StoreOptions): Promise<LocalStore> {
    const path = opts.path;
    mkdirSync(path, { recursive: true });
    const lock = acquireStoreLock(path);
    let db: Database | null = null;
    let blobs: BlobCache | null = null;
    try {
      db = openDatabase(join(path, "store.db"));
      const now = opts.now ?? Date.now;
      const files = new BlobFiles(path, { fsync: opts.fsyncBlobs ?? true });
      const leftovers = files.cleanTemp();
      if (leftovers > 0) log.info("removed temp files left by an earlier run", { path, count: leftovers });
      blobs = new BlobCache(db, files, {
        // Blob files may be written without fsync; after a crash, check each one's bytes before use.
        rehashOnFirstOpen: lock.recoveredFromCrash,
        maxBytes: opts.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES,
        lowWaterRatio: opts.lowWaterRatio ?? DEFAULT_LOW_WATER_RATIO,
        accessFlushMs: opts.accessFlushMs ?? DEFAULT_ACCESS_FLUSH_MS,
        now,
      });
      const store = new LocalStore(path, db, lock, new InodeTable(db, now), blobs);
      if (opts.verifyOnOpen === "size" || opts.verifyOnOpen === "rehash") {
        const report = await blobs.verify({ rehash: opts.verifyOnOpen === "rehash" });
        if (report.dropped || report.adopted || report.removedOrphans) log.info("store verified", { path, ...report });
      }
      return store;
    } catch (err) {
      blobs?.close();
      db?.close();
      lock.release();
      throw err;
    }
  }

  /** Numbers for `scorpio du`. */
  du(): StoreUsage {
    return { ...this.blobs.usage(), inodes: this.inodes.count(), loadedDirs: this.inodes.loadedDirCount() };
  }

  /** `scorpio gc`: evict unpinned blobs, least recently used first. */
  gc(opts: GcOptions = {}): GcReport {
    return this.blobs.gc(opts);
  }

  verify(opts: VerifyOptions = {}): Promise<VerifyReport> {
    return this.blobs.verify(opts);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Flushes batched access times, checkpoints the WAL, closes the database and releases the lock. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.blobs.close();
      this.#db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    } finally {
      try {
        // throwOnError: a statement left unfinalized would otherwise keep the file (and SQLite's
        // exclusive lock) open silently until garbage collection.
        this.#db.close(true);
      } catch (err) {
        log.error("store database did not close cleanly", { path: this.path, err });
        this.#db.close(false);
      }
      this.#lock.release();
    }
  }
}

export function openLocalStore(opts: StoreOptions): Promise<LocalStore> {
  return LocalStore.open(opts);
}
