/**
 * @module bench/stress — stress-ng filesystem stressors and fio inside an Antares job mount.
 *
 *   bun bench/stress.ts [--quick] [--bin path/to/scorpio] [--secs N] [--only a,b,c] [--no-native] [--no-fio]
 *
 * Needs `stress-ng` and `fio` on PATH (installs nothing: `apt-get install stress-ng fio`). Starts
 * `scorpio devserver` over the sample repository and `scorpio serve` (the compiled binary: dist/scorpio,
 * or --bin), creates one job mount on "/" through `POST /antares/mounts`, then:
 *   1. runs each stress-ng stressor ONE AT A TIME with `--verify` in a directory of the job mount
 *      (2 workers, --secs each: 20 s, --quick 5 s), then the same stressor in a native directory
 *      (unless --no-native) for a bogo-ops ratio; after each one the mount must still answer, otherwise
 *      the daemon is restarted with a fresh job mount and the event is recorded;
 *   2. fio (psync): seq write 1 MiB (verify crc32c), seq read 1 MiB, rand read 4 KiB, rand write 4 KiB
 *      (verify crc32c) on one file of 256 MiB (--quick: 64 MiB) created in the upper layer through the
 *      mount, buffered and with --direct=1, and the same on a native file.
 * Prints Markdown tables and writes bench/results/stress.json. Nothing here asserts on time.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { startStack, type Stack } from "./stress/stack.ts";
import { FIO_JOBS, missingTools, runFio, runStressor, type FioResult, type StressorSpec, type StressResult } from "./stress/run.ts";
import { ROOT } from "../test/support/scorpio.ts";

/**
 * stress-ng 0.15's "filesystem" class plus the io-class and vm stressors that work on files in
 * --temp-path. `stress-ng --class filesystem?` lists the class.
 */
export const STRESSORS: StressorSpec[] = [
  "access", "chattr", "chdir", "chmod", "chown", "copy-file", "dentry", "dir", "dirdeep", "dirmany", "dnotify",
  "fallocate", "fanotify", "fcntl", "fiemap", "file-ioctl", "filename", "flock", "fpunch", "fsize", "fstat",
  "getdent", "handle", "hdd", "inode-flags", "inotify", "io", "iomix", "ioprio", "lease", "link", "locka",
  "lockf", "lockofd", "mknod", "open", "rename", "symlink", "sync-file", "touch", "utime", "verity", "xattr",
  // io class (files in --temp-path)
  "aio", "aiol", "io-uring", "readahead", "revio", "seek",
  // vm/os stressors that use a file in --temp-path
  "msync", "sendfile",
].map((name): StressorSpec => ({ name })).concat([{ name: "mmap", extra: ["--mmap-file"] }]);

/** Filesystem-class stressors not run, and why. */
export const NOT_RUN: Record<string, string> = {
  "bind-mount": "bind-mounts / in a private mount namespace; never touches --temp-path",
  binderfs: "mounts a binderfs instance; nothing to do with the job mount",
  procfs: "reads /proc and /sys only",
  dup: "dup(2) of fds on /dev/zero and pipes; no file in --temp-path",
  eventfd: "eventfd(2) only; no file system",
};

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const QUICK = process.argv.includes("--quick");
const SECS = Number(arg("--secs") ?? (QUICK ? 5 : 20));
const FIO_MIB = QUICK ? 64 : 256;
const FIO_RUNTIME = QUICK ? 20 : 60;
const ONLY = arg("--only")?.split(",");
const NATIVE = !process.argv.includes("--no-native");
const FIO = !process.argv.includes("--no-fio");
const BIN = arg("--bin") ?? join(ROOT, "dist/scorpio");

/** True when `dir` (in a FUSE mount) answers a stat within 10 s — checked from a child, never blocking us. */
function answers(dir: string): boolean {
  return spawnSync("timeout", ["10", "stat", dir], { stdio: "ignore" }).status === 0;
}

async function main(): Promise<void> {
  const missing = missingTools(["stress-ng", "fio"]);
  if (missing.length) {
    console.error(`missing ${missing.join(" and ")}: install with \`apt-get install stress-ng fio\` (bench/stress.ts installs nothing)`);
    process.exit(2);
  }
  const work = mkdtempSync(join(tmpdir(), "bench-stress-"));
  let stack: Stack | undefined;
  const events: string[] = [];
  const results: Array<StressResult & { native?: StressResult }> = [];
  const fio: Array<FioResult & { where: "job" | "native" }> = [];
  const started = new Date().toISOString();
  try {
    stack = await startStack(BIN);
    const tmpIn = (s: Stack) => {
      const d = join(s.mountpoint, "stress-tmp");
      mkdirSync(d, { recursive: true });
      return d;
    };
    let jobTmp = tmpIn(stack);
    const nativeTmp = join(work, "native");
    mkdirSync(nativeTmp);
    const list = ONLY ? STRESSORS.filter((s) => ONLY.includes(s.name)) : STRESSORS;
    for (const spec of list) {
      const r: StressResult & { native?: StressResult } = await runStressor(spec, jobTmp, SECS);
      if (NATIVE) r.native = await runStressor(spec, nativeTmp, SECS);
      // A stressor whose workers quit silently exits 0 with 0 bogo ops; natively it makes progress.
      if (r.outcome === "pass" && !r.bogoOpsPerSec && (r.native?.bogoOpsPerSec ?? 0) > 1) {
        r.outcome = "FAIL";
        r.detail = "exit 0 but 0 bogo ops (workers quit silently); native makes progress";
      }
      results.push(r);
      const ratio = r.bogoOpsPerSec && r.native?.bogoOpsPerSec ? ` (${(r.bogoOpsPerSec / r.native.bogoOpsPerSec).toFixed(2)}× native)` : "";
      console.error(`${spec.name.padEnd(12)} ${r.outcome.padEnd(7)} ${r.bogoOpsPerSec?.toFixed(1) ?? "-"} bogo-ops/s${ratio}${r.detail ? `  ${r.detail}` : ""}`);
      if (!stack.daemonAlive() || !answers(stack.mountpoint)) {
        const what = `after ${spec.name}: daemon ${stack.daemonAlive() ? "alive but the mount does not answer" : "exited"}; restarted with a fresh job mount`;
        events.push(what);
        console.error(`!! ${what}\n${stack.daemonOutput().split("\n").slice(-20).join("\n")}`);
        await stack.stop();
        stack = await startStack(BIN);
        jobTmp = tmpIn(stack);
      } else {
        rmSync(jobTmp, { recursive: true, force: true });
        mkdirSync(jobTmp, { recursive: true });
      }
    }

    if (FIO) {
      const jobFile = join(stack.mountpoint, "fio-file");
      const nativeFile = join(work, "fio-file");
      for (const direct of [false, true]) {
        for (const [where, file] of [["job", jobFile], ["native", nativeFile]] as const) {
          rmSync(file, { force: true });
          for (const job of FIO_JOBS) {
            const r = await runFio(job, file, FIO_MIB, direct, FIO_RUNTIME);
            fio.push({ ...r, where });
            console.error(`fio ${where.padEnd(6)} ${job.name.padEnd(14)} direct=${direct ? 1 : 0} ${r.ok ? "ok" : "FAIL"} ${r.mibps?.toFixed(1) ?? "-"} MiB/s ${r.iops?.toFixed(0) ?? "-"} IOPS ${r.detail}`);
          }
          rmSync(file, { force: true });
        }
      }
    }
  } finally {
    await stack?.stop();
    rmSync(work, { recursive: true, force: true });
  }

  const out = {
    started,
    command: `bun ${process.argv.slice(1).map((a) => a.replace(ROOT + "/", "")).join(" ")}`,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), kernel: spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout.trim(), stressNg: spawnSync("stress-ng", ["--version"], { encoding: "utf8" }).stdout.trim(), fio: spawnSync("fio", ["--version"], { encoding: "utf8" }).stdout.trim() },
    secsPerStressor: SECS,
    events,
    notRun: NOT_RUN,
    stressors: results,
    fio,
  };
  mkdirSync(join(import.meta.dir, "results"), { recursive: true });
  writeFileSync(join(import.meta.dir, "results/stress.json"), JSON.stringify(out, null, 2) + "\n");

  const f = (n?: number) => (n === undefined ? "–" : n >= 100 ? n.toFixed(0) : n.toFixed(1));
  console.log(`\n${out.command} — ${out.machine.cpus} × ${out.machine.model}, Linux ${out.machine.kernel}, ${out.machine.stressNg}, ${out.machine.fio}\n`);
  console.log(`| stressor | job mount | bogo-ops/s job | bogo-ops/s native | job/native | error or note |\n|---|---|---:|---:|---:|---|`);
  for (const r of results) {
    const ratio = r.bogoOpsPerSec && r.native?.bogoOpsPerSec ? `${(r.bogoOpsPerSec / r.native.bogoOpsPerSec).toFixed(2)}` : "–";
    const short = (d: string) => (d.length > 160 ? d.slice(0, 157) + "…" : d);
    const note = [short(r.detail), r.native && r.native.outcome !== "pass" ? `native: ${r.native.outcome}${r.native.detail ? ` (${short(r.native.detail)})` : ""}` : ""].filter(Boolean).join("; ").replaceAll("|", "\\|");
    console.log(`| ${r.stressor} | ${r.outcome} | ${f(r.bogoOpsPerSec)} | ${f(r.native?.bogoOpsPerSec)} | ${ratio} | ${note} |`);
  }
  for (const [name, why] of Object.entries(NOT_RUN)) console.log(`| ${name} | not run | | | | ${why} |`);
  if (events.length) console.log(`\nEvents: ${events.join("; ")}`);
  if (fio.length) {
    console.log(`\n| fio (psync, ${FIO_MIB} MiB file) | direct | job MiB/s | native MiB/s | job/native | job IOPS | native IOPS | error |\n|---|---|---:|---:|---:|---:|---:|---|`);
    for (const direct of [false, true]) {
      for (const job of FIO_JOBS) {
        const j = fio.find((x) => x.where === "job" && x.job === job.name && x.direct === direct);
        const n = fio.find((x) => x.where === "native" && x.job === job.name && x.direct === direct);
        const ratio = j?.mibps && n?.mibps ? (j.mibps / n.mibps).toFixed(2) : "–";
        const err = [j && !j.ok ? `job: ${j.detail}` : "", n && !n.ok ? `native: ${n.detail}` : ""].filter(Boolean).join("; ").replaceAll("|", "\\|");
        console.log(`| ${job.name}${job.verify ? " + verify crc32c" : ""} | ${direct ? "yes" : "no"} | ${f(j?.ok ? j.mibps : undefined)} | ${f(n?.ok ? n.mibps : undefined)} | ${ratio} | ${f(j?.ok ? j.iops : undefined)} | ${f(n?.ok ? n.iops : undefined)} | ${err} |`);
      }
    }
  }
}

if (!existsSync(BIN)) {
  console.error(`${BIN} not found: run \`bun run build\`, or pass --bin`);
  process.exit(2);
}
await main();
