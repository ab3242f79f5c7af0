/**
 * The object store over a fake backing store that counts what it is asked (the fetch counts are the
 * point, so the fake is the right tool here), and over the dev server for packs and views.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ObjectStore, openLocalStore, type BackingStore, type LocalStore, type Oid } from "../../src/store/index.ts";
import { createMegaClient, parsePack, parsePackOffThread, applyDelta, RemoteError, type MegaClient } from "../../src/remote/index.ts";
import { DicfuseView } from "../../src/dicfuse/index.ts";
import { startDevServer, type DevServer } from "../../src/devserver/index.ts";
import { git, makeLargeRepo, makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { FakeBacking, sizedBlob, useTempDirs } from "./helpers.ts";
import { eventually } from "../support/eventually.ts";
import { Errno, errnoOf } from "../../src/util/errno.ts";

const tempDir = useTempDirs();

async function objectStoreOver(backing: BackingStore, maxBytes = 1 << 30): Promise<{ store: LocalStore; objects: ObjectStore }> {
  const store = await openLocalStore({ path: tempDir(), cacheMaxBytes: maxBytes, fsyncBlobs: false });
  return { store, objects: new ObjectStore(store.blobs, store.trees, backing, { downloadConcurrency: 4 }) };
}

describe("object store over a fake backing store", () => {
  test("many concurrent readers of the same blobs cause exactly one fetch and one hash per blob", async () => {
    const fake = new FakeBacking();
    const oids = Array.from({ length: 20 }, (_, i) => fake.add(sizedBlob(`b${i}`, 1000 + i).bytes));
    const { store, objects } = await objectStoreOver(fake);
    let release!: () => void;
    fake.gate = new Promise((r) => (release = r));
    const reads = [];
    for (let round = 0; round < 10; round++) {
      for (const oid of oids) {
        reads.push(objects.open(oid));
        reads.push(objects.read(oid));
        reads.push(objects.ensure(oid));
      }
    }
    objects.readahead(oids);
    await Bun.sleep(10);
    release();
    fake.gate = null;
    await Promise.all(reads);
    for (const oid of oids) expect(fake.fetches.get(oid)).toBe(1);
    expect(fake.totalFetches).toBe(oids.length);
    expect(objects.counters.hashed).toBe(oids.length);
    expect(objects.counters.downloads).toBe(oids.length);
    expect(objects.counters.joins).toBeGreaterThan(0);
    // Later reads never reach the backing store; an fd already open answers from memory.
    const again = await objects.open(oids[0]!);
    expect(again.origin).toBe("memory");
    expect(fake.totalFetches).toBe(oids.length);
    objects.close();
    store.close();
  });

  test("a pack is readable before it is stored: sizes known at once, blobs stored in tree order, each read waits for its own blob only", async () => {
    const fake = new FakeBacking();
    const blobs = Array.from({ length: 600 }, (_, i) => sizedBlob(`packed${i}`, 50 + (i % 7)));
    for (const b of blobs) fake.add(b.bytes);
    const { store, objects } = await objectStoreOver(fake);
    const stored = objects.prefetchPack("/any");
    const r = await objects.prefetchPack("/any", { until: "readable" });
    expect(r.blobs).toBe(blobs.length);
    expect(fake.packs).toBe(1);
    for (const b of blobs) expect(objects.knownSize(b.oid)).toBe(b.bytes.length);
    const first = blobs[0]!;
    const last = blobs.at(-1)!;
    expect(objects.has(last.oid)).toBe(false);
    expect(objects.isFetching(last.oid)).toBe(true);
    // The tree's first files are stored first: reading one does not wait for the whole pack.
    expect((await objects.read(first.oid)).bytes).toEqual(first.bytes);
    expect(objects.has(last.oid)).toBe(false);
    const reads = await Promise.all(blobs.map((b) => objects.open(b.oid)));
    reads.forEach((o, i) => expect(o.handle?.size).toBe(blobs[i]!.bytes.length));
    expect((await objects.read(last.oid)).bytes).toEqual(last.bytes);
    expect(await stored).toMatchObject({ blobs: blobs.length });
    // Nothing was asked blob by blob, and each blob was hashed once (when the pack was parsed).
    expect(fake.totalFetches).toBe(0);
    expect(fake.heads).toBe(0);
    expect(objects.counters.hashed).toBe(blobs.length);
    expect(objects.isFetching(last.oid)).toBe(false);
    objects.close();
    store.close();
  });

  test("corrupt content is refused (EIO) and never stored", async () => {
    const fake = new FakeBacking();
    const oid = fake.add(new TextEncoder().encode("the real bytes\n"));
    fake.corrupt = true;
    const { store, objects } = await objectStoreOver(fake);
    await expect(objects.open(oid)).rejects.toMatchObject({ errno: Errno.EIO });
    expect(objects.has(oid)).toBe(false);
    fake.corrupt = false;
    expect((await objects.read(oid)).origin).toBe("remote");
    objects.close();
    store.close();
  });

  test("sizes of a directory's files are asked together, once, and remembered across a restart", async () => {
    const fake = new FakeBacking();
    const oids = Array.from({ length: 30 }, (_, i) => fake.add(sizedBlob(`s${i}`, 10 + i).bytes));
    const dir = tempDir();
    let store = await openLocalStore({ path: dir, cacheMaxBytes: 1 << 20, fsyncBlobs: false });
    let objects = new ObjectStore(store.blobs, store.trees, fake);
    await Promise.all([objects.sizes(oids), objects.sizes(oids), ...oids.map((o) => objects.size(o))]);
    expect(fake.heads).toBe(oids.length);
    for (const [i, oid] of oids.entries()) expect(objects.knownSize(oid)).toBe(10 + i);
    objects.close();
    store.close();
    store = await openLocalStore({ path: dir, cacheMaxBytes: 1 << 20, fsyncBlobs: false });
    objects = new ObjectStore(store.blobs, store.trees, fake);
    for (const [i, oid] of oids.entries()) expect(await objects.size(oid)).toBe(10 + i);
    expect(fake.heads).toBe(oids.length);
    objects.close();
    store.close();
  });

  test("the cache bound holds while reading ten times the bound: open fds do not pin, evicted fds are closed", async () => {
    const fake = new FakeBacking();
    const bound = 64 * 1024;
    const oids = Array.from({ length: 80 }, (_, i) => fake.add(sizedBlob(`c${i}`, 8 * 1024).bytes)); // 640 KiB = 10x
    const { store, objects } = await objectStoreOver(fake, bound);
    let peak = 0;
    for (const oid of oids) {
      const { handle } = await objects.open(oid);
      // The fd just opened stays readable even if its blob is evicted later.
      const buf = Buffer.alloc(16);
      expect(require("node:fs").readSync(handle!.fd, buf, 0, 16, 0)).toBe(16);
      peak = Math.max(peak, store.du().bytes);
    }
    expect(peak).toBeLessThanOrEqual(bound);
    expect(store.du().pinnedBytes).toBe(0);
    expect(objects.counters.evictions).toBeGreaterThan(0);
    await Bun.sleep(5); // evicted fds close in the next macrotask
    expect(objects.counters.openHandles).toBeLessThanOrEqual(Math.ceil(bound / (8 * 1024)));
    // A pinned open (like a kernel open) is kept beyond the bound until it is closed.
    const pinned = await objects.openPinned(oids[0]!);
    for (const oid of oids.slice(1, 20)) await objects.ensure(oid);
    expect(objects.has(oids[0]!)).toBe(true);
    pinned!.close();
    objects.gc({ targetBytes: 0 });
    expect(store.du().bytes).toBe(0);
    objects.close();
    store.close();
  });
});

describe("packs", () => {
  test("applyDelta copies and inserts as git does", () => {
    const base = new TextEncoder().encode("hello brave new world");
    // src 21, dst 17: copy 6 bytes at 0 ("hello "), insert "big ", copy 7 at 14? ("w world" no) → use "world" at 16 (5 bytes) + insert "!!"
    const delta = Uint8Array.from([21, 17, 0x80 | 0x01 | 0x10, 0, 6, 4, ...new TextEncoder().encode("big "), 0x80 | 0x01 | 0x10, 16, 5, 2, 33, 33]);
    expect(new TextDecoder().decode(applyDelta(base, delta))).toBe("hello big world!!");
  });

  test("a pack of many objects is parsed while the event loop keeps turning (on the pack thread), ids as git's", async () => {
    const repo = makeLargeRepo(join(tempDir(), "many.git"), { files: 700, filesPerDir: 100, dirsPerDir: 7 });
    const revs = git(repo, ["rev-list", "--objects", "--all"]).split("\n").filter(Boolean).map((l) => l.split(" ")[0]!);
    const pack = Bun.spawnSync(["git", "pack-objects", "--stdout"], { cwd: repo, stdin: new TextEncoder().encode(revs.join("\n") + "\n") }).stdout;
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    const objects = await parsePackOffThread(new Uint8Array(pack), "many-pack");
    clearInterval(ticker);
    expect(objects.map((o): string => o.oid).sort()).toEqual([...revs].sort());
    expect(turns).toBeGreaterThan(0);
  });

  test("the pack thread parses to the same objects as parsePack; a damaged pack is a protocol error", async () => {
    const repo = makeLargeRepo(join(tempDir(), "thread.git"), { files: 300, filesPerDir: 100, dirsPerDir: 3 });
    const revs = git(repo, ["rev-list", "--objects", "--all"]).split("\n").filter(Boolean).map((l) => l.split(" ")[0]!);
    const pack = new Uint8Array(Bun.spawnSync(["git", "pack-objects", "--stdout"], { cwd: repo, stdin: new TextEncoder().encode(revs.join("\n") + "\n") }).stdout);
    const here = parsePack(pack.slice());
    const there = await parsePackOffThread(pack.slice(), "test-pack");
    expect(there.map((o) => [o.type, o.oid, Buffer.from(o.data).toString("hex")])).toEqual(here.map((o) => [o.type, o.oid, Buffer.from(o.data).toString("hex")]));
    const damaged = pack.slice();
    damaged[100] = damaged[100]! ^ 0xff;
    const err = await parsePackOffThread(damaged, "damaged-pack").then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).failure).toBe("protocol");
    expect((err as RemoteError).url).toBe("damaged-pack");
    expect(errnoOf(err)).toBe(Errno.EIO);
  });

  test("a pack made by git parses to objects whose ids are git's, deltas resolved", async () => {
    const dir = tempDir();
    git(dir, ["init", "-q", "-b", "main"]);
    const big = "line of text that repeats\n".repeat(200);
    Bun.write(join(dir, "a.txt"), big);
    git(dir, ["add", "."]);
    git(dir, ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one"]);
    Bun.write(join(dir, "a.txt"), big + "one more line\n");
    git(dir, ["add", "."]);
    git(dir, ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "two"]);
    const revs = git(dir, ["rev-list", "--objects", "--all"]).split("\n").filter(Boolean).map((l) => l.split(" ")[0]!);
    const pack = Bun.spawnSync(["git", "pack-objects", "--stdout", "--delta-base-offset"], { cwd: dir, stdin: new TextEncoder().encode(revs.join("\n") + "\n") }).stdout;
    const objects = parsePack(new Uint8Array(pack));
    expect(objects.map((o): string => o.oid).sort()).toEqual([...revs].sort());
  });
});

describe("over the dev server", () => {
  let repo: SampleRepo;
  let server: DevServer;
  let client: MegaClient;

  beforeAll(async () => {
    repo = makeSampleRepo(join(tempDir(), "repo"));
    server = await startDevServer({ repo: repo.path });
    client = createMegaClient({ baseUrl: server.url, requestTimeoutMs: 10_000, maxRetries: 0 });
  });
  afterAll(async () => {
    await server?.stop();
  });

  test("a sub-path pack brings a directory's blobs in one upload-pack exchange, verified", async () => {
    const { store, objects } = await objectStoreOver(client);
    server.stats.reset();
    const r = await objects.prefetchPack("/project");
    expect(r.blobs).toBeGreaterThanOrEqual(3);
    expect(server.stats.get("POST", "/project.git/git-upload-pack")).toBe(1);
    expect(server.stats.total("/api/v1/file/blob")).toBe(0);
    const cargo = git(repo.path, ["rev-parse", "HEAD:project/foo/Cargo.toml"]).trim() as Oid;
    expect(objects.has(cargo)).toBe(true);
    expect(new TextDecoder().decode((await objects.read(cargo)).bytes)).toBe('[package]\nname = "foo"\n');
    expect(server.stats.total("/api/v1/file/blob")).toBe(0);
    objects.close();
    store.close();
  });

  test("a pinned view keeps its commit; a following one moves; a warm restart lists nothing", async () => {
    const dir = tempDir();
    const store = await openLocalStore({ path: dir, cacheMaxBytes: 1 << 30, fsyncBlobs: false });
    const objects = new ObjectStore(store.blobs, store.trees, client);
    const opts = { basePath: "/project", replyTtlSecs: 60, statMode: "fast" as const, loadDirDepth: 0, watchIntervalMs: 0, negativeTtlSecs: 1 };
    const pinnedAt = git(repo.path, ["rev-parse", "HEAD"]).trim() as Oid;
    const { TreeStore } = await import("../../src/store/index.ts");
    const pinnedTree = TreeStore.open(join(dir, "pinned"));
    const followTree = TreeStore.open(join(dir, "follow"));
    const pinned = new DicfuseView(pinnedTree, objects, { ...opts, pinnedCommit: pinnedAt });
    const follow = new DicfuseView(followTree, objects, opts);
    const names = async (v: DicfuseView, path: string[]) => {
      let ino = 1;
      for (const p of path) ino = (await v.lookup(ino, p))!.ino;
      return (await v.children(ino)).map((c) => c.name).sort();
    };
    expect(await names(pinned, ["foo"])).toEqual(["Cargo.toml", "src"]);
    expect(await names(follow, ["foo"])).toEqual(["Cargo.toml", "src"]);
    repo.commitFile("project/foo/added.txt", "new\n");
    const changes: unknown[] = [];
    follow.onChange((c) => changes.push(...c));
    expect(await follow.refreshChanged()).toBeGreaterThan(0);
    expect(await pinned.refreshChanged()).toBe(0);
    expect(await names(follow, ["foo"])).toEqual(["Cargo.toml", "added.txt", "src"]);
    expect(await names(pinned, ["foo"])).toEqual(["Cargo.toml", "src"]);
    expect(changes).toContainEqual(expect.objectContaining({ kind: "entry", name: "added.txt" }));
    // A name the pinned tree lacks is ENOENT (null), never an error.
    const foo = (await pinned.lookup(1, "foo"))!;
    expect(await pinned.lookup(foo.ino, "added.txt")).toBeNull();
    // Directories of the pinned commit not loaded before the server moved (one of them changed since):
    // listed at the pinned commit.
    repo.commitFile("project/bar/later.txt", "after the pin\n");
    const bar = (await pinned.lookup(1, "bar"))!;
    expect((await pinned.children(bar.ino)).map((c) => c.name)).toEqual(["deep"]);
    expect(await names(follow, ["bar"])).toEqual(["deep", "later.txt"]);

    // A view pinned at the old commit, opened after the server moved on: its root's tree id at that
    // commit comes from dir-hash, so it is still served from raw trees (with modes).
    const lateTree = TreeStore.open(join(dir, "late"));
    const late = new DicfuseView(lateTree, objects, { ...opts, pinnedCommit: pinnedAt });
    server.stats.reset();
    expect(await names(late, ["foo"])).toEqual(["Cargo.toml", "src"]);
    expect(server.stats.total("/api/v1/tree/content-hash")).toBe(0);
    expect(await names(late, ["bar"])).toEqual(["deep"]);
    lateTree.close();

    // Restart of the following view over the same stores: zero listing requests for what was loaded.
    followTree.close();
    const again = new DicfuseView(TreeStore.open(join(dir, "follow")), objects, opts);
    server.stats.reset();
    expect(await names(again, ["foo"])).toEqual(["Cargo.toml", "added.txt", "src"]);
    expect(server.stats.total("/api/v1/file/tree") + server.stats.total("/api/v1/tree")).toBe(0);
    again.tree.close();
    pinnedTree.close();
    objects.close();
    store.close();
  });

  test("a cold read in a directory of many uncached files fetches the directory as one pack, current versions only", async () => {
    for (let i = 0; i < 6; i++) repo.commitFile(`packed/f${i}.txt`, `file ${i}\n`);
    repo.commitFile("packed/f0.txt", "file 0, second version\n");
    const { store, objects } = await objectStoreOver(client);
    const view = new DicfuseView(store, objects, { basePath: "/", replyTtlSecs: 60, statMode: "fast", loadDirDepth: 0, watchIntervalMs: 0, negativeTtlSecs: 1 });
    const dir = (await view.lookup(1, "packed"))!;
    const files = await view.children(dir.ino);
    server.stats.reset();
    const { handle } = await view.readContent(files[3]!);
    expect(handle!.size).toBe("file 3\n".length);
    expect(server.stats.get("POST", "/packed.git/git-upload-pack")).toBe(1);
    expect(server.stats.total("/api/v1/file/blob")).toBe(0);
    for (const f of files) expect(objects.has(f.oid!)).toBe(true);
    // The first version of f0 was in the pack's history, and is not kept.
    const old = git(repo.path, ["rev-parse", "HEAD~1:packed/f0.txt"]).trim() as Oid;
    expect(objects.has(old)).toBe(false);
    // Reading the other files costs nothing more.
    for (const f of files) await view.readContent(f);
    expect(server.stats.total("/packed.git")).toBe(2); // info/refs + upload-pack
    expect(server.stats.total("/api/v1/file/blob")).toBe(0);
    objects.close();
    store.close();
  });

  test("the first cold read under a parent with sub-directories also fetches the parent's subtree; its siblings then cost nothing", async () => {
    for (const d of ["x", "y", "z"]) for (let i = 0; i < 5; i++) repo.commitFile(`widen/${d}/f${i}.txt`, `${d} ${i}\n`);
    const { store, objects } = await objectStoreOver(client);
    const view = new DicfuseView(store, objects, { basePath: "/", replyTtlSecs: 60, statMode: "fast", loadDirDepth: 0, watchIntervalMs: 0, negativeTtlSecs: 1 });
    const widen = (await view.lookup(1, "widen"))!;
    const dirs = await view.children(widen.ino);
    const x = await view.children(dirs[0]!.ino);
    const y = await view.children(dirs[1]!.ino);
    server.stats.reset();
    // The reader waits for x's own pack; the parent's comes in the background.
    await view.readContent(x[0]!);
    expect(server.stats.get("POST", "/widen/x.git/git-upload-pack")).toBe(1);
    expect(await eventually(async () => y.every((f) => objects.has(f.oid!)), (v) => v)).toBe(true);
    expect(server.stats.get("POST", "/widen.git/git-upload-pack")).toBe(1);
    // Packs only (z's listing may also come ahead of the reader, from the tree API or the pack's trees).
    const packsBefore = server.stats.total("/widen");
    await view.readContent(y[0]!);
    // z: its contents came with the parent's pack too.
    for (const f of await view.children(dirs[2]!.ino)) expect(new TextDecoder().decode((await objects.read(f.oid!)).bytes)).toBe(`z ${f.name.slice(1, 2)}\n`);
    expect(server.stats.total("/widen")).toBe(packsBefore);
    expect(server.stats.get("POST", "/widen/y.git/git-upload-pack")).toBe(0);
    expect(server.stats.total("/api/v1/file/blob")).toBe(0);
    objects.close();
    store.close();
  });

  test("parallel cold reads in sibling directories wait for the parent's pack the first one started: two packs in all", async () => {
    for (const d of ["p", "q", "r", "s"]) for (let i = 0; i < 5; i++) repo.commitFile(`par/${d}/f${i}.txt`, `${d} ${i}\n`);
    const { store, objects } = await objectStoreOver(client);
    const view = new DicfuseView(store, objects, { basePath: "/", replyTtlSecs: 60, statMode: "fast", loadDirDepth: 0, watchIntervalMs: 0, negativeTtlSecs: 1 });
    const par = (await view.lookup(1, "par"))!;
    const dirs = await view.children(par.ino);
    const files = await Promise.all(dirs.map((d) => view.children(d.ino)));
    server.stats.reset();
    // Four readers at once, one per directory, as a parallel build's.
    const read = await Promise.all(files.map((fs) => view.readContent(fs[1]!).then((o) => objects.read(o.handle!.oid))));
    read.forEach((r, i) => expect(new TextDecoder().decode(r.bytes)).toBe(`${dirs[i]!.name} 1\n`));
    // The first reader's own pack and the parent's (which the other three waited for).
    expect(server.stats.get("POST", `/par/${dirs[0]!.name}.git/git-upload-pack`)).toBe(1);
    expect(server.stats.get("POST", "/par.git/git-upload-pack")).toBe(1);
    for (const d of dirs.slice(1)) expect(server.stats.get("POST", `/par/${d.name}.git/git-upload-pack`)).toBe(0);
    expect(server.stats.total("/api/v1/file/blob")).toBe(0);
    objects.close();
    store.close();
  });

  test("walking into a directory fetches the listings a walker wants next: its sub-directories, and the siblings after it when walking in order", async () => {
    for (const d of ["a", "b", "c"]) repo.commitFile(`ahead/${d}/f.txt`, `${d}\n`);
    for (let i = 0; i < 20; i++) repo.commitFile(`wide/d${i}/f.txt`, `${i}\n`);
    const { store, objects } = await objectStoreOver(client);
    const view = new DicfuseView(store, objects, { basePath: "/", replyTtlSecs: 60, statMode: "fast", loadDirDepth: 0, watchIntervalMs: 0, negativeTtlSecs: 1 });
    const loaded = (dirs: Array<{ ino: number }>) => dirs.filter((c) => view.isLoaded(c.ino)).length;
    const ahead = (await view.lookup(1, "ahead"))!;
    const subdirs = await view.children(ahead.ino);
    expect(subdirs.map((c) => c.name)).toEqual(["a", "b", "c"]);
    expect(loaded(subdirs)).toBe(0); // a listing alone (a lookup, `children`) reads nothing ahead
    view.walkedInto(ahead.ino); // what the FUSE adapter calls for a listing read from its start
    expect(await eventually(async () => loaded(subdirs), (n) => n === 3)).toBe(3);
    server.stats.reset();
    for (const c of subdirs) expect((await view.children(c.ino)).map((f) => f.name)).toEqual(["f.txt"]);
    expect(server.stats.total("/api/v1/file/tree") + server.stats.total("/api/v1/tree")).toBe(0);
    // 20 sub-directories: too wide to fetch them all for a listing; a walker going through them in order
    // (it entered one, then the next) gets the next 16 after the one it is in.
    const wide = (await view.lookup(1, "wide"))!;
    const many = await view.children(wide.ino);
    expect(many.length).toBe(20);
    view.walkedInto(wide.ino);
    for (const i of [0, 1]) {
      await view.children(many[i]!.ino); // the kernel's listing loads it, then says it walked in
      view.walkedInto(many[i]!.ino);
    }
    expect(await eventually(async () => loaded(many.slice(2, 18)), (n) => n === 16)).toBe(16);
    expect(loaded(many.slice(18))).toBe(0);
    objects.close();
    store.close();
  });

  test("prefetch of a whole directory: one pack first, then everything under it is local", async () => {
    for (const d of ["p", "q"]) for (let i = 0; i < 5; i++) repo.commitFile(`whole/${d}/f${i}.txt`, `${d}${i}\n`);
    const { store, objects } = await objectStoreOver(client);
    const view = new DicfuseView(store, objects, { basePath: "/", replyTtlSecs: 60, statMode: "fast", loadDirDepth: 0, watchIntervalMs: 0, negativeTtlSecs: 1 });
    server.stats.reset();
    const r = await view.prefetch(["whole"]);
    expect(r).toMatchObject({ matched: 10, fetched: 10, failed: 0 });
    expect(server.stats.get("POST", "/whole.git/git-upload-pack")).toBe(1);
    expect(server.stats.total("/whole/")).toBe(0); // no narrower pack
    expect(server.stats.total("/api/v1/file/blob")).toBe(0);
    const whole = (await view.lookup(1, "whole"))!;
    for (const d of await view.children(whole.ino)) {
      for (const f of await view.children(d.ino)) expect(new TextDecoder().decode((await objects.read(f.oid!)).bytes)).toBe(`${d.name}${f.name.slice(1, 2)}\n`);
    }
    expect(server.stats.total("/api/v1/file/blob")).toBe(0);
    objects.close();
    store.close();
  });

  test("an unreachable server fails an uncached listing within one deadline, with EIO", async () => {
    const hung = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, open() {} } });
    try {
      const c = createMegaClient({ baseUrl: `http://127.0.0.1:${hung.port}`, requestTimeoutMs: 60_000, maxRetries: 3 });
      const { store, objects } = await objectStoreOver(c);
      const view = new DicfuseView(store, objects, { basePath: "/", replyTtlSecs: 60, statMode: "fast", loadDirDepth: 0, watchIntervalMs: 0, negativeTtlSecs: 1, requestDeadlineMs: 300 });
      const err = await Promise.resolve(view.children(1)).then(() => null, (e: unknown) => e);
      expect(errnoOf(err)).toBe(Errno.EIO);
      objects.close();
      store.close();
    } finally {
      hung.stop(true);
    }
  });
});
