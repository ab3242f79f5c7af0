/**
 * LFS objects in the one blob cache, over the dev server's real LFS endpoints: single-flight, verified,
 * cached under their git blob id within `cache_max_bytes`, found again after a restart, fetched again
 * through the LFS API after eviction, one batch call for many objects, nothing stored for corrupt data.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { startDevServer, type DevServer } from "../../src/devserver/index.ts";
import { lfsOidOf, type LfsOid } from "../../src/lfs/pointer.ts";
import { createLfsClient } from "../../src/remote/lfs-client.ts";
import { createMegaClient, gitBlobOid, type MegaClient } from "../../src/remote/index.ts";
import { DicfuseView } from "../../src/dicfuse/index.ts";
import { formatLfsPointer } from "../../src/lfs/pointer.ts";
import { eventually } from "../support/eventually.ts";
import { LfsObjects } from "../../src/store/lfs-objects.ts";
import { ObjectStore, openLocalStore, type LocalStore } from "../../src/store/index.ts";
import { Errno, errnoOf } from "../../src/util/errno.ts";
import { makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { useTempDirs } from "./helpers.ts";

const tempDir = useTempDirs();
let dev: DevServer;
let repo: SampleRepo;

beforeAll(async () => {
  repo = makeSampleRepo(join(tempDir(), "repo"));
  dev = await startDevServer({ repo: repo.path });
});
afterAll(async () => {
  await dev?.stop();
});

const spec = (bytes: Uint8Array) => ({ oid: lfsOidOf(bytes) as LfsOid, size: bytes.byteLength });
const objectGets = (bytes: Uint8Array) => dev.stats.get("GET", `/info/lfs/objects/${lfsOidOf(bytes)}`);

async function open(path: string, maxBytes = 1 << 30, mega: MegaClient = {} as MegaClient): Promise<{ store: LocalStore; objects: ObjectStore }> {
  const store = await openLocalStore({ path, cacheMaxBytes: maxBytes, fsyncBlobs: false });
  // Without `mega`, no Mega blob is ever fetched: an LFS object must not be asked of the blob endpoint.
  const objects = new ObjectStore(store.blobs, store.trees, mega);
  objects.lfs = new LfsObjects(store.blobs, store.lfs, createLfsClient({ lfsUrl: `${dev.url}/info/lfs`, requestTimeoutMs: 10_000, maxRetries: 0 }));
  return { store, objects };
}

describe("LFS objects in the blob cache", () => {
  test("concurrent reads share one download; cached under the git blob id; a restart finds it", async () => {
    const bytes = crypto.getRandomValues(new Uint8Array(200_000));
    await dev.lfs.objects.putBytes(bytes);
    const path = tempDir();
    let { store, objects } = await open(path);
    const oids = await Promise.all(Array.from({ length: 8 }, () => objects.lfs!.ensure(spec(bytes))));
    expect(new Set(oids)).toEqual(new Set([gitBlobOid(bytes)]));
    expect(objectGets(bytes)).toBe(1);
    const { bytes: read } = await objects.read(oids[0]!);
    expect(read).toEqual(bytes);
    expect(readdirSync(store.blobs.tempPath("x").replace(/\/[^/]*$/, ""))).toEqual([]);
    store.close();
    ({ store, objects } = await open(path));
    expect(objects.lfs!.cachedOid(spec(bytes))).toBe(gitBlobOid(bytes));
    expect(await objects.lfs!.ensure(spec(bytes))).toBe(gitBlobOid(bytes));
    expect(objectGets(bytes)).toBe(1);
    store.close();
  });

  test("within cache_max_bytes: an evicted object is fetched again through the LFS API", async () => {
    const objs = [1, 2, 3].map(() => crypto.getRandomValues(new Uint8Array(100_000)));
    for (const o of objs) await dev.lfs.objects.putBytes(o);
    const { store, objects } = await open(tempDir(), 150_000);
    for (const o of objs) await objects.lfs!.ensure(spec(o));
    expect(store.blobs.usage().bytes).toBeLessThanOrEqual(150_000);
    const first = gitBlobOid(objs[0]!);
    expect(objects.has(first)).toBe(false);
    const before = objectGets(objs[0]!);
    // Opening the evicted blob by id goes back to the LFS server, not to Mega's blob endpoint.
    const h = await objects.openPinned(first);
    expect(h!.size).toBe(objs[0]!.byteLength);
    h!.close();
    expect(objectGets(objs[0]!)).toBe(before + 1);
    store.close();
  });

  test("many objects in one batch call; corrupt data is EIO and not stored; unknown objects are ENOENT", async () => {
    const good = [1, 2, 3].map(() => crypto.getRandomValues(new Uint8Array(5_000)));
    for (const o of good) await dev.lfs.objects.putBytes(o);
    const bad = crypto.getRandomValues(new Uint8Array(5_000));
    await dev.lfs.objects.putUnchecked(lfsOidOf(bad), new TextEncoder().encode("wrong"));
    const missing = crypto.getRandomValues(new Uint8Array(5_000));
    const { store, objects } = await open(tempDir());
    const batches = dev.stats.get("POST", "/info/lfs/objects/batch");
    const results = await objects.lfs!.ensureMany([...good, bad, missing].map(spec));
    expect(dev.stats.get("POST", "/info/lfs/objects/batch")).toBe(batches + 1);
    expect(results.slice(0, 3).every((r) => r.ok)).toBe(true);
    const [rBad, rMissing] = results.slice(3);
    expect(rBad!.ok).toBe(false);
    expect(errnoOf(!rBad!.ok && rBad!.error)).toBe(Errno.EIO);
    expect(errnoOf(!rMissing!.ok && rMissing!.error)).toBe(Errno.ENOENT);
    expect(objects.lfs!.cachedOid(spec(bad))).toBeNull();
    expect(store.blobs.usage().blobs).toBe(3);
    store.close();
  });
});

describe("a view's LFS files", () => {
  test("stat answers the pointer's size; a cold read fetches the object and reads ahead the next LFS files in one batch", async () => {
    const objs = [1, 2, 3, 4].map((i) => crypto.getRandomValues(new Uint8Array(3_000 * i)));
    repo.commitFile("lfsdir/.gitattributes", "*.bin filter=lfs\n");
    objs.forEach((o, i) => repo.commitFile(`lfsdir/f${i}.bin`, formatLfsPointer(spec(o))));
    for (const o of objs) await dev.lfs.objects.putBytes(o);
    const client = createMegaClient({ baseUrl: dev.url, requestTimeoutMs: 10_000 });
    const { store, objects } = await open(tempDir(), 1 << 30, client);
    const view = new DicfuseView(store, objects, { basePath: "/", replyTtlSecs: 60, statMode: "accurate", loadDirDepth: 0, watchIntervalMs: 0, negativeTtlSecs: 1, dirReadahead: 8 });
    const dir = (await view.lookup(1, "lfsdir"))!;
    const files = (await view.children(dir.ino)).filter((c) => c.name.endsWith(".bin"));
    for (const [i, f] of files.entries()) expect((await view.withSize(f)).size).toBe(objs[i]!.byteLength);
    expect(objs.map(objectGets)).toEqual([0, 0, 0, 0]);
    const batches = dev.stats.get("POST", "/info/lfs/objects/batch");
    const opened = await view.readContent(files[0]!);
    expect(opened.handle!.size).toBe(objs[0]!.byteLength);
    // The other three come in the background, with one more batch call.
    await eventually(async () => objs.slice(1).every((o) => objects.lfs!.cachedOid(spec(o)) !== null), (ok) => ok);
    expect(dev.stats.get("POST", "/info/lfs/objects/batch")).toBe(batches + 2);
    expect(objs.map(objectGets)).toEqual([1, 1, 1, 1]);
    store.close();
  });

  test("a new attribute file makes an unchanged pointer blob an LFS file after the view moves to the new commit", async () => {
    const obj = crypto.getRandomValues(new Uint8Array(9_000));
    await dev.lfs.objects.putBytes(obj);
    repo.commitFile("later/p.txt", formatLfsPointer(spec(obj)));
    const client = createMegaClient({ baseUrl: dev.url, requestTimeoutMs: 10_000 });
    const { store, objects } = await open(tempDir(), 1 << 30, client);
    const view = new DicfuseView(store, objects, { basePath: "/", replyTtlSecs: 60, statMode: "accurate", loadDirDepth: 0, watchIntervalMs: 0, negativeTtlSecs: 1 });
    const dir = (await view.lookup(1, "later"))!;
    const file = (await view.lookup(dir.ino, "p.txt"))!;
    expect((await view.withSize(file)).size).toBe(formatLfsPointer(spec(obj)).length);
    repo.commitFile("later/.gitattributes", "*.txt filter=lfs\n");
    await view.refreshChanged();
    const again = (await view.lookup(dir.ino, "p.txt"))!;
    expect(again.oid).toBe(file.oid);
    expect((await view.withSize(again)).size).toBe(obj.byteLength);
    store.close();
  });
});
