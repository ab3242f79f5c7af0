/**
 * @module bench/pack-stall — do other clients of the daemon wait while a cold read stores a pack?
 *
 *   bun bench/pack-stall.ts [--runs N] [--latency-ms N]
 *
 * Builds a 10,000-file repository of 1,000-file projects (`d<i>/d<j>/f<k>.txt`, 10 directories each),
 * serves it with the dev server in a child process (answers delayed by --latency-ms, default 20), starts
 * `scorpio serve` (default configuration, fresh store in $TMPDIR), and reads every file of the project
 * cold while a second process calls `statfs` on the mount in a loop (every call reaches the daemon and is
 * answered from memory): how many calls were served, their p99 and maximum latency. Each run uses a fresh
 * store. Put TMPDIR on the disk you care about: inode allocation on a busy ext4 is what makes storing a
 * pack slow. Not a test: nothing here asserts on time.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { makeLargeRepo } from "../test/support/sample-repo.ts";
import { ensureBuilt, spawnScorpio, writeServeConfig, type Proc } from "../test/support/scorpio.ts";
import { isMounted } from "../test/support/mount-fixture.ts";

const argv = process.argv.slice(2);
const num = (name: string, dflt: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const RUNS = num("--runs", 3);
const LATENCY_MS = num("--latency-ms", 20);
const TMP = mkdtempSync(join(tmpdir(), "scorpio-pack-stall-"));
const children: Array<{ kill(sig?: NodeJS.Signals | number): void; exitCode: number | null }> = [];
const daemons: Proc[] = [];
const workspaces: string[] = [];

function cleanup(): void {
  for (const d of daemons) if (d.proc.exitCode === null) d.proc.kill("SIGTERM");
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  const until = Date.now() + 5_000;
  while (Date.now() < until && workspaces.some(isMounted)) Bun.sleepSync(50);
  for (const w of workspaces) if (isMounted(w)) spawnSync("umount", ["-l", w]);
  rmSync(TMP, { recursive: true, force: true });
}
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => (cleanup(), process.exit(130)));


async function devServer(repo: string): Promise<string> {
  const p = Bun.spawn([process.execPath, join(import.meta.dir, "read-path/devserver-main.ts"), repo, String(LATENCY_MS)], { stdout: "pipe", stderr: "inherit" });
  children.push(p);
  const reader = (p.stdout as ReadableStream<Uint8Array>).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return new TextDecoder().decode(value).split("\n")[0]!.trim();
}

const PROBER = `
const fs = require("fs"); const ws = process.argv[1]; const ms = Number(process.argv[2]);
const lat = []; const t0 = Date.now();
while (Date.now() - t0 < ms) { const t = performance.now(); fs.statfsSync(ws); lat.push(performance.now() - t); }
lat.sort((a, b) => a - b);
console.log(JSON.stringify({ calls: lat.length, p99: lat[Math.floor(lat.length * 0.99)], max: lat[lat.length - 1] }));
`;

async function main(): Promise<void> {
  ensureBuilt();
  const repo = join(TMP, "repo.git");
  makeLargeRepo(repo, { files: 10_000, filesPerDir: 100, dirsPerDir: 10 });
  const url = await devServer(repo);
  const project = "d5"; // 10 leaf directories of 100 files
  console.error(`# pack-stall: ${RUNS} runs, server latency ${LATENCY_MS} ms, temp ${TMP}`);
  const rows: string[] = [];
  for (let run = 0; run < RUNS; run++) {
    const sb = writeServeConfig(join(TMP, `serve-${run}`), url);
    mkdirSync(sb.workspace, { recursive: true });
    workspaces.push(sb.workspace);
    const d = spawnScorpio(["serve", "-c", sb.configPath, "--http-addr", "127.0.0.1:0"]);
    daemons.push(d);
    await d.waitFor(() => isMounted(sb.workspace), 30_000, "the mount");
    readdirSync(sb.workspace);
    const prober = Bun.spawn([process.execPath, "-e", PROBER, sb.workspace, "1500"], { stdout: "pipe", stderr: "inherit" });
    children.push(prober);
    await Bun.sleep(100);
    const walk = (dir: string): number => {
      let n = 0;
      for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? walk(join(dir, e.name)) : (readFileSync(join(dir, e.name)), 1);
      return n;
    };
    const t = performance.now();
    const files = walk(join(sb.workspace, project));
    const coldMs = performance.now() - t;
    const probe = JSON.parse((await new Response(prober.stdout).text()).trim()) as { calls: number; p99: number; max: number };
    rows.push(`| ${run + 1} | ${files} files, ${coldMs.toFixed(0)} ms | ${probe.calls} | ${probe.p99.toFixed(2)} ms | ${probe.max.toFixed(1)} ms |`);
    await d.stop("SIGTERM");
  }
  writeFileSync(1, ["| run | cold read of the project | statfs calls in 1.5 s | p99 | max |", "|---|---|---|---|---|", ...rows, ""].join("\n"));
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(cleanup);
