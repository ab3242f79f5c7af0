/**
 * @module store/tree-store — the inode tree of one sub-path view, in its own directory with its own
 * lock and database. It holds names, inode numbers and directory states only: content lives in the
 * process's one object store (`ObjectStore`), so every view shares one cache and one byte budget.
 * Blob files left in such a directory by earlier versions (which gave every view its own cache) are
 * removed on open.
 */
import type { Database } from "bun:sqlite";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { acquireStoreLock, type StoreLock } from "./lock.ts";
import { openDatabase } from "./database.ts";
import { InodeTable } from "./inode-table.ts";
import { logger } from "../util/log.ts";

const log = logger("store");

/** What a view needs of its store: the inode tree, and closing it. */
export interface ViewTreeStore {
  readonly path: string;
  readonly inodes: InodeTable;
  close(): void;
}

export class TreeStore implements ViewTreeStore {
  #closed = false;

  private constructor(
    readonly path: string,
    readonly inodes: InodeTable,
    private readonly db: Database,
    private readonly lock: StoreLock,
  ) {}

  static open(path: string, now: () => number = Date.now): TreeStore {
    mkdirSync(path, { recursive: true });
    const lock = acquireStoreLock(path);
    try {
      const db = openDatabase(join(path, "store.db"));
      const legacy = join(path, "objects");
      if (existsSync(legacy)) {
        log.info("removing a per-view blob cache left by an earlier version (content is shared now)", { path: legacy });
        rmSync(legacy, { recursive: true, force: true });
        db.run("DELETE FROM blobs");
      }
      return new TreeStore(path, new InodeTable(db, now), db, lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.db.run("PRAGMA wal_checkpoint(TRUNCATE)");
    } finally {
      this.db.close(false);
      this.lock.release();
    }
  }
}
