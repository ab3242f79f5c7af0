/**
 * Shared bits of the store tests: temp directories removed in afterAll, and blob fixtures.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "bun:test";
import { gitBlobOid, type Oid } from "../../src/remote/index.ts";

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
