/**
 * @module bench/memory — do lookup counts come back, and does the server's memory stay flat, when
 * `find` walks a million entries over and over?
 *
 *   bun bench/memory.ts [--entries N] [--runs R] [--stat]
 *
 * Mounts `SyntheticFs` (bench/memory/synthetic-fs.ts: √N directories × √N empty files computed from
 * the inode number, an inode table that holds only what the kernel holds) in a child process
 * (bench/memory/serve.ts, attr/entry timeouts 1 s), then R times (default 5): runs
 * `find <mnt> -type f | wc -l` and checks the count; asks the child for its RSS and live-inode
 * count; writes 2 to /proc/sys/vm/drop_caches so the kernel evicts its dentries and inodes and
 * sends FORGET / BATCH_FORGET; waits until the live-inode count stops moving; asks again after a
 * full GC in the child (`Bun.gc(true)`), which separates garbage from leaks. Prints a Markdown
 * table and the raw reports. With --stat the command is `find <mnt> -type f -links 1 | wc -l`: find
 * then stats every file, so each one is looked up and held by the kernel (without it, the kernel's
 * READDIRPLUS_AUTO heuristic uses readdirplus only for a directory's first buffer, and most files
 * are never instantiated). Needs root (drop_caches) and /dev/fuse. Benches are not tests: the
 * only assertion is the file count.
 */
import { spawn } from "node:child_process";
import { writeFileSync, readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { makeTempDir, mountChild, removeDir, isMounted, type MountedChild } from "../test/support/mount-fixture.ts";

interface Report {
  rssKiB: number;
  hwmKiB: number;
  anonKiB: number;
  fileKiB: number;
  extraMemorySize: number;
  heapSize: number;
  heapCapacity: number;
  objectCount: number;
  liveInodes: number;
  outstanding: number;
  refs: number;
  forgetCalls: number;
  forgotten: number;
  lookups: number;
  readdirplusCalls: number;
  opCounts: Record<string, number>;
}

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const ENTRIES = Number(opt("--entries") ?? 1_000_000);
const RUNS = Number(opt("--runs") ?? 5);
/** `-links 1` makes find stat every file: a LOOKUP per file, so all N inodes become live. */
const STAT = argv.includes("--stat");
if (!(ENTRIES >= 1) || !(RUNS >= 1)) {
  console.error("usage: bun bench/memory.ts [--entries N] [--runs R] [--stat]");
  process.exit(2);
}
const DIRS = Math.max(1, Math.round(Math.sqrt(ENTRIES)));
const FILES = Math.max(1, Math.round(ENTRIES / DIRS));
const EXPECTED = DIRS * FILES;
const SERVE = resolve(import.meta.dir, "memory/serve.ts");
const MiB = (kib: number) => (kib / 1024).toFixed(1);
const MiBb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

async function sh(cmd: string): Promise<string> {
  const p = spawn("sh", ["-c", cmd], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((r) => p.on("close", (c) => r(c)));
  if (code !== 0) throw new Error(`${cmd} failed (${code}): ${err}`);
  return out;
}

/** Polls until the live-inode count has not moved for `quietMs`, or `maxMs` passed. */
async function settle(m: MountedChild, quietMs = 1_500, maxMs = 30_000): Promise<Report> {
  const start = Date.now();
  let last = await m.request<Report>("SIGUSR2");
  let since = Date.now();
  while (Date.now() - start < maxMs) {
    await Bun.sleep(250);
    const r = await m.request<Report>("SIGUSR2");
    if (r.liveInodes !== last.liveInodes || r.forgotten !== last.forgotten) since = Date.now();
    else if (Date.now() - since >= quietMs) return r;
    last = r;
  }
  return last;
}

function machine(): string {
  const kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  return `${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${kernel}, Bun ${Bun.version}`;
}

interface Row {
  run: number;
  seconds: number;
  found: number;
  afterFind: Report;
  afterDrop: Report;
}

const dir = makeTempDir("memory");
const mnt = join(dir, "mnt");
let child: MountedChild | undefined;
const cleanup = async () => {
  await child?.stop();
  removeDir(dir);
};
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, async () => {
    console.error(`\n${sig}: cleaning up`);
    await cleanup();
    process.exit(130);
  });
}

try {
  console.log(`# bench/memory: ${DIRS} dirs × ${FILES} files = ${EXPECTED} files, ${RUNS} runs: find ${mnt} -type f${STAT ? " -links 1" : ""} | wc -l`);
  console.log(`# ${machine()}`);
  child = await mountChild(["bun", SERVE, mnt, String(DIRS), String(FILES)], mnt);
  const baseline = await child.request<Report>("SIGUSR1");
  console.log(`baseline ${JSON.stringify(baseline)}`);
  const rows: Row[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const t0 = performance.now();
    const found = Number((await sh(`find ${mnt} -type f${STAT ? " -links 1" : ""} | wc -l`)).trim());
    const seconds = (performance.now() - t0) / 1000;
    if (found !== EXPECTED) throw new Error(`run ${run}: find saw ${found} files, expected ${EXPECTED}`);
    const afterFind = await child.request<Report>("SIGUSR2");
    await sh("sync");
    writeFileSync("/proc/sys/vm/drop_caches", "2");
    await settle(child);
    const afterDrop = await child.request<Report>("SIGUSR1");
    rows.push({ run, seconds, found, afterFind, afterDrop });
    console.log(`run ${run} find ${seconds.toFixed(2)} s`);
    console.log(`  after find ${JSON.stringify(afterFind)}`);
    console.log(`  after drop ${JSON.stringify(afterDrop)}`);
  }

  const lines = [
    `| run | find s | RSS after find MiB | live inodes after find | RSS after drop_caches + GC MiB (anon / file) | live inodes after drop_caches | JS heap after GC MiB | total forgets (nlookup) | refs handed out |`,
    `|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
    `| 0 (mounted) | – | – | – | ${MiB(baseline.rssKiB)} (${MiB(baseline.anonKiB)} / ${MiB(baseline.fileKiB)}) | ${baseline.liveInodes} | ${MiBb(baseline.heapSize)} | ${baseline.forgotten} | ${baseline.refs} |`,
    ...rows.map((r) =>
      `| ${r.run} | ${r.seconds.toFixed(2)} | ${MiB(r.afterFind.rssKiB)} | ${r.afterFind.liveInodes} | ${MiB(r.afterDrop.rssKiB)} (${MiB(r.afterDrop.anonKiB)} / ${MiB(r.afterDrop.fileKiB)}) | ${r.afterDrop.liveInodes} | ${MiBb(r.afterDrop.heapSize)} | ${r.afterDrop.forgotten} | ${r.afterDrop.refs} |`),
  ];
  console.log("\n" + lines.join("\n"));
  const last = rows.at(-1)!.afterDrop;
  console.log(`\nlookup-count balance after the last run: refs ${last.refs} − forgotten ${last.forgotten} = ${last.refs - last.forgotten}; outstanding in the table ${last.outstanding}; live inodes ${last.liveInodes}`);
  console.log(`peak RSS (VmHWM) ${MiB(last.hwmKiB)} MiB; op counts ${JSON.stringify(last.opCounts)}`);
} finally {
  await cleanup();
  if (isMounted(mnt)) console.error(`warning: ${mnt} is still mounted`);
}
