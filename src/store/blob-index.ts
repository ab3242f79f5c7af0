/**
 * @module store/blob-index — the blob table in SQLite: for each oid its size, whether its content is
 * cached on disk, and when it was last read. Sizes learned without content (HEAD) live in the same
 * table with `stored = 0`, as do evicted blobs, so a known size survives eviction. Knows nothing of
 * files or pins.
 *
 * Rows read are remembered (absent ones too): the read path asks for the same blobs' sizes and presence
 * many times per file (lookups, listings with attributes, page-cache pushes), and one process owns the
 * store (store/lock.ts), so every write goes through here and drops what it changes.
 */
import type { Database } from "bun:sqlite";
import type { Oid } from "./types.ts";
import { setBounded } from "../util/bounded-map.ts";

/** Rows (or their absence) remembered; ~100 bytes each. */
const MAX_REMEMBERED = 100_000;

export interface BlobRow {
  readonly oid: Oid;
  readonly size: number;
  readonly stored: boolean;
  /** Milliseconds since the epoch, as last flushed. */
  readonly lastAccess: number;
}

interface RawRow {
  oid: string;
  size: number;
  stored: number;
  last_access: number;
}

const toRow = (r: RawRow): BlobRow => ({ oid: r.oid as Oid, size: r.size, stored: r.stored !== 0, lastAccess: r.last_access });

export class BlobIndex {
  readonly #db: Database;
  readonly #rows = new Map<Oid, BlobRow | null>();

  constructor(db: Database) {
    this.#db = db;
  }

  get(oid: Oid): BlobRow | null {
    const known = this.#rows.get(oid);
    if (known !== undefined) return known;
    const r = this.#db.query<RawRow, [string]>("SELECT oid, size, stored, last_access FROM blobs WHERE oid = ?").get(oid);
    const row = r ? toRow(r) : null;
    setBounded(this.#rows, oid, row, MAX_REMEMBERED);
    return row;
  }

  markStored(oid: Oid, size: number, lastAccess: number): void {
    this.#rows.delete(oid);
    this.#db
      .query<null, [string, number, number]>(
        `INSERT INTO blobs (oid, size, stored, last_access) VALUES (?, ?, 1, ?)
         ON CONFLICT (oid) DO UPDATE SET size = excluded.size, stored = 1, last_access = excluded.last_access`,
      )
      .run(oid, size, lastAccess);
  }

  /** `markStored` for many blobs in one transaction (all or none). */
  markManyStored(rows: ReadonlyArray<{ readonly oid: Oid; readonly size: number }>, lastAccess: number): void {
    this.#db.transaction(() => {
      for (const r of rows) this.markStored(r.oid, r.size, lastAccess);
    })();
  }

  /** Records a size without content; never overrides the size of stored (verified) content. */
  recordSize(oid: Oid, size: number): void {
    this.#rows.delete(oid);
    this.#db
      .query<null, [string, number]>(
        `INSERT INTO blobs (oid, size, stored, last_access) VALUES (?, ?, 0, 0)
         ON CONFLICT (oid) DO UPDATE SET size = excluded.size WHERE stored = 0`,
      )
      .run(oid, size);
  }

  /** The content is gone from disk; the size stays known. */
  markDropped(oid: Oid): void {
    this.#rows.delete(oid);
    this.#db.query<null, [string]>("UPDATE blobs SET stored = 0 WHERE oid = ?").run(oid);
  }

  /** Writes a batch of last-access times in one transaction; never moves a time backwards. */
  touchMany(times: Iterable<readonly [Oid, number]>): void {
    const stmt = this.#db.query<null, [number, string, number]>(
      "UPDATE blobs SET last_access = ? WHERE oid = ? AND last_access < ?",
    );
    this.#db.transaction(() => {
      for (const [oid, t] of times) {
        this.#rows.delete(oid);
        stmt.run(t, oid, t);
      }
    })();
  }

  storedTotals(): { count: number; bytes: number } {
    const r = this.#db
      .query<{ n: number; b: number | null }, []>("SELECT COUNT(*) AS n, SUM(size) AS b FROM blobs WHERE stored = 1")
      .get();
    return { count: r?.n ?? 0, bytes: r?.b ?? 0 };
  }

  sizeOnlyCount(): number {
    return this.#db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM blobs WHERE stored = 0").get()?.n ?? 0;
  }

  /** Stored blobs, least recently used first. Materialized so callers may write while walking it. */
  lruOrder(limit: number, afterAccess = -1, afterOid = ""): BlobRow[] {
    return this.#db
      .query<RawRow, [number, number, string, number]>(
        `SELECT oid, size, stored, last_access FROM blobs
         WHERE stored = 1 AND (last_access > ? OR (last_access = ? AND oid > ?))
         ORDER BY last_access, oid LIMIT ?`,
      )
      .all(afterAccess, afterAccess, afterOid, limit)
      .map(toRow);
  }

  /** Every stored blob, in oid order, in pages (so a long verify never holds a statement open). */
  storedPage(afterOid: string, limit: number): BlobRow[] {
    return this.#db
      .query<RawRow, [string, number]>(
        "SELECT oid, size, stored, last_access FROM blobs WHERE stored = 1 AND oid > ? ORDER BY oid LIMIT ?",
      )
      .all(afterOid, limit)
      .map(toRow);
  }
}
