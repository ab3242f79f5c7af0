/**
 * `scorpio status` never reads unchanged lower files: the dev server runs in this process (its request
 * counters are the proof), the daemon in a child. This process touches the mount only with async fs
 * calls, so the dev server keeps answering the daemon while a call is in the kernel.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmod, symlink, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDevServer, type DevServer } from "../../src/devserver/index.ts";
import { makeTempDir, removeDir } from "../support/mount-fixture.ts";
import { makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { cleanupServeMounts, ensureBuilt, SCORPIO, startServe, writeServeConfig, type ServeProc, type ServeSandbox } from "../support/scorpio.ts";

let dir: string;
let repo: SampleRepo;
let dev: DevServer;
let sb: ServeSandbox;
let serve: ServeProc;

beforeAll(async () => {
  ensureBuilt();
  dir = makeTempDir("vcs-reads");
  repo = makeSampleRepo(join(dir, "repo"));
  dev = await startDevServer({ repo: repo.path });
  sb = writeServeConfig(join(dir, "sb"), dev.url);
  serve = await startServe(sb);
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await dev?.stop();
  if (sb) cleanupServeMounts(sb);
  removeDir(dir);
}, 120_000);

test("status reads tree objects only, plus the deleted file that is a rename candidate", async () => {
  const r = await fetch(`${serve.httpUrl()}/antares/mounts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ job_id: "reads", path: "/" }) });
  const m = (await r.json()) as { mountpoint: string };
  await writeFile(join(m.mountpoint, "README.md"), "changed\n");
  await writeFile(join(m.mountpoint, "src/new.rs"), "// new\n");
  await unlink(join(m.mountpoint, "src/main.rs"));
  await chmod(join(m.mountpoint, "bin/run.sh"), 0o644);
  await symlink("README.md", join(m.mountpoint, "another-link"));
  // The copy-ups above were cold reads, which start background read-ahead and directory packs in the
  // daemon; let those finish so that what is counted next is status's own requests.
  await quiet(dev);
  dev.stats.reset();
  const p = Bun.spawn([SCORPIO, "status", "--mount", "reads", "-c", sb.configPath], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [out, , code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  expect(code).toBe(0);
  expect(out.trim().split("\n").slice(1)).toEqual(["M  README.md", "A  another-link", "M  bin/run.sh", "D  src/main.rs", "A  src/new.rs"]);
  const mainOid = repo.revParse("main:src/main.rs");
  expect(dev.stats.total("/api/v1/file/blob/")).toBe(dev.stats.get("GET", `/api/v1/file/blob/${mainOid}`));
  expect(dev.stats.total("/api/v1/file/blob/")).toBeLessThanOrEqual(1);
  // Base listings came as tree objects (the daemon's views may list trees too, so no exact count).
  expect(dev.stats.get("GET", "/api/v1/file/tree")).toBeGreaterThan(0);
  // A second status reads nothing from the server for the base: its trees are cached with the mount.
  dev.stats.reset();
  const again = Bun.spawn([SCORPIO, "status", "--mount", "reads", "-c", sb.configPath], { stdout: "pipe", stderr: "ignore", stdin: "ignore" });
  expect(await again.exited).toBe(0);
  expect(dev.stats.total("/api/v1/file/blob/")).toBe(0);
}, 120_000);

/** Waits until the dev server has seen no request for a while (at most 20 s). */
async function quiet(server: { stats: { reset(): void; total(prefix: string): number } }): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    server.stats.reset();
    await Bun.sleep(500);
    if (server.stats.total("/") === 0 || Date.now() > until) return;
  }
}
