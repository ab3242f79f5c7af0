/**
 * Shared bits of the store tests: temp directories removed in afterAll, and blob fixtures.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "bun:test";
import { gitBlobOid, gitObjectOid, type Oid, type PackFetch } from "../../src/remote/index.ts";
import type { BackingStore } from "../../src/store/index.ts";

/** A fresh directory under the OS temp dir, removed after the file's tests. */
export function useTempDirs(): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), "scorpio-store-"));
    made.push(d);
    return d;
  };
}

export function blob(text: string): { oid: Oid; bytes: Uint8Array } {
  const bytes = new TextEncoder().encode(text);
  return { oid: gitBlobOid(bytes), bytes };
}

/** A blob of exactly `size` bytes, distinct per `seed`. */
export function sizedBlob(seed: string, size: number): { oid: Oid; bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  const s = new TextEncoder().encode(seed);
  for (let i = 0; i < size; i++) bytes[i] = s[i % s.length]!;
  if (size >= s.length) bytes.set(s, 0);
  return { oid: gitBlobOid(bytes), bytes };
}

/** A settable clock, so LRU order never depends on real time. */
export function manualClock(start = 1_000_000): { now: () => number; set(t: number): void } {
  let t = start;
  return { now: () => t, set: (v: number) => { t = v; } };
}

/**
 * A backing store over a map of blobs that counts what it is asked (fetches per blob, HEADs, packs);
 * `gate` holds every fetch until resolved, `corrupt` flips a byte of every body. Its only tree is the
 * one its packs carry: every blob, as files `f000000`, `f000001`, … in the order they were added.
 */
export class FakeBacking implements BackingStore {
  readonly blobs = new Map<string, Uint8Array>();
  fetches = new Map<string, number>();
  heads = 0;
  packs = 0;
  /** Resolves held fetches; while set, every fetch waits on it. */
  gate: Promise<void> | null = null;
  corrupt = false;

  add(bytes: Uint8Array): Oid {
    const oid = gitBlobOid(bytes);
    this.blobs.set(oid, bytes);
    return oid;
  }

  async fetchBlob(oid: Oid): Promise<Uint8Array> {
    this.fetches.set(oid, (this.fetches.get(oid) ?? 0) + 1);
    if (this.gate) await this.gate;
    const b = this.blobs.get(oid);
    if (!b) throw Object.assign(new Error(`no blob ${oid}`), { code: "ENOENT" });
    if (this.corrupt) return Uint8Array.from(b, (x, i) => (i === 0 ? x ^ 1 : x));
    return b;
  }

  async blobSize(oid: Oid): Promise<number> {
    this.heads++;
    if (this.gate) await this.gate;
    return this.blobs.get(oid)!.length;
  }

  /** Any path: one commit whose tree holds every blob (ids computed from the bytes, as a parsed pack's). */
  async fetchPack(): Promise<PackFetch> {
    this.packs++;
    if (this.gate) await this.gate;
    const enc = new TextEncoder();
    const entries = [...this.blobs.keys()].map((oid, i) => [enc.encode(`100644 f${String(i).padStart(6, "0")}\0`), Buffer.from(oid, "hex")]);
    const tree = new Uint8Array(Buffer.concat(entries.flat()));
    const treeOid = gitObjectOid("tree", tree);
    const commit = enc.encode(`tree ${treeOid}\nauthor a <a@a> 0 +0000\ncommitter a <a@a> 0 +0000\n\nfake\n`);
    const head = gitObjectOid("commit", commit);
    const blobs = [...this.blobs].map(([oid, data]) => ({ type: "blob" as const, oid: oid as Oid, data }));
    return { head, objects: [{ type: "commit", oid: head, data: commit }, { type: "tree", oid: treeOid, data: tree }, ...blobs] };
  }

  async rawTree(): Promise<never> {
    throw new Error("no trees in the fake");
  }

  async listDir(): Promise<never> {
    throw new Error("no trees in the fake");
  }

  async dirHash(): Promise<never> {
    throw new Error("unused");
  }

  async latestCommit(): Promise<never> {
    throw new Error("no commits in the fake");
  }

  get totalFetches(): number {
    let n = 0;
    for (const v of this.fetches.values()) n += v;
    return n;
  }
}
