/**
 * The read path end to end through the compiled binary: `scorpio devserver` over a real git
 * repository, `scorpio serve` mounting it, and the mount checked against git itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir, removeDir } from "../support/mount-fixture.ts";
import { eventually } from "../support/eventually.ts";
import { git, makeSampleRepo, SAMPLE, type SampleRepo } from "../support/sample-repo.ts";
import { ensureBuilt, forceUnmount, startDevServerProcess, startServe, writeServeConfig, type DevServerProc, type ServeProc, type ServeSandbox } from "../support/scorpio.ts";

let dir: string;
let repo: SampleRepo;
let dev: DevServerProc;
let sb: ServeSandbox;
let serve: ServeProc;

beforeAll(async () => {
  ensureBuilt();
  dir = makeTempDir("readpath");
  repo = makeSampleRepo(join(dir, "repo"));
  dev = await startDevServerProcess(repo.path);
  sb = writeServeConfig(join(dir, "sb"), dev.url, { dicfuse_dir_sync_ttl_secs: 1, dicfuse_reply_ttl_secs: 1 });
  serve = await startServe(sb);
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await dev?.stop();
  if (sb) forceUnmount(sb.workspace);
  removeDir(dir);
}, 120_000);

interface GitEntry {
  mode: string;
  type: string;
  oid: string;
  path: string;
}

function lsTree(): GitEntry[] {
  return git(repo.path, ["ls-tree", "-r", "-t", "-z", "HEAD"])
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const [meta, path] = line.split("\t") as [string, string];
      const [mode, type, oid] = meta.split(" ") as [string, string, string];
      return { mode, type, oid, path };
    });
}

function blob(oid: string): Buffer {
  return Buffer.from(Bun.spawnSync(["git", "cat-file", "blob", oid], { cwd: repo.path }).stdout);
}

describe("a mounted monorepo equals git", () => {
  test("every path's bytes, mode and link target", async () => {
    const ws = sb.workspace;
    const entries = lsTree();
    expect(entries.length).toBeGreaterThan(15);
    for (const e of entries) {
      const p = join(ws, e.path);
      const st = await fsp.lstat(p);
      switch (e.mode) {
        case "040000":
          expect(st.isDirectory()).toBe(true);
          break;
        case "160000":
          expect(st.isDirectory()).toBe(true);
          expect(await fsp.readdir(p)).toEqual([]);
          break;
        case "120000":
          expect(st.isSymbolicLink()).toBe(true);
          expect(await fsp.readlink(p)).toBe(blob(e.oid).toString());
          break;
        default: {
          expect(`${e.path} ${st.isFile()}`).toBe(`${e.path} true`);
          expect(`${e.path} ${(st.mode & 0o777).toString(8)}`).toBe(`${e.path} ${e.mode === "100755" ? "755" : "644"}`);
          const bytes = await fsp.readFile(p);
          expect(`${e.path} ${st.size}`).toBe(`${e.path} ${bytes.length}`);
          expect(Buffer.compare(bytes, blob(e.oid))).toBe(0);
        }
      }
    }
  });

  test("directory listings are git's, in order", async () => {
    for (const d of ["", "src", "project", ...SAMPLE.weird.map((w) => w.split("/")[0]!)]) {
      const expected = git(repo.path, ["ls-tree", "-z", "--name-only", `HEAD:${d}`]).split("\0").filter(Boolean);
      const got = await fsp.readdir(join(sb.workspace, d));
      expect(got.sort()).toEqual(expected.sort());
    }
  });

  test("symlinks resolve inside the mount and the exec file runs", async () => {
    expect(await fsp.readFile(join(sb.workspace, SAMPLE.fileLink), "utf8")).toBe("# Sample monorepo\n");
    const run = Bun.spawnSync(["sh", join(sb.workspace, SAMPLE.exec)]);
    expect(run.stdout.toString()).toBe("run\n");
    const direct = Bun.spawnSync([join(sb.workspace, SAMPLE.exec)]);
    expect(direct.exitCode).toBe(0);
  });

  test("access(2) follows the git modes: X_OK only where git has the exec bit", async () => {
    await expect(fsp.access(join(sb.workspace, "README.md"), fs.constants.X_OK)).rejects.toMatchObject({ code: "EACCES" });
    await fsp.access(join(sb.workspace, SAMPLE.exec), fs.constants.X_OK);
    await fsp.access(join(sb.workspace, "README.md"), fs.constants.R_OK);
  });

  test("writes are refused with EROFS", async () => {
    await expect(fsp.writeFile(join(sb.workspace, "README.md"), "x")).rejects.toMatchObject({ code: "EROFS" });
    await expect(fsp.mkdir(join(sb.workspace, "newdir"))).rejects.toMatchObject({ code: "EROFS" });
  });

  test("GET /health and the cache route answer", async () => {
    const health = (await (await fetch(`${serve.httpUrl()}/health`)).json()) as Record<string, unknown>;
    expect(health.status).toBe("ok");
    expect(health.mount_count).toBe(1);
    const cache = (await (await fetch(`${serve.httpUrl()}/api/v1/cache`)).json()) as Record<string, number>;
    expect(cache.blobs).toBeGreaterThan(5);
  });

  test("GET /metrics counts the reads above: downloads (remote), store and handle hits, remote bytes by endpoint, the cache size", async () => {
    const text = await (await fetch(`${serve.httpUrl()}/metrics`)).text();
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    expect(value(/^scorpio_cache_lookups_total\{origin="remote",result="miss"\} (\d+)$/m)).toBeGreaterThan(0);
    const hits = value(/^scorpio_cache_lookups_total\{origin="disk",result="hit"\} (\d+)$/m) + value(/^scorpio_cache_lookups_total\{origin="memory",result="hit"\} (\d+)$/m);
    expect(hits).toBeGreaterThan(0);
    expect(value(/^scorpio_remote_bytes_total\{endpoint="\/api\/v1\/file\/blob\/\{id\}"\} (\d+)$/m)).toBeGreaterThan(0);
    expect(value(/^scorpio_remote_requests_total\{endpoint="\/api\/v1\/file\/blob\/\{id\}",status="200"\} (\d+)$/m)).toBeGreaterThan(0);
    const cache = (await (await fetch(`${serve.httpUrl()}/api/v1/cache`)).json()) as { bytes: number; max_bytes: number };
    // Background read-ahead may still add blobs between the two requests: the size is positive, not equal.
    expect(value(/^scorpio_cache_bytes (\d+)$/m)).toBeGreaterThan(0);
    expect(cache.bytes).toBeGreaterThan(0);
    expect(value(/^scorpio_cache_max_bytes (\d+)$/m)).toBe(cache.max_bytes);
    expect(value(/^scorpio_fuse_requests_total\{engine="dicfuse",op="read",result="ok"\} (\d+)$/m)).toBeGreaterThan(0);
  });

  test("GET /api/v1/fuse reports the workspace session: request counts and the default spin window", async () => {
    for (let i = 0; i < 50; i++) fs.statSync(join(sb.workspace, "README.md"));
    const report = await fuseReport(serve);
    expect(report.sessions.length).toBe(1);
    const ws = report.sessions[0]!;
    expect(ws.mountpoint).toBe(sb.workspace);
    expect(ws.spin_micros).toBe(200);
    expect(ws.ops.lookup!.count).toBeGreaterThan(0);
    // Kernel entries are cached long (changes arrive as invalidations): the storm's first stat reaches us.
    expect(ws.ops.lookup!.count).toBeGreaterThan(0);
    expect(ws.dispatch.wakeups).toBeGreaterThan(0);
  });
});

describe("fuse_spin_micros = 0", () => {
  let sb0: ServeSandbox;
  let serve0: ServeProc | undefined;
  afterAll(async () => {
    await serve0?.stop();
    if (sb0) forceUnmount(sb0.workspace);
  }, 60_000);

  test("the daemon's mounts never busy-poll, and a stat storm is still served", async () => {
    sb0 = writeServeConfig(join(dir, "sb0"), dev.url, { dicfuse_reply_ttl_secs: 0 });
    serve0 = await startServe(sb0, { SCORPIO_FUSE_SPIN_MICROS: "0" });
    // Existing entries are cached by the kernel (changes arrive as invalidations); a missing name with
    // reply_ttl_secs = 0 (the negative-entry TTL) reaches the daemon on every stat.
    expect(fs.statSync(join(sb0.workspace, "README.md")).isFile()).toBe(true);
    for (let i = 0; i < 300; i++) expect(fs.existsSync(join(sb0.workspace, "no-such-file"))).toBe(false);
    const ws = (await fuseReport(serve0)).sessions[0]!;
    expect(ws.spin_micros).toBe(0);
    expect(ws.dispatch.spin_hits + ws.dispatch.spin_misses).toBe(0);
    expect(ws.ops.lookup!.count).toBeGreaterThanOrEqual(300);
  }, 60_000);
});

async function fuseReport(p: ServeProc): Promise<{ sessions: Array<{ mountpoint: string; spin_micros: number; dispatch: { wakeups: number; spin_hits: number; spin_misses: number }; ops: Record<string, { count: number }> }> }> {
  const r = await fetch(`${p.httpUrl()}/api/v1/fuse`);
  expect(r.status).toBe(200);
  return (await r.json()) as Awaited<ReturnType<typeof fuseReport>>;
}


describe("freshness", () => {
  test("upstream commits become visible after the TTL: new, changed and removed files", async () => {
    await fsp.readdir(sb.workspace);
    expect(fs.existsSync(join(sb.workspace, "upstream/new.txt"))).toBe(false);
    repo.commitFile("upstream/new.txt", "fresh from upstream\n");
    repo.commitFile("README.md", "# Sample monorepo, edited upstream\n");
    repo.removeFile("src/lib/util.rs");
    const text = await eventually(() => fsp.readFile(join(sb.workspace, "upstream/new.txt"), "utf8").catch(() => ""), (t) => t !== "");
    expect(text).toBe("fresh from upstream\n");
    const readme = await eventually(() => fsp.readFile(join(sb.workspace, "README.md"), "utf8"), (t) => t.includes("edited"));
    expect(readme).toBe("# Sample monorepo, edited upstream\n");
    const lib = await eventually(() => fsp.readdir(join(sb.workspace, "src/lib")), (l) => !l.includes("util.rs"));
    expect(lib).toEqual(["mod.rs"]);
  });
});

describe("background change detection", () => {
  test("with hour-long TTLs, the watcher still brings new commits in and drops stale kernel caches", async () => {
    const sbw = writeServeConfig(join(dir, "watch"), dev.url, { dicfuse_dir_sync_ttl_secs: 3600, dicfuse_reply_ttl_secs: 3600, dicfuse_watch_interval_secs: 1 });
    const sw = await startServe(sbw);
    try {
      // Warm every kernel cache: entries, attributes, the readdir listing and the page cache.
      expect(await fsp.readFile(join(sbw.workspace, "project/foo/Cargo.toml"), "utf8")).toBe('[package]\nname = "foo"\n');
      const before = await fsp.readdir(join(sbw.workspace, "project/foo"));
      expect(before.includes("watched.txt")).toBe(false);
      await expect(fsp.stat(join(sbw.workspace, "project/foo/watched.txt"))).rejects.toMatchObject({ code: "ENOENT" });
      repo.commitFile("project/foo/watched.txt", "seen by the watcher\n");
      repo.commitFile("project/foo/Cargo.toml", '[package]\nname = "foo"\nversion = "2.0.0"\n');
      const listing = await eventually(() => fsp.readdir(join(sbw.workspace, "project/foo")), (l) => l.includes("watched.txt"));
      expect(listing).toContain("watched.txt");
      expect(await fsp.readFile(join(sbw.workspace, "project/foo/watched.txt"), "utf8")).toBe("seen by the watcher\n");
      const toml = await eventually(() => fsp.readFile(join(sbw.workspace, "project/foo/Cargo.toml"), "utf8"), (t) => t.includes("2.0.0"));
      expect(toml).toBe('[package]\nname = "foo"\nversion = "2.0.0"\n');
      expect((await fsp.stat(join(sbw.workspace, "project/foo/Cargo.toml"))).size).toBe(toml.length);
    } finally {
      await sw.stop();
      forceUnmount(sbw.workspace);
    }
  });
});

describe("failures", () => {
  test("a corrupt blob from the server is rejected with EIO", async () => {
    // A proxy that flips one byte of every blob body: the daemon must verify and refuse.
    const proxy = Bun.spawn([process.execPath, join(import.meta.dir, "../support/corrupting-proxy.ts"), dev.url], { stdout: "pipe", stderr: "inherit" });
    const reader = (proxy.stdout as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    const proxyUrl = new TextDecoder().decode(value).trim();
    const sb2 = writeServeConfig(join(dir, "corrupt"), proxyUrl);
    const s2 = await startServe(sb2);
    try {
      await expect(fsp.readFile(join(sb2.workspace, "src/main.rs"))).rejects.toMatchObject({ code: "EIO" });
      // The daemon logs why (on stderr, which may arrive a moment after the EIO).
      await s2.waitFor((out) => out.includes("hashes to"), 10_000, "the corrupt-blob warning");
      expect(s2.output()).toContain("hashes to");
      // Metadata still works: the tree itself is not what was corrupted.
      expect((await fsp.readdir(join(sb2.workspace, "src"))).sort()).toContain("main.rs");
    } finally {
      await s2.stop();
      proxy.kill();
      forceUnmount(sb2.workspace);
    }
  });

  test("server killed: uncached files give EIO quickly, cached ones still read; a restart serves the cache offline", async () => {
    repo.commitFile("late/uncached.txt", "never read before the server died\n");
    // Listed (so the name resolves) but never opened (so its content is not cached).
    await eventually(() => fsp.readdir(join(sb.workspace, "late")).catch(() => [] as string[]), (l) => l.includes("uncached.txt"));
    // Read once the watcher has applied every earlier commit, so this is the current version, cached.
    const cachedText = await fsp.readFile(join(sb.workspace, "project/foo/Cargo.toml"), "utf8");
    await dev.stop("SIGKILL");
    const t0 = Date.now();
    await expect(fsp.readFile(join(sb.workspace, "late/uncached.txt"))).rejects.toMatchObject({ code: "EIO" });
    expect(Date.now() - t0).toBeLessThan(45_000); // a bound on hanging, not a performance assertion
    expect(await fsp.readFile(join(sb.workspace, "project/foo/Cargo.toml"), "utf8")).toBe(cachedText);

    expect(await serve.stop()).toBe(0);
    serve = await startServe(sb);
    expect(await fsp.readFile(join(sb.workspace, "project/foo/Cargo.toml"), "utf8")).toBe(cachedText);
    expect((await fsp.readdir(join(sb.workspace, "project"))).sort()).toEqual(["bar", "foo"]);
  });
});
