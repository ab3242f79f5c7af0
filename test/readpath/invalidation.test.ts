/**
 * The read path's freshness and failure contracts through the compiled daemon, behind a recording
 * proxy: a restarted daemon serves its warm tree with no listing request; a hung server never blocks
 * cached data, uncached requests fail within one deadline, missing names stay ENOENT; upstream commits
 * arrive through the watcher with the kernel's caches invalidated.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fsp from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir, removeDir } from "../support/mount-fixture.ts";
import { eventually } from "../support/eventually.ts";
import { makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { ensureBuilt, forceUnmount, startDevServerProcess, startServe, writeServeConfig, type DevServerProc, type ServeProc, type ServeSandbox } from "../support/scorpio.ts";
import { LISTING_PATHS, startRecordingProxy, type RecordingProxy } from "../support/recording-proxy.ts";

let dir: string;
let repo: SampleRepo;
let dev: DevServerProc;
let proxy: RecordingProxy;
const serves: Array<{ p: ServeProc; sb: ServeSandbox }> = [];

beforeAll(async () => {
  ensureBuilt();
  dir = makeTempDir("invalidation");
  repo = makeSampleRepo(join(dir, "repo"));
  dev = await startDevServerProcess(repo.path);
  proxy = startRecordingProxy(dev.url);
}, 120_000);

afterAll(async () => {
  proxy.hang = false;
  for (const { p, sb } of serves) {
    await p.stop().catch(() => {});
    forceUnmount(sb.workspace);
  }
  proxy?.stop();
  await dev?.stop();
  removeDir(dir);
}, 120_000);

async function serve(sb: ServeSandbox): Promise<ServeProc> {
  const p = await startServe(sb);
  serves.push({ p, sb });
  return p;
}

/** find + lstat of every entry, as a build tool's first walk does. */
async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (d: string, rel: string): Promise<void> => {
    for (const e of await fsp.readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      const st = await fsp.lstat(p);
      out.push(`${r}:${st.isDirectory() ? "d" : st.size}`);
      if (st.isDirectory()) await visit(p, r);
    }
  };
  await visit(root, "");
  return out.sort();
}


describe("persistence across restarts", () => {
  test("a restarted daemon walks its warm tree with zero listing requests", async () => {
    const sb = writeServeConfig(join(dir, "restart"), proxy.url);
    let s = await serve(sb);
    const first = await walk(sb.workspace);
    expect(first.length).toBeGreaterThan(20);
    expect(proxy.count(...LISTING_PATHS)).toBeGreaterThan(0);
    // The watcher's first round records the commit the tree is at (what a restart compares with).
    const commitOf = async (p: ServeProc) => ((await (await fetch(`${p.httpUrl()}/api/v1/cache`)).json()) as { commit: string | null }).commit;
    expect(await eventually(() => commitOf(s), (c) => c !== null, 30_000)).toBe(repo.revParse("HEAD"));
    expect(await s.stop()).toBe(0);
    proxy.reset();
    s = await serve(sb);
    expect(await walk(sb.workspace)).toEqual(first);
    expect(proxy.seen.filter((p) => LISTING_PATHS.some((x) => p.startsWith(x)))).toEqual([]);
    // Sizes were persisted by blob id too: no HEAD either.
    expect(proxy.count("/api/v1/file/blob")).toBe(0);
    await s.stop();
  }, 120_000);
});

describe("a hung server", () => {
  test("cached files deep in the tree read at once; uncached ones fail with EIO within one deadline; missing names are ENOENT", async () => {
    const sb = writeServeConfig(join(dir, "hung"), proxy.url, { dicfuse_fetch_dir_timeout_secs: 2, dicfuse_dir_readahead: 0, dicfuse_dir_sync_ttl_secs: 1 });
    const s = await serve(sb);
    const deep = join(sb.workspace, "project/bar/deep/a/b/c/leaf.txt");
    expect(await fsp.readFile(deep, "utf8")).toBe("leaf\n");
    // Listed (so the name resolves) but never read.
    expect((await fsp.readdir(join(sb.workspace, "src/lib"))).sort()).toEqual(["mod.rs", "util.rs"]);
    proxy.hang = true;
    try {
      // Give the watcher (1 s) time to be stuck in a request of its own: it must not matter.
      await Bun.sleep(1500);
      expect(await fsp.readFile(deep, "utf8")).toBe("leaf\n");
      expect((await fsp.stat(deep)).size).toBe(5);
      expect((await fsp.readdir(join(sb.workspace, "project/bar/deep/a/b/c")))).toEqual(["leaf.txt"]);
      await expect(fsp.stat(join(sb.workspace, "project/no-such-name"))).rejects.toMatchObject({ code: "ENOENT" });
      await expect(fsp.readFile(join(sb.workspace, "src/lib/util.rs"))).rejects.toMatchObject({ code: "EIO" });
      // A directory never listed: its one listing request fails, not one per ancestor.
      await expect(fsp.readFile(join(sb.workspace, "project/foo/src/lib.rs"))).rejects.toMatchObject({ code: "EIO" });
    } finally {
      proxy.hang = false;
    }
    // The server is back: what failed now works.
    expect(await eventually(() => fsp.readFile(join(sb.workspace, "src/lib/util.rs"), "utf8").catch(() => ""), (t) => t !== "")).toContain("pub fn add");
    await s.stop();
  }, 120_000);
});

describe("the cache bound", () => {
  test("holds while reading ten times cache_max_bytes, through the mount, with correct bytes", async () => {
    const size = 16 * 1024;
    const body = (i: number) => `file ${i} `.padEnd(size, String.fromCharCode(97 + (i % 26)));
    for (let i = 0; i < 40; i++) repo.commitFile(`bounded/f${String(i).padStart(2, "0")}.txt`, body(i));
    const bound = 64 * 1024; // 40 x 16 KiB = 10x the bound
    const sb = writeServeConfig(join(dir, "bound"), proxy.url, { cache_max_bytes: bound });
    const s = await serve(sb);
    const cacheBytes = async () => ((await (await fetch(`${s.httpUrl()}/api/v1/cache`)).json()) as { bytes: number }).bytes;
    let peak = 0;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 40; i++) {
        expect(await fsp.readFile(join(sb.workspace, `bounded/f${String(i).padStart(2, "0")}.txt`), "utf8")).toBe(body(i));
        peak = Math.max(peak, await cacheBytes());
      }
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(bound);
    await s.stop();
  }, 120_000);
});

describe("freshness by invalidation", () => {
  test("an upstream commit shows within the watcher interval, with no stale name, size or content in the kernel", async () => {
    // Default TTL keys: the kernel caches entries for a day; only invalidations can make this pass.
    const sb = writeServeConfig(join(dir, "fresh"), proxy.url, { dicfuse_dir_sync_ttl_secs: 1 });
    const s = await serve(sb);
    const cargo = join(sb.workspace, "project/foo/Cargo.toml");
    const before = await fsp.readFile(cargo, "utf8");
    const listing = await fsp.readdir(join(sb.workspace, "project/foo"));
    await expect(fsp.stat(join(sb.workspace, "project/foo/fresh.txt"))).rejects.toMatchObject({ code: "ENOENT" });
    expect((await fsp.stat(cargo)).size).toBe(before.length);
    const next = before + 'version = "3.0.0"\n';
    repo.commitFile("project/foo/Cargo.toml", next);
    repo.commitFile("project/foo/fresh.txt", "fresh\n");
    repo.removeFile("src/lib/util.rs");
    const seen = await eventually(() => fsp.readdir(join(sb.workspace, "project/foo")), (l) => l.includes("fresh.txt"));
    expect(seen.sort()).toEqual([...listing, "fresh.txt"].sort());
    expect(await fsp.readFile(join(sb.workspace, "project/foo/fresh.txt"), "utf8")).toBe("fresh\n");
    expect(await eventually(() => fsp.readFile(cargo, "utf8"), (t) => t === next)).toBe(next);
    expect((await fsp.stat(cargo)).size).toBe(next.length);
    expect(await eventually(() => fsp.readdir(join(sb.workspace, "src/lib")), (l) => !l.includes("util.rs"))).toEqual(["mod.rs"]);
    await expect(fsp.stat(join(sb.workspace, "src/lib/util.rs"))).rejects.toMatchObject({ code: "ENOENT" });
    await s.stop();
  }, 120_000);
});
