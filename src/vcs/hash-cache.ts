/**
 * @module vcs/hash-cache — blob ids of upper-layer files, remembered by (path, size, mtime, ctime, inode)
 * so a repeated status hashes only files that changed since (git's index does the same). Persisted per
 * mount as JSON, written atomically; a lost or corrupt cache only costs re-hashing.
 */
import { readFileSync } from "node:fs";
import type { BigIntStats } from "node:fs";
import { writeFileAtomicSync } from "../util/atomic-write.ts";

interface Row {
  k: string;
  oid: string;
}

export class HashCache {
  private rows = new Map<string, Row>();
  private used = new Map<string, Row>();
  private dirty = false;

  constructor(private readonly file: string | null) {
    if (!file) return;
    try {
      const j = JSON.parse(readFileSync(file, "utf8")) as Record<string, Row>;
      for (const [p, r] of Object.entries(j)) if (r && typeof r.k === "string" && typeof r.oid === "string") this.rows.set(p, r);
    } catch {
      // no cache yet
    }
  }

  oidOf(path: string, st: BigIntStats, hash: () => string): string {
    return this.cached(path, st) ?? this.remember(path, st, hash());
  }

  /** `oidOf` with an asynchronous hash (LFS content, streamed). */
  async oidOfAsync(path: string, st: BigIntStats, hash: () => Promise<string>): Promise<string> {
    return this.cached(path, st) ?? this.remember(path, st, await hash());
  }

  private cached(path: string, st: BigIntStats): string | null {
    const r = this.rows.get(path);
    // A file modified within the same clock tick as its hashing could keep its stat: do not trust
    // rows whose mtime is within 2 s of when they were cached (git's "racy clean" rule, simplified).
    if (r && r.k === statKey(st) && Date.now() - Number(st.mtimeNs / 1_000_000n) > 2_000) {
      this.used.set(path, r);
      return r.oid;
    }
    return null;
  }

  private remember(path: string, st: BigIntStats, oid: string): string {
    this.used.set(path, { k: statKey(st), oid });
    this.dirty = true;
    return oid;
  }

  /** Keeps the rows used by the last scan (forgetting deleted files). */
  save(): void {
    if (!this.file || (!this.dirty && this.used.size === this.rows.size)) return;
    this.rows = this.used;
    this.used = new Map();
    this.dirty = false;
    writeFileAtomicSync(this.file, JSON.stringify(Object.fromEntries(this.rows)));
  }
}

const statKey = (st: BigIntStats) => `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`;
