/**
 * @module bench/vcs — version control from a job mount vs git on a full clone.
 *
 *   bun bench/vcs.ts [--files N] [--changed N] [--reps N]
 *
 * Builds a repository of N files (default 100,000; `d<i>/d<j>/f<k>.txt`, 100 files per directory) with
 * `git fast-import`, serves it with `scorpio devserver` (pushes need a token), runs `scorpio serve`
 * (the compiled dist/scorpio) and creates a job mount of `/`. The same `--changed` files (default 100,
 * spread over as many directories) are rewritten in the job mount and in a full `git clone`. Measured:
 *   1. `scorpio status --json --mount <job>` (the whole CLI process, daemon scan included) vs
 *      `git status --porcelain` in the clone, both warm, median of `--reps`, and the ratio; also the
 *      first (cold) status, which fetches the base trees of the touched directories from the server;
 *   2. `scorpio commit` and `scorpio push` of those files (one run each).
 * Prints a Markdown table and writes bench/results/vcs.json. Nothing here asserts on time. Every
 * daemon, mount and temp dir is removed, also on failure.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { git, makeLargeRepo } from "../test/support/sample-repo.ts";
import { ensureBuilt, forceUnmount, SCORPIO, spawnScorpio, startServe, writeServeConfig, type DevServerProc, type ServeProc } from "../test/support/scorpio.ts";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const FILES = arg("--files", 100_000);
const CHANGED = Math.min(arg("--changed", 100), FILES);
const REPS = arg("--reps", 7);
const TOKEN = "bench-token";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed(cmd: string[], cwd: string): Promise<number> {
  const t0 = performance.now();
  const p = Bun.spawn(cmd, { cwd, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${cmd.join(" ")} → ${code}\n${out}\n${err}`);
  return ms;
}

async function main(): Promise<void> {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), "bench-vcs-"));
  let dev: DevServerProc | undefined;
  let serve: ServeProc | undefined;
  let mountpoint: string | undefined;
  try {
    const t0 = performance.now();
    const repo = makeLargeRepo(join(dir, "repo.git"), { files: FILES });
    const buildS = (performance.now() - t0) / 1000;
    const d = spawnScorpio(["devserver", "--repo", repo, "--addr", "127.0.0.1:0", "--token", `bench=${TOKEN}`]);
    await d.waitFor((o) => /http:\/\/127\.0\.0\.1:\d+/.test(o), 60_000, "the dev server URL");
    dev = Object.assign(d, { url: /http:\/\/127\.0\.0\.1:\d+/.exec(d.output())![0] });
    const sb = writeServeConfig(join(dir, "sb"), dev.url, { mega_token: TOKEN });
    serve = await startServe(sb);
    const r = await fetch(`${serve.httpUrl()}/antares/mounts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ job_id: "bench-vcs", path: "/" }) });
    const m = (await r.json()) as { mount_id: string; mountpoint: string };
    if (!r.ok) throw new Error(`create: ${JSON.stringify(m)}`);
    mountpoint = m.mountpoint;
    const clone = join(dir, "clone");
    git(dir, ["clone", "-q", repo, clone]);

    // The same files, spread over directories: file i*step.
    const step = Math.max(1, Math.floor(FILES / CHANGED));
    const paths: string[] = [];
    for (let k = 0; k < CHANGED; k++) {
      const i = k * step;
      const leaf = Math.floor(i / 100);
      paths.push(`d${Math.floor(leaf / 100)}/d${leaf % 100}/f${i % 100}.txt`);
    }
    for (const root of [m.mountpoint, clone]) for (const p of paths) writeFileSync(join(root, p), `changed ${p}\n`);

    const cli = [SCORPIO, "-c", sb.configPath];
    const statusCmd = [...cli, "status", "--json", "--mount", "bench-vcs"];
    const cold = await timed(statusCmd, dir);
    await timed(["git", "status", "--porcelain"], clone); // refresh the index once
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < REPS; i++) {
      ours.push(await timed(statusCmd, dir));
      theirs.push(await timed(["git", "status", "--porcelain"], clone));
    }
    const commitMs = await timed([...cli, "commit", "-m", `bench: ${CHANGED} files`, "--mount", "bench-vcs"], dir);
    const pushMs = await timed([...cli, "push", "--mount", "bench-vcs"], dir);

    const res = {
      files: FILES,
      changed: CHANGED,
      reps: REPS,
      cpus: cpus().length,
      repo_build_s: buildS,
      status_cold_ms: cold,
      status_warm_ms: median(ours),
      git_status_ms: median(theirs),
      ratio: median(ours) / median(theirs),
      commit_ms: commitMs,
      push_ms: pushMs,
    };
    const f = (x: number) => x.toFixed(0);
    console.log(`\n| ${FILES} files, ${CHANGED} changed | ms |\n|---|---|`);
    console.log(`| scorpio status, first (fetches touched base trees) | ${f(cold)} |`);
    console.log(`| scorpio status, warm (median of ${REPS}) | ${f(res.status_warm_ms)} |`);
    console.log(`| git status --porcelain on a full clone (median of ${REPS}) | ${f(res.git_status_ms)} |`);
    console.log(`| **ratio scorpio/git** | **${res.ratio.toFixed(2)}x** |`);
    console.log(`| scorpio commit | ${f(commitMs)} |`);
    console.log(`| scorpio push | ${f(pushMs)} |`);
    mkdirSync(join(import.meta.dir, "results"), { recursive: true });
    writeFileSync(join(import.meta.dir, "results", "vcs.json"), JSON.stringify(res, null, 2) + "\n");
  } finally {
    if (serve) await serve.stop();
    if (dev) await dev.stop();
    if (mountpoint) forceUnmount(mountpoint);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
