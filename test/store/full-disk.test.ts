/**
 * A store on a full disk (a small tmpfs): a download that cannot be stored is ENOSPC (not EACCES,
 * which SQLite's own result code 13 used to turn into), `gc` still works, and once space returns the
 * same read succeeds. Needs root for the tmpfs mount; skipped (with the reason) otherwise.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ObjectStore, openLocalStore } from "../../src/store/index.ts";
import { gitBlobOid } from "../../src/remote/index.ts";
import { Errno, errnoOf } from "../../src/util/errno.ts";
import { FakeBacking, sizedBlob } from "./helpers.ts";
const isRoot = process.getuid?.() === 0;
let mnt = "";

beforeAll(() => {
  if (!isRoot) return;
  mnt = mkdtempSync(join(tmpdir(), "scorpio-full-"));
  const r = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mnt]);
  if (r.exitCode !== 0) throw new Error(`mount tmpfs: ${r.stderr.toString()}`);
});

afterAll(() => {
  if (!mnt) return;
  Bun.spawnSync(["umount", "-l", mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

describe("full disk", () => {
  test.skipIf(!isRoot)("a blob that does not fit is ENOSPC; gc works on the full disk; recovery when space returns", async () => {
    const backing = new FakeBacking();
    const cached = Array.from({ length: 4 }, (_, i) => backing.add(sizedBlob(`kept${i}`, 100 * 1024).bytes));
    const big = backing.add(sizedBlob("big", 512 * 1024).bytes);
    const store = await openLocalStore({ path: join(mnt, "store"), cacheMaxBytes: 1 << 30, fsyncBlobs: false });
    const objects = new ObjectStore(store.blobs, store.trees, backing);
    for (const oid of cached) await objects.ensure(oid);
    // Fill the rest of the disk.
    const filler = join(mnt, "filler");
    const chunk = new Uint8Array(64 * 1024);
    let written = 0;
    try {
      for (;;) {
        writeFileSync(filler, chunk, { flag: "a" });
        written += chunk.length;
      }
    } catch (err) {
      expect(errnoOf(err)).toBe(Errno.ENOSPC);
    }
    expect(written).toBeGreaterThan(0);
    const err = await objects.read(big).then(() => null, (e: unknown) => e);
    expect(errnoOf(err)).toBe(Errno.ENOSPC);
    // Recording a size is a database write: on a full disk that is ENOSPC too, never EACCES.
    const sizeErr = (() => {
      try {
        for (let i = 0; i < 2000; i++) store.blobs.recordSize(gitBlobOid(new TextEncoder().encode(`size-only ${i}`)), i);
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(sizeErr).not.toBeNull();
    expect(errnoOf(sizeErr)).toBe(Errno.ENOSPC);
    // gc on the full disk frees what is not in use.
    const report = objects.gc({ targetBytes: 0 });
    expect(report.evictedBlobs).toBe(cached.length);
    expect(store.du().bytes).toBe(0);
    // Space is back: the same read succeeds.
    rmSync(filler);
    const ok = await objects.read(big);
    expect(ok.bytes.length).toBe(512 * 1024);
    objects.close();
    store.close();
  });

  test.skipIf(!isRoot)("a pack that does not fit: readers of its blobs get ENOSPC, none hangs; with space back they read", async () => {
    const backing = new FakeBacking();
    const blobs = Array.from({ length: 200 }, (_, i) => sizedBlob(`packed${i}`, 4 * 1024));
    for (const b of blobs) backing.add(b.bytes);
    const store = await openLocalStore({ path: join(mnt, "store-pack"), cacheMaxBytes: 1 << 30, fsyncBlobs: false });
    const objects = new ObjectStore(store.blobs, store.trees, backing);
    // Leave room for the first of the pack's two store steps (128 blobs of 4 KiB), not for the rest.
    const filler = join(mnt, "filler-pack");
    const room = Number(Bun.spawnSync(["df", "--output=avail", "-B1", mnt]).stdout.toString().split("\n")[1]);
    expect(room).toBeGreaterThan(1024 * 1024);
    writeFileSync(filler, new Uint8Array(room - 600 * 1024));
    const stored = objects.prefetchPack("/p").then(() => null, (e: unknown) => e);
    await objects.prefetchPack("/p", { until: "readable" });
    const results = await Promise.all(blobs.map((b) => objects.read(b.oid).then((r) => r.bytes.length, (e: unknown) => errnoOf(e))));
    expect(results.filter((r) => r === 4 * 1024).length).toBeGreaterThanOrEqual(128);
    expect(errnoOf(await stored)).toBe(Errno.ENOSPC);
    expect(results.filter((r) => r === Errno.ENOSPC).length).toBeGreaterThan(0);
    expect(results.every((r) => r === 4 * 1024 || r === Errno.ENOSPC)).toBe(true);
    // Those the pack did not store fell back to one request each (a few of which found room freed by
    // the failed chunk); those it stored cost none.
    expect(backing.totalFetches).toBeGreaterThanOrEqual(results.filter((r) => r === Errno.ENOSPC).length);
    expect(backing.totalFetches).toBeLessThan(blobs.length);
    for (const n of backing.fetches.values()) expect(n).toBe(1);
    rmSync(filler);
    for (const b of blobs) expect((await objects.read(b.oid)).bytes).toEqual(b.bytes);
    objects.close();
    store.close();
  });
});
