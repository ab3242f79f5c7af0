/**
 * @module store/lru — the in-memory half of the blob cache's eviction policy: last-access times
 * batched in memory (a read must not cost a SQLite write) and pin counts (blobs of open files,
 * copy-ups) that eviction must skip. Knows nothing of SQLite or files.
 */
import type { Oid } from "./types.ts";

/** Last-access times not yet written to the blob table. */
export class AccessLog {
  #pending = new Map<Oid, number>();

  touch(oid: Oid, at: number): void {
    this.#pending.set(oid, at);
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Hands over everything pending and starts a new batch. */
  drain(): Map<Oid, number> {
    const out = this.#pending;
    this.#pending = new Map();
    return out;
  }
}

/** Reference counts of pinned blobs. A blob may be pinned before its content is cached. */
export class PinSet {
  readonly #counts = new Map<Oid, number>();

  pin(oid: Oid): void {
    this.#counts.set(oid, (this.#counts.get(oid) ?? 0) + 1);
  }

  /** Throws on an unpin without a matching pin: a pin-count bug must not be absorbed quietly. */
  unpin(oid: Oid): void {
    const n = this.#counts.get(oid);
    if (n === undefined) throw new Error(`internal error: unpin of unpinned blob ${oid}`);
    if (n <= 1) this.#counts.delete(oid);
    else this.#counts.set(oid, n - 1);
  }

  isPinned(oid: Oid): boolean {
    return this.#counts.has(oid);
  }

  count(oid: Oid): number {
    return this.#counts.get(oid) ?? 0;
  }

  oids(): IterableIterator<Oid> {
    return this.#counts.keys();
  }
}
