/**
 * @module store/tree-index — raw git tree bodies by tree id, in the store's database. A listing is
 * content-addressed: the same id always means the same entries, so every tree seen (by any view, at
 * any commit, or in a prefetched pack) is kept and served without asking the server again. Trees are
 * small (tens of bytes per entry) and are not part of the blob cache's byte budget.
 */
import type { Database, Statement } from "bun:sqlite";
import type { Oid } from "./types.ts";

export class TreeIndex {
  readonly #get: Statement<{ body: Uint8Array }, [string]>;
  readonly #put: Statement<unknown, [string, Uint8Array]>;
  readonly #count: Statement<{ n: number; bytes: number | null }, []>;

  constructor(db: Database) {
    this.#get = db.query("SELECT body FROM trees WHERE oid = ?");
    this.#put = db.query("INSERT OR IGNORE INTO trees (oid, body) VALUES (?, ?)");
    this.#count = db.query("SELECT COUNT(*) AS n, SUM(LENGTH(body)) AS bytes FROM trees");
  }

  get(oid: Oid): Uint8Array | null {
    const row = this.#get.get(oid);
    return row ? new Uint8Array(row.body) : null;
  }

  /** Keeps a tree body; the caller has checked that it hashes to `oid`. */
  put(oid: Oid, body: Uint8Array): void {
    this.#put.run(oid, body);
  }

  totals(): { trees: number; bytes: number } {
    const r = this.#count.get();
    return { trees: r?.n ?? 0, bytes: r?.bytes ?? 0 };
  }
}
