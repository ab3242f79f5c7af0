/**
 * Pure pieces of src/remote: raw tree parsing, oids, URL encoding, CL path mapping, semaphore, single-flight.
 */
import { describe, expect, test } from "bun:test";
import {
  clEntryRepoPath,
  encodeQueryValue,
  gitBlobOid,
  gitTreeOid,
  normalizeRepoPath,
  parseGitTree,
  parseOid,
  raceSignal,
  Semaphore,
  SingleFlight,
  EMPTY_BLOB_OID,
  EMPTY_TREE_OID,
} from "../../src/remote/index.ts";
import { FsError } from "../../src/util/errno.ts";

const enc = (s: string) => new TextEncoder().encode(s);
function entry(mode: string, name: string, hexOid: string): Uint8Array {
  return new Uint8Array([...enc(`${mode} ${name}\0`), ...Buffer.from(hexOid, "hex")]);
}

describe("oids", () => {
  test("git hashes", () => {
    expect(gitBlobOid(new Uint8Array(0))).toBe(EMPTY_BLOB_OID);
    expect(gitTreeOid(new Uint8Array(0))).toBe(EMPTY_TREE_OID);
    expect(gitBlobOid(enc("hello\n")) as string).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
  });
  test("parseOid", () => {
    expect(parseOid("SHA1:" + "A".repeat(40)) as string).toBe("a".repeat(40));
    expect(() => parseOid("abc")).toThrow(FsError);
    expect(() => parseOid("g".repeat(40))).toThrow(FsError);
  });
});

describe("parseGitTree", () => {
  test("modes and kinds", () => {
    const oid = "0123456789abcdef0123456789abcdef01234567";
    const body = new Uint8Array([
      ...entry("40000", "dir", oid),
      ...entry("100644", "a b", oid),
      ...entry("100755", "x", oid),
      ...entry("120000", "l", oid),
      ...entry("160000", "sub", oid),
      ...entry("100664", "old", oid),
    ]);
    expect(parseGitTree(body).map((e) => [e.name, e.mode, e.kind, e.oid])).toEqual([
      ["dir", 0o40000, "tree", oid],
      ["a b", 0o100644, "blob", oid],
      ["x", 0o100755, "blob", oid],
      ["l", 0o120000, "blob", oid],
      ["sub", 0o160000, "commit", oid],
      ["old", 0o100664, "blob", oid],
    ]);
    expect(parseGitTree(new Uint8Array(0))).toEqual([]);
  });
  test("malformed input is EIO, not a crash", () => {
    const oid = "00".repeat(20);
    for (const bad of [enc("100644 x"), entry("100644", "x", oid).subarray(0, 15), entry("777777", "x", oid), entry("10x644", "x", oid), enc("hello world")]) {
      expect(() => parseGitTree(bad)).toThrow(FsError);
    }
  });
});

describe("urls and paths", () => {
  test("normalizeRepoPath", () => {
    expect(normalizeRepoPath("")).toBe("/");
    expect(normalizeRepoPath("//a//b/")).toBe("/a/b");
    expect(() => normalizeRepoPath("/a/../b")).toThrow(FsError);
  });
  test("encodeQueryValue escapes everything that could change the query's meaning", () => {
    expect(encodeQueryValue("/a+b/c#d/e&f=g/h%i/j k/ü")).toBe("/a%2Bb/c%23d/e%26f%3Dg/h%25i/j%20k/%C3%BC");
  });
  test("clEntryRepoPath", () => {
    expect(clEntryRepoPath("src/a.rs", "/project/foo")).toBe("/project/foo/src/a.rs");
    expect(clEntryRepoPath("/project/foo/src/a.rs", "/project/foo")).toBe("/project/foo/src/a.rs");
    expect(clEntryRepoPath("project/foo/src/a.rs", "/project/foo")).toBe("/project/foo/src/a.rs");
    expect(clEntryRepoPath("a.rs", "/")).toBe("/a.rs");
    expect(clEntryRepoPath("../etc/passwd", "/p")).toBeNull();
    expect(clEntryRepoPath("", "/p")).toBeNull();
  });
});

describe("Semaphore", () => {
  test("bounds concurrency and is FIFO", async () => {
    const s = new Semaphore(2);
    const ra = await s.acquire();
    const rb = await s.acquire();
    expect(s.free).toBe(0);
    const granted: string[] = [];
    const c = s.acquire().then((r) => (granted.push("c"), r));
    const d = s.acquire().then((r) => (granted.push("d"), r));
    expect(s.waiting).toBe(2);
    await Promise.resolve();
    expect(granted).toEqual([]);
    ra();
    const rc = await c;
    expect(granted).toEqual(["c"]);
    rb();
    const rd = await d;
    expect(granted).toEqual(["c", "d"]);
    rc();
    rd();
    expect(s.free).toBe(2);
  });
  test("an aborted waiter leaves the queue; double release is harmless", async () => {
    const s = new Semaphore(1);
    const release = await s.acquire();
    const ac = new AbortController();
    const waiting = s.acquire(ac.signal);
    expect(s.waiting).toBe(1);
    ac.abort(new Error("gone"));
    await expect(waiting).rejects.toThrow("gone");
    expect(s.waiting).toBe(0);
    release();
    release();
    expect(s.free).toBe(1);
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});

describe("SingleFlight", () => {
  test("shares one execution per key until it settles, errors included", async () => {
    const sf = new SingleFlight<string, number>();
    let runs = 0;
    let resolve!: (n: number) => void;
    const fn = () => (runs++, new Promise<number>((r) => (resolve = r)));
    const a = sf.do("k", fn);
    const b = sf.do("k", fn);
    expect(sf.size).toBe(1);
    resolve(7);
    expect(await Promise.all([a, b])).toEqual([7, 7]);
    expect(runs).toBe(1);
    expect(sf.size).toBe(0);
    const e1 = sf.do("e", () => Promise.reject(new Error("boom")));
    const e2 = sf.do("e", () => Promise.resolve(1));
    await expect(e1).rejects.toThrow("boom");
    await expect(e2).rejects.toThrow("boom");
    expect(await sf.do("e", () => Promise.resolve(2))).toBe(2);
  });
  test("raceSignal lets one waiter leave", async () => {
    const ac = new AbortController();
    const never = new Promise<number>(() => {});
    const p = raceSignal(never, ac.signal);
    ac.abort(new Error("left"));
    await expect(p).rejects.toThrow("left");
  });
});
