/**
 * @module bench/antares — how fast are Antares job mounts, on each engine?
 *
 *   bun bench/antares.ts [--reps N] [--files N]
 *
 * Runs `scorpio devserver` over the sample repository and, one after the other, `scorpio serve` (the
 * compiled dist/scorpio) with `antares_overlay_engine` forced to `kernel-overlayfs` and to
 * `fuse-overlay`, and measures on each:
 *   1. create latency: `POST /antares/mounts` on a warm path, until the answer (which comes once the
 *      mount is Ready: it answers and its root is listed); target < 100 ms. For `/` and a sub-path
 *      (`/project`), twice: while another job runs at the same commit (the pinned view is shared),
 *      and with no other job (the pinned view is opened for the job from trees already stored).
 *   2. a build-like workload in a job mount vs a native directory on the same disk, run side by side:
 *      untar an archive of N small files (default 2,000), write N more (mkdir + write + close), read
 *      every file back, rename N/2 of them, delete the extracted tree; reported as seconds and as
 *      the ratios kernel-overlayfs/native and FUSE overlay/native (goal for the kernel: ≤ 1.2×).
 * Prints a Markdown table and writes bench/results/antares.json. Benches are not tests: nothing here
 * asserts on time. Every daemon, mount and temp dir is removed, also on failure.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
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
const ENGINES = ["kernel-overlayfs", "fuse-overlay"] as const;
type Engine = (typeof ENGINES)[number];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

/** Every regular file under `dir`, read whole. */
function readAll(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += readAll(p);
    else if (e.isFile()) n += readFileSync(p).length;
  }
  return n;
}

/** The build-like workload in `root`; seconds. */
function workload(root: string, tarball: string): number {
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
  readAll(out);
  for (let i = 0; i < FILES; i += 2) renameSync(join(out, "obj", `pkg${i % 50}`, `f${i}.o`), join(out, "obj", `pkg${i % 50}`, `f${i}.renamed.o`));
  rmSync(join(out, "src"), { recursive: true });
  return (performance.now() - t0) / 1000;
}

interface EngineResult {
  create_ms: Record<string, { median: number; p90: number }>;
  build_s: number[];
  native_s: number[];
}

async function benchEngine(engine: Engine, dir: string, devUrl: string, tarball: string, mounts: string[]): Promise<EngineResult> {
  let serve: ServeProc | undefined;
  try {
    const sb = writeServeConfig(join(dir, `sb-${engine}`), devUrl, { antares_overlay_engine: engine });
    serve = await startServe(sb);
    const base = serve.httpUrl() + "/antares";
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(base + path, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
      const j = (await r.json()) as any;
      if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
      return j;
    };

    // Jobs are pinned at a commit: "shared view" = another job already runs at that (path, commit);
    // "new view" = none does (the pinned view, and its FUSE mount on the kernel engine, are opened for
    // this job from trees the store already holds, and closed again with it).
    const createTimes: Record<string, number[]> = { "/": [], "/project": [], "/ (new view)": [], "/project (new view)": [] };
    const timeCreates = async (path: string, key: string) => {
      for (let i = 0; i < REPS; i++) {
        const t0 = performance.now();
        const m = await call("POST", "/mounts", { job_id: `bench-${key}-${i}`, path });
        createTimes[key]!.push(performance.now() - t0);
        const st = await call("GET", `/mounts/${m.mount_id}`);
        if (st.state !== "Ready") throw new Error("create answered before Ready");
        if (st.layers.engine !== engine) throw new Error(`the job mount uses ${st.layers.engine}, not ${engine}`);
        await call("DELETE", `/mounts/${m.mount_id}?purge=true`);
      }
    };
    for (const path of ["/", "/project"]) {
      const warm = await call("POST", "/mounts", { job_id: `warm${path}`, path });
      await timeCreates(path, path);
      await call("DELETE", `/mounts/${warm.mount_id}?purge=true`);
      await timeCreates(path, `${path} (new view)`);
    }

    // Native and job runs alternate, so both see the same machine load.
    const native: number[] = [];
    const job: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const nd = join(dir, `native-${engine}-${rep}`);
      mkdirSync(nd);
      native.push(workload(nd, tarball));
      const m = await call("POST", "/mounts", { job_id: `build-${rep}`, path: "/" });
      mounts.push(m.mountpoint);
      job.push(workload(m.mountpoint, tarball));
      await call("DELETE", `/mounts/${m.mount_id}?purge=true`);
    }
    return {
      create_ms: Object.fromEntries(Object.entries(createTimes).map(([p, xs]) => [p, { median: median(xs), p90: p90(xs) }])),
      build_s: job,
      native_s: native,
    };
  } finally {
    await serve?.stop();
  }
}

async function main(): Promise<void> {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), "bench-antares-"));
  let dev: DevServerProc | undefined;
  const mounts: string[] = [];
  try {
    const repo = makeSampleRepo(join(dir, "repo"));
    dev = await startDevServerProcess(repo.path);

    // An archive of FILES small sources, as a build would unpack.
    const src = join(dir, "tar-src");
    for (let i = 0; i < FILES; i++) {
      const d = join(src, "src", `pkg${i % 50}`, `mod${i % 7}`);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, `f${i}.c`), `int f${i}(void) { return ${i}; }\n`.repeat(4));
    }
    const tarball = join(dir, "src.tar");
    spawnSync("tar", ["-cf", tarball, "-C", src, "."]);

    const per: Partial<Record<Engine, EngineResult>> = {};
    for (const engine of ENGINES) per[engine] = await benchEngine(engine, dir, dev.url, tarball, mounts);

    const engines = Object.fromEntries(
      Object.entries(per).map(([e, r]) => [e, { create_ms: r.create_ms, build_s: { native: median(r.native_s), job: median(r.build_s), ratio: median(r.build_s) / median(r.native_s) } }]),
    );
    const results = { machine: { cpus: cpus().length, model: cpus()[0]?.model }, reps: REPS, files: FILES, engines };
    mkdirSync(join(import.meta.dir, "results"), { recursive: true });
    writeFileSync(join(import.meta.dir, "results/antares.json"), JSON.stringify(results, null, 2) + "\n");
    const f = (n: number) => n.toFixed(1);
    console.log(`| engine | measurement | result | target |\n|---|---|---|---|`);
    for (const [engine, r] of Object.entries(engines)) {
      for (const [p, s] of Object.entries(r.create_ms)) console.log(`| ${engine} | create ready job mount, warm path \`${p}\` (median / p90 of ${REPS}) | ${f(s.median)} / ${f(s.p90)} ms | < 100 ms: ${s.median < 100 ? "met" : "NOT met"} |`);
      console.log(`| ${engine} | build-like workload (${FILES} files): native / job mount | ${r.build_s.native.toFixed(2)} s / ${r.build_s.job.toFixed(2)} s | |`);
      const goal = engine === "kernel-overlayfs" ? `≤ 1.2×: ${r.build_s.ratio <= 1.2 ? "met" : "NOT met"}` : "";
      console.log(`| ${engine} | ratio job mount / native | ${r.build_s.ratio.toFixed(2)}× | ${goal} |`);
    }
  } finally {
    await dev?.stop();
    for (const m of mounts) forceUnmount(m);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
