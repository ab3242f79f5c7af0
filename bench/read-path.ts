/**
 * @module bench/read-path — how fast is the read path of a `scorpio serve` workspace over a large
 * generated monorepo, compared with git on the same machine and the same dev server?
 *
 *   bun bench/read-path.ts [--files N] [--quick] [--reps N] [--clone-reps N] [--latency-ms N] [--configs default,tuned]
 *
 * Default 100,000 files (--quick: 10,000); every answer of the dev server is delayed by --latency-ms
 * (default 20: a real Mega is rarely closer). One run:
 *   - builds a bare repo with `makeLargeRepo` (`d<i>/d<j>/f<k>.txt`, 100 files per leaf directory,
 *     sized so each top-level directory is ~1% of the repo) plus one 9-level deep directory
 *     (`deep/l1/.../l8`), and enables partial clone on it (uploadpack.allowFilter/allowAnySHA1InWant);
 *   - runs the dev server in a child process (bench/read-path/devserver-main.ts) whose per-path request
 *     counters the bench snapshots, so every Scorpio phase reports what the daemon asked the server;
 *   - baselines from that same server: `git clone` (full, its checkout is the native tree),
 *     `git clone --filter=blob:none --sparse` + `git sparse-checkout set <project>`, and Mega's
 *     sub-path clone `<url>/<project>.git`;
 *   - for each configuration — `default` (the stock configuration: no tuning key set), `tuned` (what
 *     earlier runs used: `load_dir_depth` = 1, reply and dir-sync TTLs 3600 s, accurate sizes) and
 *     `tuned-fast` (the same with fast sizes) — and each rep with a fresh store and daemon: time from
 *     spawning `scorpio serve` to the first successful listing of the root and of the deep directory;
 *     cold read of every file of one project (top-level directory), then Mega's sub-path clone of the
 *     same project at once (the mount + read target compares with that one); warm re-reads. In the last rep: a
 *     warm-up walk of the whole tree, then `find -type f` and `lstat` of every file, against the same on
 *     the native checkout (passes interleaved, so both see the same machine load); then a second daemon
 *     on the same store, whose first walk is counted.
 * Prints a table with medians, ratios and whether each target is met, and writes JSON and Markdown to
 * bench/results/. Every daemon, mount and temp dir is removed, also on Ctrl-C or failure.
 * Benches are not tests: nothing here asserts on time.
 */
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, mkdirSync, writeFileSync, type Dirent } from "node:fs";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { git, gitAsync, makeLargeRepo } from "../test/support/sample-repo.ts";
import { ensureBuilt, spawnScorpio, writeServeConfig, type Proc } from "../test/support/scorpio.ts";
import { isMounted } from "../test/support/mount-fixture.ts";

// ---- options -------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const QUICK = argv.includes("--quick");
const FILES = Number(opt("--files") ?? (QUICK ? 10_000 : 100_000));
const REPS = Number(opt("--reps") ?? 3);
const CLONE_REPS = Number(opt("--clone-reps") ?? (QUICK ? 3 : 2));
const WALK_REPS = 3;
const LATENCY_MS = Number(opt("--latency-ms") ?? 20);
const CONFIGS = (opt("--configs") ?? "default,tuned").split(",").map((s) => s.trim());
const TTL = 3600;
/** The configuration keys of each named configuration (paths come from the sandbox). */
const CONFIG_KEYS: Record<string, Record<string, string | number>> = {
  default: {},
  tuned: { load_dir_depth: 1, dicfuse_reply_ttl_secs: TTL, dicfuse_dir_sync_ttl_secs: TTL, dicfuse_stat_mode: "accurate" },
  "tuned-fast": { load_dir_depth: 1, dicfuse_reply_ttl_secs: TTL, dicfuse_dir_sync_ttl_secs: TTL, dicfuse_stat_mode: "fast" },
};
for (const c of CONFIGS) if (!CONFIG_KEYS[c]) throw new Error(`unknown configuration ${c}; known: ${Object.keys(CONFIG_KEYS).join(", ")}`);
const ROOT = resolve(import.meta.dir, "..");
const RESULTS = join(ROOT, "bench/results");
const DEEP = "deep/l1/l2/l3/l4/l5/l6/l7/l8";
const DEEP_FILES = 10;

// ---- cleanup: every child, mount and temp dir is registered before it exists -----------------------

const TMP = mkdtempSync(join(tmpdir(), "scorpio-readpath-"));
const daemons = new Set<Proc>();
const workspaces = new Set<string>();
let devServer: ReturnType<typeof Bun.spawn> | null = null;
let cleaned = false;

/** Synchronous, so it also runs from a signal handler: TERM children, lazy-unmount leftovers, remove temp. */
function cleanupSync(): void {
  if (cleaned) return;
  cleaned = true;
  for (const d of daemons) if (d.proc.exitCode === null) d.proc.kill("SIGTERM");
  if (devServer && devServer.exitCode === null) devServer.kill("SIGTERM");
  const until = Date.now() + 5_000;
  while (Date.now() < until && [...workspaces].some(isMounted)) Bun.sleepSync(50);
  for (const d of daemons) if (d.proc.exitCode === null) d.proc.kill("SIGKILL");
  for (const w of workspaces) if (isMounted(w)) spawnSync("umount", ["-l", w]);
  rmSync(TMP, { recursive: true, force: true });
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: cleaning up\n`);
    cleanupSync();
    process.exit(130);
  });
}

// ---- small helpers -------------------------------------------------------------------------------

const now = () => performance.now();
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number): string => (Number.isNaN(x) ? "—" : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : x >= 10 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);
const ratio = (x: number): string => (Number.isFinite(x) ? `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}x` : "—");
const log = (s: string) => process.stderr.write(s + "\n");

/** Every file (relative path) under `dir`, and the bytes read when `read` is set. Synchronous, sequential. */
function walk(dir: string, read: boolean): { files: string[]; bytes: number } {
  const files: string[] = [];
  let bytes = 0;
  const rec = (abs: string, rel: string) => {
    for (const e of readdirSync(abs, { withFileTypes: true }) as Dirent[]) {
      const a = join(abs, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) rec(a, r);
      else {
        files.push(r);
        if (read) bytes += readFileSync(a).length;
      }
    }
  };
  rec(dir, "");
  return { files, bytes };
}

/** `find <dir> -type f` in a child process; returns the elapsed ms and the number of files. */
function timeFind(dir: string): { ms: number; count: number } {
  const t = now();
  const r = spawnSync("find", [dir, "-type", "f"], { maxBuffer: 1 << 30, encoding: "utf8" });
  const el = now() - t;
  if (r.status !== 0) throw new Error(`find failed: ${r.stderr}`);
  return { ms: el, count: r.stdout.split("\n").filter(Boolean).length };
}

/** lstat of every path; returns the elapsed ms and how many files report size 0. */
function timeStat(root: string, files: string[]): { ms: number; zero: number } {
  const paths = files.map((f) => join(root, f));
  let zero = 0;
  const t = now();
  for (const p of paths) if (lstatSync(p).size === 0) zero++;
  return { ms: now() - t, zero };
}

function countFiles(dir: string): number {
  return walk(dir, false).files.filter((f) => !f.startsWith(".git/") && f !== ".git").length;
}

// ---- the dev server child and its request counters -----------------------------------------------

type Counts = Record<string, number>;
let devOut = "";
const statWaiters: Array<(c: Counts) => void> = [];

async function startDev(repo: string): Promise<string> {
  const p = Bun.spawn([process.execPath, join(import.meta.dir, "read-path/devserver-main.ts"), repo, String(LATENCY_MS)], { stdout: "pipe", stderr: "inherit", stdin: "ignore" });
  devServer = p;
  void (async () => {
    const dec = new TextDecoder();
    let pending = "";
    for await (const chunk of p.stdout as ReadableStream<Uint8Array>) {
      pending += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = pending.indexOf("\n")) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.startsWith("STATS ")) statWaiters.shift()?.(JSON.parse(line.slice(6)));
        else devOut += line + "\n";
      }
    }
  })();
  const until = Date.now() + 20_000;
  while (!/http:\/\/127\.0\.0\.1:\d+/.test(devOut)) {
    if (p.exitCode !== null || Date.now() > until) throw new Error(`dev server did not start:\n${devOut}`);
    await Bun.sleep(20);
  }
  return /http:\/\/127\.0\.0\.1:\d+/.exec(devOut)![0];
}

async function snapshot(): Promise<Counts> {
  const got = new Promise<Counts>((res) => statWaiters.push(res));
  devServer!.kill("SIGUSR1");
  return await Promise.race([got, Bun.sleep(5_000).then(() => { throw new Error("no stats from the dev server"); })]);
}

interface Requests { tree: number; blobGet: number; blobHead: number; gitHttp: number; other: number; total: number }
function diff(before: Counts, after: Counts): Requests {
  const r: Requests = { tree: 0, blobGet: 0, blobHead: 0, gitHttp: 0, other: 0, total: 0 };
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d === 0) continue;
    r.total += d;
    if (k.startsWith("GET /api/v1/file/tree") || k.startsWith("GET /api/v1/tree")) r.tree += d;
    else if (k.startsWith("GET /api/v1/file/blob/")) r.blobGet += d;
    else if (k.startsWith("HEAD /api/v1/file/blob/")) r.blobHead += d;
    else if (k.includes(".git/")) r.gitHttp += d;
    else r.other += d;
  }
  return r;
}
const fmtReq = (r: Requests): string =>
  r.total === 0 ? "0 requests" : `${r.total} req (${[r.tree && `${r.tree} tree`, r.blobGet && `${r.blobGet} blob GET`, r.blobHead && `${r.blobHead} blob HEAD`, r.gitHttp && `${r.gitHttp} git smart HTTP`, r.other && `${r.other} other`].filter(Boolean).join(", ")})`;

// ---- the repository ------------------------------------------------------------------------------

function makeRepo(dir: string): { project: string; projectFiles: number; par: string; pre: string } {
  const filesPerDir = Math.min(100, Math.max(1, Math.floor(FILES / 100)));
  const leaves = Math.ceil(FILES / filesPerDir);
  // ~100 top-level directories, so one of them ("a project") is ~1% of the repo.
  const dirsPerDir = Math.max(1, Math.round(leaves / 100));
  makeLargeRepo(dir, { files: FILES, filesPerDir, dirsPerDir });
  let stream = `commit refs/heads/main\ncommitter Sample Committer <committer@example.com> 1700000060 +0000\ndata 10\ndeep tree\nfrom refs/heads/main^0\n`;
  for (let i = 0; i < DEEP_FILES; i++) {
    const body = `deep leaf ${i}\n`;
    stream += `M 100644 inline ${DEEP}/leaf${i}.txt\ndata ${body.length}\n${body}\n`;
  }
  git(dir, ["fast-import", "--quiet"], { stdin: stream + "\n" });
  // Server-side settings a partial clone needs (Mega's own upload-pack is out of scope here).
  git(dir, ["config", "uploadpack.allowFilter", "true"]);
  git(dir, ["config", "uploadpack.allowAnySHA1InWant", "true"]);
  const tops = Math.ceil(leaves / dirsPerDir);
  const mid = Math.floor(tops / 2);
  const project = `d${mid}`;
  const projectFiles = git(dir, ["ls-tree", "-r", "--name-only", `main:${project}`]).split("\n").filter(Boolean).length;
  // Two more projects of the same size for the parallel-reader and prefetch variants (cold in the same daemon).
  return { project, projectFiles, par: `d${Math.max(0, mid - 1)}`, pre: `d${Math.max(0, mid - 2)}` };
}

// ---- one daemon ------------------------------------------------------------------------------------

let sandboxSeq = 0;
/** Starts a daemon with configuration `config` on a fresh sandbox, or on `reuse`'s (same store: a restart). */
async function startDaemon(url: string, config: string, reuse?: string): Promise<{ p: Proc; ws: string; t0: number; stateFile: string; dir: string }> {
  const dir = reuse ?? join(TMP, `serve-${config}-${sandboxSeq++}`);
  const sb = writeServeConfig(dir, url, CONFIG_KEYS[config]!);
  mkdirSync(sb.workspace, { recursive: true });
  workspaces.add(sb.workspace);
  const t0 = now();
  const p = spawnScorpio(["serve", "-c", sb.configPath, "--http-addr", "127.0.0.1:0"]);
  daemons.add(p);
  return { p, ws: sb.workspace, t0, stateFile: sb.stateFile, dir };
}

async function stopDaemon(d: { p: Proc; ws: string }): Promise<void> {
  await d.p.stop("SIGTERM");
  const until = Date.now() + 5_000;
  while (isMounted(d.ws) && Date.now() < until) await Bun.sleep(20);
  if (isMounted(d.ws)) spawnSync("umount", ["-l", d.ws]);
  daemons.delete(d.p);
}

/** Polls until the workspace is mounted and its root lists non-empty; returns ms since `t0`. */
async function firstRootLs(d: { p: Proc; ws: string; t0: number }, onMounted: (ms: number) => void): Promise<number> {
  const until = Date.now() + 30_000;
  let seen = false;
  for (;;) {
    if (d.p.proc.exitCode !== null) throw new Error(`scorpio serve exited (${d.p.proc.exitCode}):\n${d.p.output()}`);
    if (Date.now() > until) throw new Error(`no mount after 30 s:\n${d.p.output()}`);
    if (isMounted(d.ws)) {
      if (!seen) {
        seen = true;
        onMounted(now() - d.t0);
      }
      try {
        if (readdirSync(d.ws).length > 0) return now() - d.t0;
      } catch {
        /* not answering yet */
      }
    }
    await Bun.sleep(1);
  }
}

// ---- main ------------------------------------------------------------------------------------------

interface ModeResult {
  mode: string;
  rootLs: number[];
  deepLs: number[];
  deepLsOnly: number[];
  mountReady: number[];
  cold: number[];
  warm: number[];
  mountAndRead: number[];
  coldParallel: number[];
  coldParallelReq: Requests[];
  prefetch: number[];
  prefetchRead: number[];
  prefetchReq: Requests[];
  startReq: Requests[];
  coldReq: Requests[];
  warmReq: Requests[];
  warmupWalk?: { ms: number; req: Requests };
  find?: number[];
  stat?: number[];
  statZero?: number;
  findCount?: number;
  /** Native find/stat passes interleaved with this configuration's. */
  nativeFind?: number[];
  nativeStat?: number[];
  restart?: { rootLs: number; walkMs: number; req: Requests; findMs: number; statMs: number };
  /** Sub-path clones of the project taken right after each cold read (same machine and disk state). */
  subClone: number[];
}

async function main(): Promise<void> {
  ensureBuilt();
  const cmd = `bun bench/read-path.ts ${argv.join(" ")}`.trim();
  log(`# read-path bench: ${FILES} files, reps ${REPS}, clone reps ${CLONE_REPS}, configurations ${CONFIGS.join(",")}, server latency ${LATENCY_MS} ms; temp ${TMP}`);

  let t = now();
  const repo = join(TMP, "repo.git");
  const { project, projectFiles, par, pre } = makeRepo(repo);
  const totalFiles = FILES + DEEP_FILES;
  log(`repo built in ${ms(now() - t)}: ${totalFiles} files, project ${project}/ = ${projectFiles} files (${((100 * projectFiles) / totalFiles).toFixed(1)}%), deep dir ${DEEP}`);

  const url = await startDev(repo);
  log(`dev server ${url}`);

  // ---- git baselines --------------------------------------------------------------------------------
  const full: number[] = [];
  const sparse: number[] = [];
  const sub: number[] = [];
  let native = "";
  for (let i = 0; i < CLONE_REPS; i++) {
    const dest = join(TMP, `clone-full-${i}`);
    const before = await snapshot();
    t = now();
    await gitAsync(TMP, ["clone", "-q", `${url}/.git`, dest]);
    full.push(now() - t);
    if (i === 0) {
      const n = countFiles(dest);
      if (n !== totalFiles) throw new Error(`full clone has ${n} files, expected ${totalFiles}`);
      log(`full clone: ${ms(full[0]!)}, ${fmtReq(diff(before, await snapshot()))}`);
    }
    if (native) rmSync(native, { recursive: true, force: true });
    native = dest;

    const sdest = join(TMP, `clone-sparse-${i}`);
    t = now();
    await gitAsync(TMP, ["clone", "-q", "--filter=blob:none", "--sparse", `${url}/.git`, sdest]);
    await gitAsync(sdest, ["sparse-checkout", "set", project]);
    sparse.push(now() - t);
    const sn = countFiles(join(sdest, project));
    if (sn !== projectFiles) throw new Error(`sparse checkout has ${sn} files under ${project}, expected ${projectFiles}`);
    if (i === 0) log(`sparse partial clone + checkout of ${project}: ${ms(sparse[0]!)}`);
    rmSync(sdest, { recursive: true, force: true });

    const pdest = join(TMP, `clone-sub-${i}`);
    t = now();
    await gitAsync(TMP, ["clone", "-q", `${url}/${project}.git`, pdest]);
    sub.push(now() - t);
    if (countFiles(pdest) !== projectFiles) throw new Error(`sub-path clone of ${project} has the wrong file count`);
    if (i === 0) log(`sub-path clone ${project}.git: ${ms(sub[0]!)}`);
    rmSync(pdest, { recursive: true, force: true });
  }

  // Native tree: warm-up, then find / stat / read of the project.
  const nativeList = walk(native, false).files.filter((f) => !f.startsWith(".git/"));
  timeFind(native);
  timeStat(native, nativeList);
  const nFind: number[] = [];
  const nStat: number[] = [];
  let nFindCount = 0;
  for (let i = 0; i < WALK_REPS; i++) {
    const f = timeFind(native);
    nFind.push(f.ms);
    nFindCount = f.count;
    nStat.push(timeStat(native, nativeList).ms);
  }
  const nRead: number[] = [];
  walk(join(native, project), true);
  for (let i = 0; i < WALK_REPS; i++) {
    t = now();
    walk(join(native, project), true);
    nRead.push(now() - t);
  }
  log(`native: find ${ms(median(nFind))} (${nFindCount} files incl. .git), stat ${ms(median(nStat))} (${nativeList.length}), read ${project} ${ms(median(nRead))}`);

  // Where the time of a cold read goes: the server's own blob latency (sequential GETs from here),
  // and the cost of starting the compiled binary at all.
  const oids = git(repo, ["ls-tree", "-r", `main:${project}`]).split("\n").filter(Boolean).map((l) => l.split(/\s+/)[2]!);
  t = now();
  for (const oid of oids) await (await fetch(`${url}/api/v1/file/blob/${oid}`)).arrayBuffer();
  const blobGetMs = (now() - t) / oids.length;
  const versionRuns: number[] = [];
  for (let i = 0; i < 3; i++) {
    t = now();
    spawnSync(join(ROOT, "dist/scorpio"), ["--version"]);
    versionRuns.push(now() - t);
  }
  const versionMs = median(versionRuns);
  log(`dev server blob GET from the bench: ${ms(blobGetMs)} per blob (sequential); \`scorpio --version\` ${ms(versionMs)}`);

  // ---- Scorpio -----------------------------------------------------------------------------------
  const results: ModeResult[] = [];
  for (const mode of CONFIGS) {
    const r: ModeResult = { mode, rootLs: [], deepLs: [], deepLsOnly: [], mountReady: [], cold: [], warm: [], mountAndRead: [], coldParallel: [], coldParallelReq: [], prefetch: [], prefetchRead: [], prefetchReq: [], startReq: [], coldReq: [], warmReq: [], subClone: [] };
    results.push(r);
    for (let rep = 0; rep < REPS; rep++) {
      const s0 = await snapshot();
      const d = await startDaemon(url, mode);
      try {
        const rootLs = await firstRootLs(d, (m) => r.mountReady.push(m));
        const td = now();
        const deepN = readdirSync(join(d.ws, DEEP)).length;
        const deepDone = now();
        if (deepN !== DEEP_FILES) throw new Error(`deep dir lists ${deepN} entries`);
        r.rootLs.push(rootLs);
        r.deepLs.push(deepDone - d.t0);
        r.deepLsOnly.push(deepDone - td);
        const s1 = await snapshot();
        r.startReq.push(diff(s0, s1));

        t = now();
        const cold = walk(join(d.ws, project), true);
        r.cold.push(now() - t);
        if (cold.files.length !== projectFiles) throw new Error(`mount lists ${cold.files.length} files under ${project}, expected ${projectFiles}`);
        r.mountAndRead.push(rootLs + r.cold.at(-1)!);
        const s2c = await snapshot();
        r.coldReq.push(diff(s1, s2c));
        // The baseline again, at once: both create a thousand files on the same disk in the same state
        // (a filesystem busy with deletions makes every create slower, for git and for the cache alike).
        const subDest = join(TMP, `clone-sub-${mode}-${rep}`);
        t = now();
        await gitAsync(TMP, ["clone", "-q", `${url}/${project}.git`, subDest]);
        r.subClone.push(now() - t);
        rmSync(subDest, { recursive: true, force: true });
        const s2 = await snapshot();
        const warm: number[] = [];
        for (let i = 0; i < WALK_REPS; i++) {
          t = now();
          walk(join(d.ws, project), true);
          warm.push(now() - t);
        }
        r.warm.push(median(warm));
        const s2p = await snapshot();
        r.warmReq.push(diff(s2, s2p));
        // Variant: the same cold read with 8 parallel readers (xargs -P8 cat) of another project.
        t = now();
        const px = spawnSync("sh", ["-c", `find "${join(d.ws, par)}" -type f -print0 | xargs -0 -P8 -n8 cat | wc -c`], { encoding: "utf8" });
        r.coldParallel.push(now() - t);
        if (px.status !== 0 || Number(px.stdout.trim()) !== cold.bytes) throw new Error(`parallel read of ${par} failed: ${px.stderr} ${px.stdout}`);
        const s3p = await snapshot();
        r.coldParallelReq.push(diff(s2p, s3p));
        // Variant: the product's prefetch API (8 concurrent fetches) on a third project, then the sequential read.
        const http = /http_addr\s*=\s*"([^"]+)"/.exec(readFileSync(d.stateFile, "utf8"))?.[1];
        t = now();
        const pr = await fetch(`http://${http}/api/v1/prefetch`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ globs: [`${pre}/**`] }) });
        const prText = await pr.text();
        r.prefetch.push(now() - t);
        if (!pr.ok || !prText.includes('"finished":true')) throw new Error(`prefetch failed: ${pr.status} ${prText.slice(-300)}`);
        t = now();
        walk(join(d.ws, pre), true);
        r.prefetchRead.push(now() - t);
        r.prefetchReq.push(diff(s3p, await snapshot()));
        log(`[${mode} #${rep + 1}] mounted ${ms(r.mountReady.at(-1)!)}, first ls / ${ms(rootLs)}, first ls ${DEEP} ${ms(r.deepLs.at(-1)!)} (lookup chain ${ms(r.deepLsOnly.at(-1)!)}); ${fmtReq(r.startReq.at(-1)!)}; cold read ${project} ${ms(r.cold.at(-1)!)} ${cold.bytes} B, ${fmtReq(r.coldReq.at(-1)!)} (sub-path clone next to it ${ms(r.subClone.at(-1)!)}); warm ${ms(r.warm.at(-1)!)}, ${fmtReq(r.warmReq.at(-1)!)}; 8 parallel readers cold ${par} ${ms(r.coldParallel.at(-1)!)}, ${fmtReq(r.coldParallelReq.at(-1)!)}; prefetch API ${pre} ${ms(r.prefetch.at(-1)!)} + read ${ms(r.prefetchRead.at(-1)!)}, ${fmtReq(r.prefetchReq.at(-1)!)}`);

        if (rep === REPS - 1) {
          // Whole tree: one warm-up walk (find + stat, which loads every listing), then measured passes.
          const s3 = await snapshot();
          t = now();
          const f0 = timeFind(d.ws);
          const list = walk(d.ws, false).files;
          timeStat(d.ws, list);
          r.warmupWalk = { ms: now() - t, req: diff(s3, await snapshot()) };
          if (f0.count !== totalFiles) throw new Error(`find on the mount saw ${f0.count} files, expected ${totalFiles}`);
          log(`[${mode}] warm-up walk of the whole tree ${ms(r.warmupWalk.ms)}, ${fmtReq(r.warmupWalk.req)}`);
          const s4 = await snapshot();
          r.find = [];
          r.stat = [];
          r.nativeFind = [];
          r.nativeStat = [];
          // Interleaved with the native tree, pass by pass: on a shared machine the load changes by the minute.
          for (let i = 0; i < WALK_REPS; i++) {
            r.nativeFind.push(timeFind(native).ms);
            const f = timeFind(d.ws);
            r.find.push(f.ms);
            r.findCount = f.count;
            r.nativeStat.push(timeStat(native, nativeList).ms);
            const st = timeStat(d.ws, list);
            r.stat.push(st.ms);
            r.statZero = st.zero;
          }
          log(`[${mode}] warm find ${ms(median(r.find))} (native, interleaved ${ms(median(r.nativeFind))}), stat ${ms(median(r.stat))} (native ${ms(median(r.nativeStat))}; ${r.statZero} of ${list.length} files show size 0), ${fmtReq(diff(s4, await snapshot()))}`);
          // A second daemon on the same store: its first walk of the whole tree (find + lstat), counted.
          await stopDaemon(d);
          const s5 = await snapshot();
          const d2 = await startDaemon(url, mode, d.dir);
          try {
            const rootLs2 = await firstRootLs(d2, () => {});
            t = now();
            const f2 = timeFind(d2.ws);
            const tf = now() - t;
            const st2 = timeStat(d2.ws, list);
            r.restart = { rootLs: rootLs2, walkMs: now() - t, req: diff(s5, await snapshot()), findMs: tf, statMs: st2.ms };
            if (f2.count !== totalFiles) throw new Error(`find after restart saw ${f2.count} files, expected ${totalFiles}`);
            log(`[${mode}] second daemon on the same store: first ls / ${ms(rootLs2)}, first walk (find + lstat) ${ms(r.restart.walkMs)}, ${fmtReq(r.restart.req)}`);
          } finally {
            await stopDaemon(d2);
          }
        }
      } finally {
        if (daemons.has(d.p)) await stopDaemon(d);
      }
    }
  }

  // ---- report ------------------------------------------------------------------------------------
  const fullMed = median(full);
  const sparseMed = median(sparse);
  const subMed = median(sub);
  const rows: string[][] = [];
  const met = (ok: boolean) => (ok ? "met" : "**missed**");
  for (const r of results) {
    const m = r.mode;
    const root = median(r.rootLs);
    const deep = median(r.deepLs);
    const mar = median(r.mountAndRead);
    rows.push([`serve start → first \`ls\` of / (${m})`, ms(root), "—", "—", "< 1 s", met(root < 1000)]);
    rows.push([`serve start → first \`ls\` of ${DEEP} (${m})`, ms(deep), "—", "—", "< 1 s", met(deep < 1000)]);
    rows.push([`  of which: serve start → mount visible (${m})`, ms(median(r.mountReady)), `\`scorpio --version\` ${ms(versionMs)}`, "—", "—", "—"]);
    rows.push([`cold read ${project}/ (${projectFiles} files, fresh store, ${m})`, ms(median(r.cold)), `native warm read ${ms(median(nRead))}`, ratio(median(r.cold) / median(nRead)), "—", "—"]);
    rows.push([`warm read ${project}/ (${m})`, ms(median(r.warm)), `native ${ms(median(nRead))}`, ratio(median(r.warm) / median(nRead)), "—", "—"]);
    if (r.find && r.stat) {
      const nf = r.nativeFind?.length ? r.nativeFind : nFind;
      const ns = r.nativeStat?.length ? r.nativeStat : nStat;
      const fr = median(r.find) / median(nf);
      const sr = median(r.stat) / median(ns);
      rows.push([`warm \`find -type f\` of all ${totalFiles} files (${m})`, ms(median(r.find)), `native ${ms(median(nf))}`, ratio(fr), "≤ 1.5x native", met(fr <= 1.5)]);
      rows.push([`warm lstat of all ${totalFiles} files (${m})`, ms(median(r.stat)), `native ${ms(median(ns))}`, ratio(sr), "≤ 1.5x native", met(sr <= 1.5)]);
    }
    if (r.restart) {
      const listings = r.restart.req.tree;
      rows.push([`second daemon, same store: first walk (find + lstat, ${m}), listing requests`, `${listings}`, `walk ${ms(r.restart.walkMs)}, first ls ${ms(r.restart.rootLs)}`, "—", "0", met(listings === 0)]);
    }
    rows.push([`mount + read ${project}/ (${m}) vs full \`git clone\``, ms(mar), `clone ${ms(fullMed)}`, `${ratio(fullMed / mar)} faster`, "≥ 20x faster", met(fullMed / mar >= 20)]);
    const marPar = median(r.rootLs) + median(r.coldParallel);
    const marPre = median(r.rootLs) + median(r.prefetch) + median(r.prefetchRead);
    rows.push([`mount + read, 8 parallel readers (\`xargs -P8 cat\`, ${m}) vs full clone`, ms(marPar), `clone ${ms(fullMed)}`, `${ratio(fullMed / marPar)} faster`, "≥ 20x faster", met(fullMed / marPar >= 20)]);
    rows.push([`mount + prefetch API + read (${m}) vs full clone`, ms(marPre), `clone ${ms(fullMed)}`, `${ratio(fullMed / marPre)} faster`, "≥ 20x faster", met(fullMed / marPre >= 20)]);
    rows.push([`mount + read ${project}/ (${m}) vs sparse partial clone`, ms(mar), `sparse ${ms(sparseMed)}`, `${ratio(sparseMed / mar)} faster`, "—", "—"]);
    const subNext = median(r.subClone);
    rows.push([`mount + read ${project}/ (${m}) vs sub-path clone \`${project}.git\` taken right after it`, ms(mar), `sub-path ${ms(subNext)}`, `${ratio(subNext / mar)} faster`, "≥ 1x (as fast)", met(subNext / mar >= 1)]);
  }
  const table = [
    "| Measure | Scorpio | Baseline | Ratio | Target | Status |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
  const mach = machine();
  const lines = [
    `Command: \`${cmd}\``,
    `Machine: ${mach}`,
    `Repo: ${totalFiles} files (${FILES} in \`d<i>/d<j>/f<k>.txt\` + ${DEEP_FILES} in \`${DEEP}\`), 64 B each; project \`${project}/\` = ${projectFiles} files. Medians of ${REPS} daemon starts (fresh store each), ${WALK_REPS} warm passes, ${CLONE_REPS} clones.`,
    `Server latency: every dev server answer delayed ${LATENCY_MS} ms. Configurations: ${CONFIGS.map((c) => `\`${c}\` = ${Object.entries(CONFIG_KEYS[c]!).map(([k, v]) => `${k} = ${v}`).join(", ") || "stock (no tuning key)"}`).join("; ")}.`,
    "",
    ...table,
    "",
    "Requests from the daemon to the dev server (per phase, last rep):",
    ...results.map((r) => `- ${r.mode}: start + first ls (root, deep): ${fmtReq(r.startReq.at(-1)!)}; cold read: ${fmtReq(r.coldReq.at(-1)!)}; warm read: ${fmtReq(r.warmReq.at(-1)!)}${r.warmupWalk ? `; whole-tree warm-up walk ${ms(r.warmupWalk.ms)}: ${fmtReq(r.warmupWalk.req)}; after warm-up ${r.statZero} files stat as size 0` : ""}${r.restart ? `; second daemon's first walk ${ms(r.restart.walkMs)}: ${fmtReq(r.restart.req)}` : ""}`),
    `- For scale: one sequential blob GET from the bench to the dev server takes ${ms(blobGetMs)}; \`dist/scorpio --version\` takes ${ms(versionMs)}.`,
    `- git: full clone ${ms(fullMed)}, sparse partial clone + sparse-checkout ${ms(sparseMed)}, sub-path clone ${ms(subMed)}.`,
  ];
  const out = lines.join("\n");
  process.stdout.write("\n" + out + "\n");
  mkdirSync(RESULTS, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  writeFileSync(join(RESULTS, `read-path-${stamp}.md`), out + "\n");
  writeFileSync(join(RESULTS, `read-path-${stamp}.json`), JSON.stringify({ command: cmd, machine: mach, latencyMs: LATENCY_MS, blobGetMs, versionMs, files: totalFiles, project, projectFiles, full, sparse, sub, native: { find: nFind, stat: nStat, read: nRead }, results }, null, 2));
}

function machine(): string {
  const c = cpus();
  const gv = spawnSync("git", ["--version"], { encoding: "utf8" }).stdout.trim();
  return `${c.length} × ${c[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, kernel ${release()}, Bun ${Bun.version}, ${gv}, temp dirs on ${fsOf(tmpdir())}`;
}

function fsOf(path: string): string {
  const r = spawnSync("df", ["-T", path], { encoding: "utf8" });
  return r.stdout.split("\n")[1]?.split(/\s+/)[1] ?? "?";
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  log(`read-path bench failed: ${(err as Error).stack ?? err}`);
  exitCode = 1;
} finally {
  for (const d of [...daemons]) await stopDaemon({ p: d, ws: "" }).catch(() => {});
  // Assigned inside main(): TypeScript cannot see that and narrows the variable to null here.
  const ds = devServer as ReturnType<typeof Bun.spawn> | null;
  if (ds && ds.exitCode === null) {
    ds.kill("SIGTERM");
    await Promise.race([ds.exited, Bun.sleep(5_000)]);
  }
  cleanupSync();
  const left = readFileSync("/proc/mounts", "utf8").split("\n").filter((l) => l.includes(TMP));
  if (left.length > 0) {
    log(`WARNING: mounts left behind:\n${left.join("\n")}`);
    exitCode = 1;
  } else log("cleanup: no mounts left, temp dir removed");
}
process.exit(exitCode);
