/**
 * What a walk of a directory costs in FUSE requests, through the compiled binary: listings come with
 * attributes (READDIRPLUS on every block), so `ls` + `lstat` of every entry needs no LOOKUP — on a
 * restart over a warm store, and on a first load (whose kernel entries must not be invalidated); and
 * reading a file from its start pushes the next cached files of its directory into the page cache. A
 * cold read of a big directory comes as one pack parsed on the executable's pack thread.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "../support/mount-fixture.ts";
import { eventually } from "../support/eventually.ts";
import { git, makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { ensureBuilt, startDevServerProcess, startServe, tearDown, writeServeConfig, type DevServerProc, type ServeProc } from "../support/scorpio.ts";

/** More entries than one 4 KiB READDIRPLUS block holds, so AUTO mode would fall back to READDIR + LOOKUPs. */
const FILES = 80;
/** More objects than a pack parsed inline may have (remote/pack-thread.ts): its pack goes to the worker. */
const BIG_FILES = 400;

let dir: string;
let repo: SampleRepo;
let dev: DevServerProc;

beforeAll(async () => {
  ensureBuilt();
  dir = makeTempDir("readpath-walk");
  repo = makeSampleRepo(join(dir, "repo"));
  fs.mkdirSync(join(repo.path, "many"));
  for (let i = 0; i < FILES; i++) fs.writeFileSync(join(repo.path, "many", `file-${i}.txt`), `file ${i}\n`.repeat(i + 1));
  fs.mkdirSync(join(repo.path, "big"));
  for (let i = 0; i < BIG_FILES; i++) fs.writeFileSync(join(repo.path, "big", `b-${i}.txt`), `big ${i}\n`);
  git(repo.path, ["add", "many", "big"]);
  git(repo.path, ["commit", "-q", "-m", "many files"]);
  dev = await startDevServerProcess(repo.path);
}, 120_000);

afterAll(async () => {
  await tearDown({ dev, dir });
}, 120_000);

async function opCount(p: ServeProc, op: string): Promise<number> {
  const r = await fetch(`${p.httpUrl()}/api/v1/fuse`);
  const body = (await r.json()) as { sessions: Array<{ ops: Record<string, { count: number }> }> };
  return body.sessions[0]!.ops[op]?.count ?? 0;
}
const lookups = (p: ServeProc) => opCount(p, "lookup");

/** Pages of `path` in the page cache (util-linux fincore: it maps the file, it does not read it). */
function residentPages(path: string): number {
  const r = Bun.spawnSync(["fincore", "--raw", "--noheadings", "--output", "PAGES", path]);
  if (r.exitCode !== 0) throw new Error(`fincore ${path}: ${r.stderr.toString()}`);
  return Number(r.stdout.toString().trim());
}

/** `ls` then `lstat` of every entry of many/; checks the sizes against the files written above. */
async function listAndStat(ws: string): Promise<void> {
  const names = await fsp.readdir(join(ws, "many"));
  expect(names.length).toBe(FILES);
  for (const n of names) {
    const i = Number(/file-(\d+)/.exec(n)![1]);
    expect((await fsp.lstat(join(ws, "many", n))).size).toBe(`file ${i}\n`.length * (i + 1));
  }
}

/** A daemon that read every file of many/ once, stopped and started again: the store has every blob, the kernel nothing. */
async function restartedOverWarmStore(name: string): Promise<{ sb: ReturnType<typeof writeServeConfig>; serve: ServeProc }> {
  const sb = writeServeConfig(join(dir, name), dev.url);
  const first = await startServe(sb);
  try {
    for (const n of await fsp.readdir(join(sb.workspace, "many"))) await fsp.readFile(join(sb.workspace, "many", n));
  } finally {
    await first.stop();
  }
  return { sb, serve: await startServe(sb) };
}

describe("a walk needs no LOOKUP per entry", () => {
  test("restart over a warm store: ls + lstat of 80 files asks the daemon for one lookup (the directory)", async () => {
    const { sb, serve } = await restartedOverWarmStore("warm");
    try {
      await listAndStat(sb.workspace);
      expect(await lookups(serve)).toBe(1);
    } finally {
      await tearDown({ daemon: serve, sb });
    }
  }, 120_000);

  test("first load: the entries a listing hands the kernel are not invalidated behind it", async () => {
    // Fast sizes: every entry carries attributes even before its size is known.
    const sb = writeServeConfig(join(dir, "fast"), dev.url, { dicfuse_stat_mode: "fast", load_dir_depth: 1 });
    const serve = await startServe(sb);
    try {
      const names = await fsp.readdir(join(sb.workspace, "many"));
      expect(names.length).toBe(FILES);
      for (const n of names) expect((await fsp.lstat(join(sb.workspace, "many", n))).isFile()).toBe(true);
      expect(await lookups(serve)).toBe(1);
    } finally {
      await tearDown({ daemon: serve, sb });
    }
  }, 120_000);
});

describe("reads push ahead into the kernel's page cache", () => {
  test("files read in listing order push the next cached files into the page cache: reading those sends no READ; a lone read pushes nothing", async () => {
    const { sb, serve } = await restartedOverWarmStore("push");
    try {
      const names = await fsp.readdir(join(sb.workspace, "many"));
      const path = (i: number) => join(sb.workspace, "many", names[i]!);
      const expectContent = async (i: number) => {
        const n = Number(/file-(\d+)/.exec(names[i]!)![1]);
        expect(await fsp.readFile(path(i), "utf8")).toBe(`file ${n}\n`.repeat(n + 1));
      };
      expect(residentPages(path(2))).toBe(0);
      await expectContent(40); // alone: no reader going through the directory
      await expectContent(0);
      await expectContent(1); // the second in order: the next ones are pushed
      // The push travels on its own thread (one queue, in order): once the window is in, any push the
      // lone read had made (of the file after it) would be in too.
      expect(await eventually(async () => [2, 3, 10, 20].every((i) => residentPages(path(i)) > 0), (v) => v)).toBe(true);
      expect(residentPages(path(41))).toBe(0);
      const reads = await opCount(serve, "read");
      for (let i = 2; i <= 20; i++) await expectContent(i);
      expect(await opCount(serve, "read")).toBe(reads);
    } finally {
      await tearDown({ daemon: serve, sb });
    }
  }, 120_000);
});

describe("a cold read of a big directory", () => {
  test("comes as one pack, parsed on the pack thread of the executable: every file right, no request per file", async () => {
    const sb = writeServeConfig(join(dir, "pack"), dev.url);
    const serve = await startServe(sb);
    try {
      const names = await fsp.readdir(join(sb.workspace, "big"));
      expect(names.length).toBe(BIG_FILES);
      for (const n of names) expect(await fsp.readFile(join(sb.workspace, "big", n), "utf8")).toBe(`big ${/b-(\d+)/.exec(n)![1]}\n`);
      const cache = (await (await fetch(`${serve.httpUrl()}/api/v1/cache`)).json()) as { objects: { packs: number; packBlobs: number; downloads: number } };
      expect(cache.objects.packs).toBeGreaterThanOrEqual(1);
      expect(cache.objects.packBlobs).toBeGreaterThanOrEqual(BIG_FILES);
      // Every download was a blob of a pack.
      expect(cache.objects.downloads).toBe(cache.objects.packBlobs);
    } finally {
      await tearDown({ daemon: serve, sb });
    }
  }, 120_000);
});
