/**
 * The read path as users drive it: a directory far larger than one kernel readdir buffer, "fast"
 * stat mode, and the client commands (`status`, `prefetch`, `du`, `gc`) against a running daemon.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fsp from "node:fs/promises";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, removeDir } from "../support/mount-fixture.ts";
import { git, makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { SCORPIO, ensureBuilt, forceUnmount, startDevServerProcess, startServe, writeServeConfig, type DevServerProc, type ServeProc, type ServeSandbox } from "../support/scorpio.ts";

const BIG = 3000;
let dir: string;
let repo: SampleRepo;
let dev: DevServerProc;
let sb: ServeSandbox;
let serve: ServeProc;

beforeAll(async () => {
  ensureBuilt();
  dir = makeTempDir("readpath-cli");
  repo = makeSampleRepo(join(dir, "repo"));
  mkdirSync(join(repo.path, "big"));
  for (let i = 0; i < BIG; i++) writeFileSync(join(repo.path, "big", `file-${String(i).padStart(5, "0")}-${"x".repeat(i % 50)}.txt`), `${i}\n`);
  git(repo.path, ["add", "big"]);
  git(repo.path, ["commit", "-q", "-m", "a big directory"]);
  dev = await startDevServerProcess(repo.path);
  sb = writeServeConfig(join(dir, "sb"), dev.url, { dicfuse_stat_mode: "fast", load_dir_depth: 1 });
  serve = await startServe(sb);
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await dev?.stop();
  if (sb) forceUnmount(sb.workspace);
  removeDir(dir);
}, 120_000);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([SCORPIO, ...args, "-c", sb.configPath], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

describe("large directories", () => {
  test(`readdir of ${BIG} entries loses and duplicates nothing (readdirplus and plain readdir)`, async () => {
    const expected = git(repo.path, ["ls-tree", "-z", "--name-only", "HEAD:big"]).split("\0").filter(Boolean);
    expect(expected.length).toBe(BIG);
    const plus = await fsp.readdir(join(sb.workspace, "big"));
    expect(plus.length).toBe(BIG);
    expect(new Set(plus)).toEqual(new Set(expected));
    const ls = Bun.spawnSync(["ls", "-f", join(sb.workspace, "big")]);
    const names = ls.stdout.toString().split("\n").filter((l) => l && l !== "." && l !== "..");
    expect(names.length).toBe(BIG);
    expect(new Set(names).size).toBe(BIG);
    const find = Bun.spawnSync(["find", join(sb.workspace, "big"), "-type", "f"]);
    expect(find.stdout.toString().trim().split("\n").length).toBe(BIG);
  });

  test("fast stat mode still reports true sizes to stat and cat", async () => {
    const names = await fsp.readdir(join(sb.workspace, "big"));
    for (const n of names.slice(0, 50)) {
      const i = Number(n.split("-")[1]);
      const st = await fsp.stat(join(sb.workspace, "big", n));
      expect(st.size).toBe(`${i}\n`.length);
      expect(await fsp.readFile(join(sb.workspace, "big", n), "utf8")).toBe(`${i}\n`);
    }
  });
});

describe("client commands find the daemon from its config", () => {
  test("status", async () => {
    const r = await cli(["status", "--json"]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(JSON.stringify(s)).toContain(String(serve.proc.pid));
  });

  test("prefetch downloads matching files; du shows them; gc trims them", async () => {
    // The cold reads above go on as soon as their pack is parsed; its blobs may still be being stored.
    const du = async () => JSON.parse((await cli(["du", "--json"])).stdout) as { bytes: number; blobs: number };
    let before = await du();
    for (let settled = false; !settled; ) {
      await Bun.sleep(100);
      const again = await du();
      settled = again.blobs === before.blobs;
      before = again;
    }
    const r = await cli(["prefetch", "project/**", "--json"]);
    expect(r.code).toBe(0);
    const files = git(repo.path, ["ls-tree", "-r", "--name-only", "HEAD", "project"]).trim().split("\n");
    expect(r.stdout).toContain(`"total": ${files.length}`);
    const after = JSON.parse((await cli(["du", "--json"])).stdout) as { bytes: number; blobs: number };
    expect(after.blobs).toBe(before.blobs + files.length);
    const gc = await cli(["gc", "--target", "0", "--json"]);
    expect(gc.code).toBe(0);
    expect(JSON.parse(gc.stdout).bytes).toBe(0);
    const trimmed = JSON.parse((await cli(["du", "--json"])).stdout) as { bytes: number; blobs: number };
    expect(trimmed.blobs).toBe(0);
    // Evicted content comes back on the next read.
    expect(await fsp.readFile(join(sb.workspace, "project/foo/Cargo.toml"), "utf8")).toBe('[package]\nname = "foo"\n');
  });

  test("a cold read fetches the directory's next files in the background (dir_readahead)", async () => {
    await cli(["gc", "--target", "0"]);
    const names = (await fsp.readdir(join(sb.workspace, "big"))).sort();
    const i = 1000;
    expect(await fsp.readFile(join(sb.workspace, "big", names[i]!), "utf8")).toBe(`${i}\n`);
    let blobs = 0;
    for (let tries = 0; tries < 100 && blobs < 17; tries++) {
      blobs = (JSON.parse((await cli(["du", "--json"])).stdout) as { blobs: number }).blobs;
      if (blobs < 17) await Bun.sleep(100);
    }
    // The file itself plus the default 16 that follow it.
    expect(blobs).toBe(17);
  });

  test("prefetch with a bad request body is a clear error", async () => {
    const res = await fetch(`${serve.httpUrl()}/api/v1/prefetch`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"globs": 3}' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});
