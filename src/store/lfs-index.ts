/**
 * @module store/lfs-index — where the blob cache keeps each LFS object: the object's content is stored
 * as a blob under its git blob id (one cache, one budget, one eviction order), and this table maps the
 * pointer's sha-256 to that id and back, so a restart finds cached LFS objects and an evicted one can be
 * fetched again through the LFS API. Rows are facts about content (sha-256 ↔ blob id never changes),
 * kept when the blob is evicted.
 */
import type { Database, Statement } from "bun:sqlite";
import type { Oid } from "./types.ts";

export interface LfsIndexRow {
  sha256: string;
  oid: Oid;
  size: number;
}

export class LfsIndex {
  readonly #bySha: Statement<LfsIndexRow, [string]>;
  readonly #byOid: Statement<LfsIndexRow, [string]>;
  readonly #put: Statement<unknown, [string, string, number]>;

  constructor(db: Database) {
    this.#bySha = db.query("SELECT sha256, oid, size FROM lfs_objects WHERE sha256 = ?");
    this.#byOid = db.query("SELECT sha256, oid, size FROM lfs_objects WHERE oid = ? LIMIT 1");
    this.#put = db.query("INSERT OR REPLACE INTO lfs_objects (sha256, oid, size) VALUES (?, ?, ?)");
  }

  bySha256(sha256: string): LfsIndexRow | null {
    return this.#bySha.get(sha256) ?? null;
  }

  /** The LFS object a cached blob holds, or null when the blob is not an LFS object. */
  byOid(oid: Oid): LfsIndexRow | null {
    return this.#byOid.get(oid) ?? null;
  }

  put(row: LfsIndexRow): void {
    this.#put.run(row.sha256, row.oid, row.size);
  }
}
