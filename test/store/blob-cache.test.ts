import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync, chmodSync } from "node:fs";
import { Errno, errnoOf } from "../../src/util/errno.ts";
import { join } from "node:path";
import { openLocalStore, type LocalStore, type Oid } from "../../src/store/index.ts";
import { EMPTY_BLOB_OID } from "../../src/remote/index.ts";
import { blob, manualClock, sizedBlob, useTempDirs } from "./helpers.ts";

const tempDir = useTempDirs();
const objectPath = (store: LocalStore, oid: Oid) => join(store.path, "objects", oid.slice(0, 2), oid.slice(2));

/** Sum of the sizes of every file under objects/ — what is really on disk. */
function bytesOnDisk(store: LocalStore): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const root = join(store.path, "objects");
  for (const fan of readdirSync(root)) {
    for (const f of readdirSync(join(root, fan))) {
      files++;
      bytes += statSync(join(root, fan, f)).size;
    }
  }
  return { files, bytes };
}

describe("blob cache", () => {
  test("stores verified content under objects/ab/cdef… and reads it back", async () => {
    const store = await openLocalStore({ path: tempDir() });
    const { oid, bytes } = blob("hello world\n");
    expect(oid as string).toBe("3b18e512dba79e4c8300dd08aeb37f8e728b8dad"); // git hash-object
    expect(store.blobs.hasBlob(oid)).toBe(false);
    expect(await store.blobs.readBlob(oid)).toBeNull();
    expect(store.blobs.openBlob(oid)).toBeNull();
    await store.blobs.putBlob(oid, bytes);
    expect(store.blobs.hasBlob(oid)).toBe(true);
    expect(store.blobs.blobSize(oid)).toBe(bytes.length);
    expect(existsSync(objectPath(store, oid))).toBe(true);
    expect(await store.blobs.readBlob(oid)).toEqual(bytes);
    const h = store.blobs.openBlob(oid)!;
    expect(h).toMatchObject({ oid, size: bytes.length, path: objectPath(store, oid) });
    const buf = Buffer.alloc(5);
    expect(require("node:fs").readSync(h.fd, buf, 0, 5, 6)).toBe(5);
    expect(buf.toString()).toBe("world");
    h.close();
    h.close(); // idempotent
    // Storing the same blob again is a no-op.
    await store.blobs.putBlob(oid, bytes);
    expect(store.du()).toMatchObject({ blobs: 1, bytes: bytes.length });
    store.close();
  });

  test("a batch (a pack's blobs) is stored in one step: cached ones skipped, and a failure keeps nothing new", async () => {
    const store = await openLocalStore({ path: tempDir(), fsyncBlobs: false });
    const items = Array.from({ length: 6 }, (_, i) => blob(`batched ${i}\n`));
    await store.blobs.putBlob(items[0]!.oid, items[0]!.bytes);
    expect(await store.blobs.putManyVerified(items.slice(0, 3))).toBe(2);
    for (const it of items.slice(0, 3)) expect(new TextDecoder().decode((await store.blobs.readBlob(it.oid))!)).toBe(new TextDecoder().decode(it.bytes));
    const before = store.blobs.usage();
    expect(before.blobs).toBe(3);
    // The fifth blob's final name is taken by a directory: its rename fails half-way through the batch.
    mkdirSync(join(objectPath(store, items[4]!.oid), "occupied"), { recursive: true });
    await expect(store.blobs.putManyVerified(items.slice(3))).rejects.toThrow();
    for (const it of items.slice(3)) expect(store.blobs.hasBlob(it.oid)).toBe(false);
    expect(existsSync(objectPath(store, items[3]!.oid))).toBe(false);
    expect(store.blobs.usage()).toEqual(before);
    expect(store.blobs.storedBytes).toBe(before.bytes);
    expect(readdirSync(join(store.path, "tmp"))).toEqual([]);
    store.close();
  });

  test("a batch larger than one step is stored whole, and FUSE-like work runs between its steps", async () => {
    const store = await openLocalStore({ path: tempDir(), fsyncBlobs: false });
    const items = Array.from({ length: 300 }, (_, i) => blob(`chunked ${i}\n`));
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const stored = await store.blobs.putManyVerified(items);
    clearInterval(ticker);
    expect(stored).toBe(300);
    for (const it of items) expect(store.blobs.hasBlob(it.oid)).toBe(true);
    expect(store.blobs.usage().blobs).toBe(300);
    expect(turns).toBeGreaterThan(0); // the event loop ran while the batch was stored
    store.close();
  });

  test("a batch whose files cannot be written stores nothing and leaves no file behind", async () => {
    const store = await openLocalStore({ path: tempDir(), fsyncBlobs: false });
    const items = Array.from({ length: 40 }, (_, i) => blob(`unwritable ${i}\n`));
    // The writer thread fails on its first file: tmp/ is gone.
    rmSync(join(store.path, "tmp"), { recursive: true, force: true });
    const err = await store.blobs.putManyVerified(items).then(() => null, (e: unknown) => e);
    expect(errnoOf(err)).toBe(Errno.ENOENT);
    for (const it of items) expect(store.blobs.hasBlob(it.oid)).toBe(false);
    expect(store.blobs.usage().blobs).toBe(0);
    expect(bytesOnDisk(store).files).toBe(0);
    // With tmp/ back, the same batch goes in.
    mkdirSync(join(store.path, "tmp"));
    expect(await store.blobs.putManyVerified(items)).toBe(40);
    store.close();
  });

  test("the empty blob has a real size of 0", async () => {
    const store = await openLocalStore({ path: tempDir() });
    const { oid, bytes } = blob("");
    expect(oid).toBe(EMPTY_BLOB_OID);
    await store.blobs.putBlob(oid, bytes);
    expect(store.blobs.blobSize(oid)).toBe(0);
    expect(await store.blobs.readBlob(oid)).toEqual(new Uint8Array(0));
    store.close();
  });

  test("content that does not hash to the oid is rejected with EIO and leaves nothing behind", async () => {
    const store = await openLocalStore({ path: tempDir() });
    const { oid } = blob("the real content");
    const bad = new TextEncoder().encode("the fake content");
    await expect(store.blobs.putBlob(oid, bad)).rejects.toMatchObject({ name: "FsError", errno: 5 });
    expect(store.blobs.hasBlob(oid)).toBe(false);
    expect(store.blobs.blobSize(oid)).toBeNull();
    expect(existsSync(objectPath(store, oid))).toBe(false);
    expect(readdirSync(join(store.path, "tmp"))).toEqual([]);
    await expect(store.blobs.putBlob("not-an-oid" as Oid, bad)).rejects.toMatchObject({ errno: 22 });
    store.close();
  });

  test("a write that fails before the rename leaves no file under the final name and no temp file", async () => {
    const store = await openLocalStore({ path: tempDir(), fsyncBlobs: false });
    const { oid, bytes } = blob("will not land");
    // The fan-out directory objects/ab is a plain file, so the rename into place must fail.
    writeFileSync(join(store.path, "objects", oid.slice(0, 2)), "in the way");
    await expect(store.blobs.putBlob(oid, bytes)).rejects.toMatchObject({ name: "FsError" });
    expect(existsSync(objectPath(store, oid))).toBe(false);
    expect(readdirSync(join(store.path, "tmp"))).toEqual([]);
    expect(store.blobs.hasBlob(oid)).toBe(false);
    expect(store.du()).toMatchObject({ blobs: 0, bytes: 0 });
    store.close();
  });

  test("temp files left by a crash are removed on open and never served", async () => {
    const path = tempDir();
    let store = await openLocalStore({ path });
    const { oid, bytes } = blob("half written");
    store.close();
    writeFileSync(join(path, "tmp", `${oid}.99999.1`), bytes.slice(0, 4));
    store = await openLocalStore({ path });
    expect(readdirSync(join(path, "tmp"))).toEqual([]);
    expect(store.blobs.hasBlob(oid)).toBe(false);
    store.close();
  });

  test("eviction removes the least recently used unpinned blobs", async () => {
    const clock = manualClock();
    const store = await openLocalStore({ path: tempDir(), cacheMaxBytes: 300, lowWaterRatio: 1, now: clock.now });
    const [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map((s) => sizedBlob(s, 100));
    clock.set(1); await store.blobs.putBlob(a!.oid, a!.bytes);
    clock.set(2); await store.blobs.putBlob(b!.oid, b!.bytes);
    clock.set(3); await store.blobs.putBlob(c!.oid, c!.bytes);
    clock.set(4); expect(await store.blobs.readBlob(a!.oid)).not.toBeNull(); // a is now newer than b and c
    clock.set(5); await store.blobs.putBlob(d!.oid, d!.bytes); // 400 > 300: evict b (access 2)
    expect([a, b, c, d].map((x) => store.blobs.hasBlob(x!.oid))).toEqual([true, false, true, true]);
    expect(existsSync(objectPath(store, b!.oid))).toBe(false);
    expect(store.blobs.blobSize(b!.oid)).toBe(100); // the size stays known after eviction

    const pinned = store.blobs.openBlob(c!.oid)!; // c (access 3→6) is open: pinned
    clock.set(6);
    clock.set(7); await store.blobs.putBlob(e!.oid, e!.bytes);
    // LRU order is a(4), d(5), c(6 but pinned): a goes.
    expect([a, c, d, e].map((x) => store.blobs.hasBlob(x!.oid))).toEqual([false, true, true, true]);
    expect(store.du()).toMatchObject({ blobs: 3, bytes: 300, pinned: 1, pinnedBytes: 100, sizeOnly: 2, maxBytes: 300 });

    // gc to 0 evicts everything that is not pinned.
    const report = store.gc({ targetBytes: 0 });
    expect(report).toEqual({ evictedBlobs: 2, evictedBytes: 200, remainingBytes: 100, pinnedBytes: 100 });
    expect(store.blobs.hasBlob(c!.oid)).toBe(true);
    const buf = Buffer.alloc(100);
    expect(require("node:fs").readSync(pinned.fd, buf, 0, 100, 0)).toBe(100);
    pinned.close();
    expect(store.gc({ targetBytes: 0 })).toMatchObject({ evictedBlobs: 1, remainingBytes: 0, pinnedBytes: 0 });
    expect(bytesOnDisk(store)).toEqual({ files: 0, bytes: 0 });
    store.close();
  });

  test("a blob put with pin survives its own eviction round until unpinned", async () => {
    const store = await openLocalStore({ path: tempDir(), cacheMaxBytes: 50 });
    const big = sizedBlob("big", 200);
    await store.blobs.putBlob(big.oid, big.bytes, { pin: true });
    expect(store.blobs.hasBlob(big.oid)).toBe(true);
    const other = sizedBlob("other", 10);
    await store.blobs.putBlob(other.oid, other.bytes);
    expect(store.blobs.hasBlob(big.oid)).toBe(true);
    expect(store.blobs.isPinned(big.oid)).toBe(true);
    store.blobs.unpin(big.oid);
    expect(() => store.blobs.unpin(big.oid)).toThrow(/unpin/);
    store.gc();
    expect(store.blobs.hasBlob(big.oid)).toBe(false);
    store.close();
  });

  test("gc with no target trims to the low-water mark; du matches the files on disk", async () => {
    const clock = manualClock();
    const store = await openLocalStore({ path: tempDir(), cacheMaxBytes: 10_000, lowWaterRatio: 0.5, now: clock.now });
    for (let i = 0; i < 10; i++) {
      clock.set(i + 1);
      const x = sizedBlob(`blob${i}`, 900);
      await store.blobs.putBlob(x.oid, x.bytes);
    }
    expect(store.du()).toMatchObject({ blobs: 10, bytes: 9000, pinned: 0 });
    expect(bytesOnDisk(store)).toEqual({ files: 10, bytes: 9000 });
    const report = store.gc();
    expect(report.remainingBytes).toBeLessThanOrEqual(5000);
    expect(report).toMatchObject({ evictedBlobs: 5, evictedBytes: 4500, remainingBytes: 4500 });
    expect(bytesOnDisk(store)).toEqual({ files: 5, bytes: 4500 });
    // The five oldest went.
    for (let i = 0; i < 10; i++) expect(store.blobs.hasBlob(sizedBlob(`blob${i}`, 900).oid)).toBe(i >= 5);
    expect(store.du()).toMatchObject({ blobs: 5, bytes: 4500, sizeOnly: 5, inodes: 1, loadedDirs: 0 });
    store.close();
  });

  test("sizes learned without content are kept, never override verified content, and survive restart", async () => {
    const path = tempDir();
    let store = await openLocalStore({ path });
    const x = blob("twelve bytes");
    store.blobs.recordSize(x.oid, 99);
    expect(store.blobs.blobSize(x.oid)).toBe(99);
    expect(store.blobs.hasBlob(x.oid)).toBe(false);
    await store.blobs.putBlob(x.oid, x.bytes);
    expect(store.blobs.blobSize(x.oid)).toBe(12);
    store.blobs.recordSize(x.oid, 5);
    expect(store.blobs.blobSize(x.oid)).toBe(12);
    const y = blob("only a size");
    store.blobs.recordSize(y.oid, 0);
    expect(() => store.blobs.recordSize(y.oid, -1)).toThrow();
    store.close();
    store = await openLocalStore({ path });
    expect(store.blobs.blobSize(y.oid)).toBe(0);
    expect(store.blobs.blobSize(x.oid)).toBe(12);
    expect(store.du()).toMatchObject({ blobs: 1, sizeOnly: 1 });
    store.close();
  });

  test("a restarted store finds its blobs and the access order batched in memory", async () => {
    const path = tempDir();
    const clock = manualClock();
    let store = await openLocalStore({ path, cacheMaxBytes: 1000, lowWaterRatio: 1, now: clock.now, accessFlushMs: 3_600_000 });
    const blobs = ["p", "q", "r"].map((s) => sizedBlob(s, 300));
    for (const [i, x] of blobs.entries()) {
      clock.set(10 + i);
      await store.blobs.putBlob(x.oid, x.bytes);
    }
    clock.set(20);
    store.blobs.openBlob(blobs[0]!.oid)!.close(); // p becomes the most recent; only in memory until close
    store.close();

    store = await openLocalStore({ path, cacheMaxBytes: 1000, lowWaterRatio: 1, now: clock.now });
    for (const x of blobs) expect(await store.blobs.readBlob(x.oid)).toEqual(x.bytes);
    // Reads above touched p, q, r in that order at t=20; make q the oldest explicitly.
    clock.set(30); store.blobs.openBlob(blobs[0]!.oid)!.close();
    clock.set(31); store.blobs.openBlob(blobs[2]!.oid)!.close();
    store.close();
    store = await openLocalStore({ path, cacheMaxBytes: 1000, lowWaterRatio: 1, now: clock.now });
    clock.set(40);
    const s = sizedBlob("s", 300);
    await store.blobs.putBlob(s.oid, s.bytes); // 1200 > 1000: the least recently used (q) goes
    expect(blobs.map((x) => store.blobs.hasBlob(x.oid))).toEqual([true, false, true]);
    store.close();
  });

  test("a missing or truncated blob file is dropped from the index and can be stored again", async () => {
    const store = await openLocalStore({ path: tempDir() });
    const gone = blob("file that disappears");
    const short = blob("file that gets truncated");
    await store.blobs.putBlob(gone.oid, gone.bytes);
    await store.blobs.putBlob(short.oid, short.bytes);
    unlinkSync(objectPath(store, gone.oid));
    chmodSync(objectPath(store, short.oid), 0o644);
    truncateSync(objectPath(store, short.oid), 3);

    expect(store.blobs.openBlob(gone.oid)).toBeNull();
    expect(store.blobs.hasBlob(gone.oid)).toBe(false);
    expect(store.blobs.blobSize(gone.oid)).toBe(gone.bytes.length);
    expect(await store.blobs.readBlob(short.oid)).toBeNull();
    expect(store.blobs.hasBlob(short.oid)).toBe(false);
    expect(existsSync(objectPath(store, short.oid))).toBe(false);
    expect(store.du()).toMatchObject({ blobs: 0, bytes: 0 });

    await store.blobs.putBlob(gone.oid, gone.bytes);
    await store.blobs.putBlob(short.oid, short.bytes);
    expect(await store.blobs.readBlob(short.oid)).toEqual(short.bytes);
    // putBlob of a blob the index believes cached repairs a file that vanished meanwhile.
    unlinkSync(objectPath(store, gone.oid));
    await store.blobs.putBlob(gone.oid, gone.bytes);
    expect(store.blobs.openBlob(gone.oid)?.size).toBe(gone.bytes.length);
    expect(store.du()).toMatchObject({ blobs: 2, bytes: gone.bytes.length + short.bytes.length });
    store.close();
  });

  test("verify: sizes on open, re-hash on demand, orphans adopted only when their hash matches", async () => {
    const path = tempDir();
    let store = await openLocalStore({ path });
    const ok = blob("intact");
    const truncated = blob("will be truncated while closed");
    const flipped = blob("same size, other bytes");
    for (const x of [ok, truncated, flipped]) await store.blobs.putBlob(x.oid, x.bytes);
    store.close();

    chmodSync(objectPath(store, truncated.oid), 0o644);
    truncateSync(objectPath(store, truncated.oid), 1);
    chmodSync(objectPath(store, flipped.oid), 0o644);
    writeFileSync(objectPath(store, flipped.oid), "X".repeat(flipped.bytes.length));
    // Orphans: a valid blob file without an index row, a corrupt one, and a junk name.
    const orphan = blob("orphan with a good hash");
    mkdirSync(join(path, "objects", orphan.oid.slice(0, 2)), { recursive: true });
    writeFileSync(join(path, "objects", orphan.oid.slice(0, 2), orphan.oid.slice(2)), orphan.bytes);
    const badOrphan = blob("orphan with a bad hash");
    mkdirSync(join(path, "objects", badOrphan.oid.slice(0, 2)), { recursive: true });
    writeFileSync(join(path, "objects", badOrphan.oid.slice(0, 2), badOrphan.oid.slice(2)), "garbage");
    writeFileSync(join(path, "objects", orphan.oid.slice(0, 2), "junk"), "junk");

    store = await openLocalStore({ path, verifyOnOpen: "size" });
    expect(store.blobs.hasBlob(truncated.oid)).toBe(false);
    expect(store.blobs.hasBlob(flipped.oid)).toBe(true); // right size: only a re-hash can tell
    expect(store.blobs.hasBlob(orphan.oid)).toBe(false); // not adopted without a re-hash
    expect(existsSync(join(path, "objects", orphan.oid.slice(0, 2), orphan.oid.slice(2)))).toBe(false);

    writeFileSync(join(path, "objects", orphan.oid.slice(0, 2), orphan.oid.slice(2)), orphan.bytes);
    writeFileSync(join(path, "objects", badOrphan.oid.slice(0, 2), badOrphan.oid.slice(2)), "garbage");
    const report = await store.verify({ rehash: true });
    expect(report).toEqual({ checked: 2, dropped: 1, adopted: 1, removedOrphans: 1 });
    expect(store.blobs.hasBlob(flipped.oid)).toBe(false);
    expect(await store.blobs.readBlob(orphan.oid)).toEqual(orphan.bytes);
    expect(await store.blobs.readBlob(ok.oid)).toEqual(ok.bytes);
    expect(store.du()).toMatchObject({ blobs: 2, bytes: ok.bytes.length + orphan.bytes.length });
    expect(bytesOnDisk(store)).toEqual({ files: 2, bytes: ok.bytes.length + orphan.bytes.length });
    store.close();
  });
});

describe("after an unclean shutdown", () => {
  test("blob files written without fsync are re-hashed on first open; torn ones are dropped", async () => {
    const dir = tempDir();
    const store = await openLocalStore({ path: dir, fsyncBlobs: false });
    const good = blob("survived the crash\n");
    const torn = blob("torn by the crash!!\n");
    await store.blobs.putBlob(good.oid, good.bytes);
    await store.blobs.putBlob(torn.oid, torn.bytes);
    // Simulate a crash: the bytes of one file are wrong but its size is right, and the lock is left behind.
    chmodSync(objectPath(store, torn.oid), 0o644);
    writeFileSync(objectPath(store, torn.oid), Buffer.alloc(torn.bytes.length, 0));
    store.close();
    writeFileSync(join(dir, "LOCK"), "999999999\n\n");

    const reopened = await openLocalStore({ path: dir, fsyncBlobs: false });
    try {
      // Nothing is handed out by path (the page-cache push reads files directly) before its re-hash.
      expect(reopened.blobs.storedPath(good.oid)).toBeNull();
      expect(reopened.blobs.storedPath(torn.oid)).toBeNull();
      expect(reopened.blobs.openBlob(torn.oid)).toBeNull();
      expect(reopened.blobs.hasBlob(torn.oid)).toBe(false);
      const h = reopened.blobs.openBlob(good.oid)!;
      expect(h.size).toBe(good.bytes.length);
      h.close();
      expect(reopened.blobs.storedPath(good.oid)).toBe(objectPath(reopened, good.oid));
      expect(reopened.blobs.storedPath(torn.oid)).toBeNull();
      expect(Buffer.from((await reopened.blobs.readBlob(good.oid))!).toString()).toBe("survived the crash\n");
    } finally {
      reopened.close();
    }
  });
});
