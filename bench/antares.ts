/**
 * @module bench/antares — how fast are Antares job mounts?
 *
 *   bun bench/antares.ts [--reps N] [--files N]
 *
 * Runs `scorpio devserver` over the sample repository and `scorpio serve` (the compiled dist/scorpio),
 * then measures:
 *   1. create latency: `POST /antares/mounts` for a path whose Dicfuse view is already warm, until the
 *      answer (which comes once the mount is Ready: it answers and its root is listed); target < 100 ms.
 *      Also a sub-path (`/project`) after its first mount has warmed its per-path view.
 *   2. a build-like workload in a job mount vs a native directory on the same disk: untar an archive
 *      of N small files (default 2,000) and then write N more small files (mkdir + write + close),
 *      reported as seconds and the ratio job/native.
 * Prints a Markdown table and writes bench/results/antares.json. Benches are not tests: nothing here
 * asserts on time. Every daemon, mount and temp dir is removed, also on failure.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { makeSampleRepo } from "../test/support/sample-repo.ts";
import { ensureBuilt, forceUnmount, startDevServerProcess, startServe, writeServeConfig, type DevServerProc, type ServeProc } from "../test/support/scorpio.ts";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const REPS = arg("--reps", 30);
const FILES = arg("--files", 2000);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

async function main(): Promise<void> {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), "bench-antares-"));
  let dev: DevServerProc | undefined;
  let serve: ServeProc | undefined;
  const mounts: string[] = [];
  try {
    const repo = makeSampleRepo(join(dir, "repo"));
    dev = await startDevServerProcess(repo.path);
    const sb = writeServeConfig(join(dir, "sb"), dev.url);
    serve = await startServe(sb);
    const base = serve.httpUrl() + "/antares";
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(base + path, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
      const j = (await r.json()) as any;
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
      return j;
    };

    const createTimes: Record<string, number[]> = { "/": [], "/project": [] };
    for (const path of Object.keys(createTimes)) {
      const warm = await call("POST", "/mounts", { job_id: `warm${path}`, path });
      await call("DELETE", `/mounts/${warm.mount_id}?purge=true`);
      for (let i = 0; i < REPS; i++) {
        const t0 = performance.now();
        const m = await call("POST", "/mounts", { job_id: `bench-${path}-${i}`, path });
        createTimes[path]!.push(performance.now() - t0);
        const ready = await call("GET", `/mounts/${m.mount_id}/ready`);
        if (!ready.ready) throw new Error("create answered before Ready");
        await call("DELETE", `/mounts/${m.mount_id}?purge=true`);
      }
    }

    // Build-like workload: an archive of FILES small files, extracted, then FILES more written.
    const src = join(dir, "tar-src");
    for (let i = 0; i < FILES; i++) {
      const d = join(src, `pkg${i % 50}`, `mod${i % 7}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, `f${i}.c`), `int f${i}(void) { return ${i}; }\n`.repeat(4));
    }
    const tarball = join(dir, "src.tar");
    spawnSync("tar", ["-cf", tarball, "-C", src, "."]);
    const workload = (root: string): number => {
      const t0 = performance.now();
      const out = join(root, "build");
      mkdirSync(out, { recursive: true });
      const r = spawnSync("tar", ["-xf", tarball, "-C", out]);
      if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
      for (let i = 0; i < FILES; i++) {
        const d = join(out, "obj", `pkg${i % 50}`);
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, `f${i}.o`), `object ${i}\n`);
      }
      return (performance.now() - t0) / 1000;
    };
    const native: number[] = [];
    const job: number[] = [];
    const dispatch: Array<Record<string, number>> = [];
    let opCounts: Record<string, number> = {};
    for (let rep = 0; rep < 3; rep++) {
      const nd = join(dir, `native-${rep}`);
      mkdirSync(nd);
      native.push(workload(nd));
      const m = await call("POST", "/mounts", { job_id: `build-${rep}`, path: "/" });
      mounts.push(m.mountpoint);
      job.push(workload(m.mountpoint));
      // How the job mount's daemon picked the requests up (GET /api/v1/fuse): for tuning fuse_spin_micros.
      const fuse = (await (await fetch(`${serve.httpUrl()}/api/v1/fuse`)).json()) as { sessions: Array<{ mountpoint: string; dispatch: Record<string, number>; ops: Record<string, { count: number }> }> };
      const session = fuse.sessions.find((x) => x.mountpoint === m.mountpoint);
      if (session) {
        dispatch.push({ ...session.dispatch, requests: Object.values(session.ops).reduce((a, o) => a + o.count, 0) });
        if (rep === 0) opCounts = Object.fromEntries(Object.entries(session.ops).map(([k, o]) => [k, o.count]));
      }
      await call("DELETE", `/mounts/${m.mount_id}?purge=true`);
    }

    const results = {
      machine: { cpus: cpus().length, model: cpus()[0]?.model },
      reps: REPS,
      files: FILES,
      create_ms: Object.fromEntries(Object.entries(createTimes).map(([p, xs]) => [p, { median: median(xs), p90: p90(xs) }])),
      build_s: { native: median(native), job: median(job), ratio: median(job) / median(native) },
      job_dispatch: dispatch,
      job_ops: opCounts,
    };
    mkdirSync(join(import.meta.dir, "results"), { recursive: true });
    writeFileSync(join(import.meta.dir, "results/antares.json"), JSON.stringify(results, null, 2) + "\n");
    const f = (n: number) => n.toFixed(1);
    console.log(`| measurement | result | target |\n|---|---|---|`);
    for (const [p, s] of Object.entries(results.create_ms)) console.log(`| create ready job mount, warm path \`${p}\` (median / p90 of ${REPS}) | ${f(s.median)} / ${f(s.p90)} ms | < 100 ms: ${s.median < 100 ? "met" : "NOT met"} |`);
    console.log(`| untar ${FILES} files + write ${FILES} files, native dir | ${results.build_s.native.toFixed(2)} s | |`);
    console.log(`| same in a job mount | ${results.build_s.job.toFixed(2)} s | |`);
    console.log(`| ratio job / native | ${results.build_s.ratio.toFixed(2)}× | |`);
    for (const d of dispatch) console.log(`job mount dispatch: ${JSON.stringify(d)}`);
    console.log(`job mount requests by op (first rep): ${JSON.stringify(opCounts)}`);
  } finally {
    await serve?.stop();
    await dev?.stop();
    for (const m of mounts) forceUnmount(m);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
