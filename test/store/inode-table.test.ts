import { describe, expect, test } from "bun:test";
import { openLocalStore, ROOT_INO, GitMode, type DirEntryInput, type Ino, type Oid } from "../../src/store/index.ts";
import { gitBlobOid } from "../../src/remote/index.ts";
import { openDatabase } from "../../src/store/database.ts";
import { InodeTable } from "../../src/store/inode-table.ts";
import { join } from "node:path";
import { useTempDirs } from "./helpers.ts";

const tempDir = useTempDirs();
const oid = (s: string): Oid => gitBlobOid(new TextEncoder().encode(s));
const file = (name: string, content = name, extra: Partial<DirEntryInput> = {}): DirEntryInput => ({ name, kind: "file", oid: oid(content), ...extra });
const dir = (name: string, hash = name): DirEntryInput => ({ name, kind: "dir", oid: oid("tree:" + hash) });

describe("inode table", () => {
  test("count() follows adds, subtree removals and rolled-back listings without rescanning wrongly", () => {
    const db = openDatabase(join(tempDir(), "store.db"));
    const t = new InodeTable(db);
    const scan = () => db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM inodes").get()!.n;
    expect(t.count()).toBe(1); // the root; from here on count() answers from its mirror
    t.replaceDirectory(ROOT_INO, [dir("d"), file("a"), file("b")]);
    const d = t.lookupChild(ROOT_INO, "d")!;
    t.replaceDirectory(d.ino, [file("x"), dir("sub")]);
    t.addChild(ROOT_INO, file("local"));
    expect(t.count()).toBe(scan());
    expect(t.count()).toBe(7);
    t.replaceDirectory(ROOT_INO, [file("a")]); // d (and its subtree), b and local go
    expect(t.count()).toBe(scan());
    expect(t.count()).toBe(2);
    // A listing that fails half-way is rolled back; the mirror must not keep its partial inserts.
    db.run("CREATE TRIGGER boom AFTER INSERT ON inodes WHEN NEW.name = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END");
    expect(() => t.replaceDirectory(ROOT_INO, [file("a"), file("n1"), file("n2"), file("boom")])).toThrow(/boom/);
    expect(scan()).toBe(2);
    expect(t.count()).toBe(2);
    db.close();
  });

  test("listChildDirs: sub-directories only, in server order, within a position range and a limit", async () => {
    const store = await openLocalStore({ path: tempDir() });
    const t = store.inodes;
    t.replaceDirectory(ROOT_INO, [file("a"), dir("d1"), file("b"), dir("d2"), dir("d3"), file("c"), dir("d4")]);
    const names = (rows: { name: string }[]) => rows.map((r) => r.name);
    expect(names(t.listChildDirs(ROOT_INO, 0, 100, 10))).toEqual(["d1", "d2", "d3", "d4"]);
    expect(names(t.listChildDirs(ROOT_INO, 2, 100, 10))).toEqual(["d2", "d3", "d4"]);
    expect(names(t.listChildDirs(ROOT_INO, 0, 4, 10))).toEqual(["d1", "d2"]); // positions 0..3
    expect(names(t.listChildDirs(ROOT_INO, 0, 100, 2))).toEqual(["d1", "d2"]);
    store.close();
  });

  test("root is inode 1 with path /", async () => {
    const store = await openLocalStore({ path: tempDir() });
    const root = store.inodes.getInode(ROOT_INO);
    expect(root).toMatchObject({ ino: 1, parent: 0, name: "", kind: "dir", mode: GitMode.TREE });
    expect(store.inodes.pathOf(ROOT_INO)).toBe("/");
    expect(store.inodes.resolvePath("/")).toBe(ROOT_INO);
    store.close();
  });

  test("children keep server order and positions are dense", async () => {
    const store = await openLocalStore({ path: tempDir() });
    const names = ["zeta", "alpha", "Mid", "b"];
    store.inodes.replaceDirectory(ROOT_INO, names.map((n) => file(n)));
    expect(store.inodes.listChildren(ROOT_INO).map((r) => r.name)).toEqual(names);
    expect(store.inodes.listChildren(ROOT_INO).map((r) => r.position)).toEqual([0, 1, 2, 3]);
    expect(store.inodes.listChildren(ROOT_INO, { offset: 2 }).map((r) => r.name)).toEqual(["Mid", "b"]);
    expect(store.inodes.listChildren(ROOT_INO, { offset: 1, limit: 2 }).map((r) => r.name)).toEqual(["alpha", "Mid"]);
    // A new listing in another order moves entries without changing their inodes.
    const before = new Map(store.inodes.listChildren(ROOT_INO).map((r) => [r.name, r.ino]));
    const res = store.inodes.replaceDirectory(ROOT_INO, ["b", "zeta", "alpha", "Mid"].map((n) => file(n)));
    expect(res).toMatchObject({ added: [], changed: [], removed: [], moved: 4 });
    const after = store.inodes.listChildren(ROOT_INO);
    expect(after.map((r) => r.name)).toEqual(["b", "zeta", "alpha", "Mid"]);
    for (const r of after) expect(r.ino).toBe(before.get(r.name)!);
    store.close();
  });

  test("replaceDirectory keeps, changes, adds and removes", async () => {
    const store = await openLocalStore({ path: tempDir(), now: () => 5_000_000 });
    const t = store.inodes;
    t.replaceDirectory(ROOT_INO, [dir("src"), file("a.txt", "a1", { size: 2, mtime: 100 }), file("b.txt"), file("gone")], { syncedAt: 1_000_000 });
    const a = t.lookupChild(ROOT_INO, "a.txt")!;
    const b = t.lookupChild(ROOT_INO, "b.txt")!;
    const gone = t.lookupChild(ROOT_INO, "gone")!;
    const src = t.lookupChild(ROOT_INO, "src")!;
    expect(a).toMatchObject({ kind: "file", mode: GitMode.BLOB, size: 2, mtime: 100 });
    expect(b.mtime).toBe(1000); // sync time in seconds when the listing has no mtime

    const res = t.replaceDirectory(
      ROOT_INO,
      [dir("src"), file("a.txt", "a2"), file("b.txt", "b.txt", { mode: GitMode.BLOB_EXECUTABLE }), file("new")],
      { syncedAt: 2_000_000 },
    );
    expect(res.added.map((r) => r.name)).toEqual(["new"]);
    expect(res.changed.map((r) => r.name).sort()).toEqual(["a.txt", "b.txt"]);
    expect(res.removed).toEqual([{ ino: gone.ino, parent: ROOT_INO, name: "gone", kind: "file" }]);

    const a2 = t.lookupChild(ROOT_INO, "a.txt")!;
    expect(a2.ino).toBe(a.ino);
    expect(a2.oid).toBe(oid("a2"));
    expect(a2.size).toBeNull(); // oid changed and no size given: unknown, not the stale 2
    expect(a2.mtime).toBe(2000); // content changed: mtime moves to the sync time
    const b2 = t.lookupChild(ROOT_INO, "b.txt")!;
    expect(b2).toMatchObject({ ino: b.ino, mode: GitMode.BLOB_EXECUTABLE });
    expect(t.lookupChild(ROOT_INO, "src")!.ino).toBe(src.ino);
    expect(t.getInode(gone.ino)).toBeNull();
    expect(t.lookupChild(ROOT_INO, "gone")).toBeNull();
    expect(res.added[0]!.ino).toBeGreaterThan(gone.ino);

    // Same oid, no size in the listing: a size learned later is kept.
    t.setSize(b.ino, 42);
    const res3 = t.replaceDirectory(ROOT_INO, [dir("src"), file("a.txt", "a2"), file("b.txt", "b.txt", { mode: GitMode.BLOB_EXECUTABLE }), file("new")]);
    expect(res3).toMatchObject({ added: [], changed: [], removed: [], moved: 0 });
    expect(t.getInode(b.ino)!.size).toBe(42);
    store.close();
  });

  test("never reuses an inode number: vanished then reappearing paths and kind changes get fresh inodes", async () => {
    const store = await openLocalStore({ path: tempDir() });
    const t = store.inodes;
    const seen = new Set<number>();
    const record = (inos: number[]) => {
      for (const i of inos) {
        expect(seen.has(i)).toBe(false);
        seen.add(i);
      }
    };
    let res = t.replaceDirectory(ROOT_INO, [dir("d"), file("x")]);
    record(res.added.map((r) => r.ino));
    const d = t.lookupChild(ROOT_INO, "d")!;
    res = t.replaceDirectory(d.ino, [file("inner"), dir("sub")]);
    record(res.added.map((r) => r.ino));
    const sub = t.lookupChild(d.ino, "sub")!;
    res = t.replaceDirectory(sub.ino, [file("deep")]);
    record(res.added.map((r) => r.ino));
    const deep = t.lookupChild(sub.ino, "deep")!;
    expect(t.pathOf(deep.ino)).toBe("/d/sub/deep");
    expect(t.resolvePath("/d/sub/deep")).toBe(deep.ino);
    expect(t.resolvePath("d//sub/deep")).toBe(deep.ino);
    expect(t.resolvePath("/d/../x")).toBeNull();

    // "d" vanishes: its whole subtree goes, and is reported so kernel caches can be invalidated.
    res = t.replaceDirectory(ROOT_INO, [file("x")]);
    expect(res.removed.map((r) => r.name).sort()).toEqual(["d", "deep", "inner", "sub"]);
    expect(res.removed[0]!.name).toBe("d");
    expect(t.getInode(deep.ino)).toBeNull();
    expect(t.getDirState(sub.ino)).toBeNull();
    expect(t.count()).toBe(2);

    // "d" comes back: a new inode, with nothing of the old subtree (the original's QUIRK §5.2.5).
    res = t.replaceDirectory(ROOT_INO, [file("x"), dir("d")]);
    record(res.added.map((r) => r.ino));
    const d2 = t.lookupChild(ROOT_INO, "d")!;
    expect(d2.ino).not.toBe(d.ino);
    expect(t.listChildren(d2.ino)).toEqual([]);
    expect(t.getDirState(d2.ino)).toBeNull();

    // "x" turns from a file into a directory: a different object, a fresh inode.
    const x = t.lookupChild(ROOT_INO, "x")!;
    res = t.replaceDirectory(ROOT_INO, [dir("x"), dir("d")]);
    expect(res.removed.map((r) => r.ino)).toEqual([x.ino]);
    expect(res.added.map((r) => r.name)).toEqual(["x"]);
    record(res.added.map((r) => r.ino));
    expect(t.lookupChild(ROOT_INO, "x")!.kind).toBe("dir");
    for (const r of t.listChildren(ROOT_INO)) expect(r.generation).toBe(0);
    store.close();
  });

  test("inode numbers and the allocation counter survive a restart", async () => {
    const path = tempDir();
    let store = await openLocalStore({ path });
    store.inodes.replaceDirectory(ROOT_INO, [dir("a"), file("f1"), file("f2")], { dirOid: oid("root"), syncedAt: 123 });
    const a = store.inodes.lookupChild(ROOT_INO, "a")!;
    store.inodes.replaceDirectory(a.ino, [file("g")]);
    const before = [...store.inodes.listChildren(ROOT_INO), ...store.inodes.listChildren(a.ino)];
    // The highest inode is removed before the restart: its number must still not come back.
    const g = store.inodes.lookupChild(a.ino, "g")!;
    store.inodes.replaceDirectory(a.ino, []);
    store.close();

    store = await openLocalStore({ path });
    for (const r of before.filter((r) => r.name !== "g")) expect(store.inodes.getInode(r.ino)).toEqual(r);
    expect(store.inodes.getDirState(ROOT_INO)).toEqual({ ino: ROOT_INO, dirOid: oid("root"), syncedAt: 123, loaded: true });
    const res = store.inodes.replaceDirectory(a.ino, [file("h")]);
    expect(res.added[0]!.ino).toBeGreaterThan(g.ino);
    store.close();
  });

  test("directory sync state", async () => {
    const store = await openLocalStore({ path: tempDir(), now: () => 777 });
    const t = store.inodes;
    t.replaceDirectory(ROOT_INO, [dir("d", "h1")]);
    const d = t.lookupChild(ROOT_INO, "d")!;
    expect(t.getDirState(d.ino)).toBeNull();
    t.replaceDirectory(d.ino, [file("f")], { dirOid: d.oid, syncedAt: 10 });
    expect(t.getDirState(d.ino)).toEqual({ ino: d.ino, dirOid: d.oid, syncedAt: 10, loaded: true });
    t.markSynced(d.ino, { syncedAt: 20 });
    expect(t.getDirState(d.ino)).toMatchObject({ dirOid: d.oid, syncedAt: 20, loaded: true });
    t.markUnloaded(d.ino);
    expect(t.getDirState(d.ino)!.loaded).toBe(false);
    expect(t.listChildren(d.ino).map((r) => r.name)).toEqual(["f"]);
    t.markSynced(d.ino);
    expect(t.getDirState(d.ino)).toMatchObject({ syncedAt: 777, loaded: false });
    expect(t.loadedDirCount()).toBe(1); // the root
    store.close();
  });

  test("bad listings are rejected as a whole", async () => {
    const store = await openLocalStore({ path: tempDir() });
    const t = store.inodes;
    t.replaceDirectory(ROOT_INO, [file("keep")]);
    const bad: DirEntryInput[][] = [
      [file("ok"), file("a/b")],
      [file("ok"), file("..")],
      [file("ok"), file("")],
      [file("ok"), file("dup"), file("dup")],
      [file("ok"), { name: "m", kind: "file", oid: oid("m"), mode: GitMode.TREE }],
      [file("ok"), { name: "o", kind: "file", oid: "xyz" as Oid }],
      [file("ok"), file("s", "s", { size: -1 })],
    ];
    for (const entries of bad) expect(() => t.replaceDirectory(ROOT_INO, entries)).toThrow(expect.objectContaining({ errno: 22 }));
    expect(t.listChildren(ROOT_INO).map((r) => r.name)).toEqual(["keep"]);
    const keep = t.lookupChild(ROOT_INO, "keep")!;
    expect(() => t.replaceDirectory(keep.ino, [])).toThrow(expect.objectContaining({ errno: 20 }));
    expect(() => t.replaceDirectory(9999 as Ino, [])).toThrow(expect.objectContaining({ errno: 2 }));
    store.close();
  });

  test("symlinks and gitlinks keep their mode and target", async () => {
    const store = await openLocalStore({ path: tempDir() });
    const t = store.inodes;
    t.replaceDirectory(ROOT_INO, [
      { name: "link", kind: "symlink", oid: oid("target/path"), target: "target/path", size: 11 },
      { name: "sub", kind: "gitlink", oid: oid("commit") },
    ]);
    expect(t.lookupChild(ROOT_INO, "link")).toMatchObject({ kind: "symlink", mode: GitMode.LINK, target: "target/path", size: 11 });
    expect(t.lookupChild(ROOT_INO, "sub")).toMatchObject({ kind: "gitlink", mode: GitMode.COMMIT, target: null });
    store.close();
  });

  test("addChild appends a local entry; the next listing decides whether it stays", async () => {
    const store = await openLocalStore({ path: tempDir() });
    const t = store.inodes;
    t.replaceDirectory(ROOT_INO, [file("a")]);
    const mnt = t.addChild(ROOT_INO, { name: "mnt", kind: "dir", oid: null });
    expect(mnt.position).toBe(1);
    expect(t.resolvePath("/mnt")).toBe(mnt.ino);
    expect(() => t.addChild(ROOT_INO, { name: "a", kind: "dir", oid: null })).toThrow(expect.objectContaining({ errno: 17 }));
    const res = t.replaceDirectory(ROOT_INO, [file("a")]);
    expect(res.removed.map((r) => r.ino)).toEqual([mnt.ino]);
    store.close();
  });

  test("a 100,000-entry directory is applied in one transaction", async () => {
    const path = tempDir();
    let store = await openLocalStore({ path });
    const n = 100_000;
    const entries: DirEntryInput[] = [];
    const someOid = oid("same content");
    for (let i = 0; i < n; i++) entries.push({ name: `f${i}`, kind: "file", oid: someOid, size: i });
    const res = store.inodes.replaceDirectory(ROOT_INO, entries);
    expect(res.added.length).toBe(n);
    expect(new Set(res.added.map((r) => r.ino)).size).toBe(n);
    expect(store.inodes.childCount(ROOT_INO)).toBe(n);
    expect(store.inodes.listChildren(ROOT_INO, { offset: 54_321, limit: 1 })[0]).toMatchObject({ name: "f54321", size: 54_321 });

    // A failing listing of the same size (one bad entry at the end) applies nothing.
    const bad = entries.map((e, i) => (i === n - 1 ? { ...e, name: "x/y" } : { ...e, name: `g${i}` }));
    expect(() => store.inodes.replaceDirectory(ROOT_INO, bad)).toThrow();
    expect(store.inodes.lookupChild(ROOT_INO, "g0")).toBeNull();

    // Half vanish, a quarter change: one call, exact bookkeeping.
    const next = entries.slice(0, n / 2).map((e, i) => (i % 2 === 0 ? { ...e, oid: oid(`v2 ${i}`), size: 1 } : e));
    const res2 = store.inodes.replaceDirectory(ROOT_INO, next);
    expect(res2.removed.length).toBe(n / 2);
    expect(res2.changed.length).toBe(n / 4);
    expect(res2.added.length).toBe(0);
    store.close();

    store = await openLocalStore({ path });
    expect(store.inodes.childCount(ROOT_INO)).toBe(n / 2);
    expect(store.inodes.lookupChild(ROOT_INO, "f2")).toMatchObject({ oid: oid("v2 2"), position: 2 });
    store.close();
  });
});
