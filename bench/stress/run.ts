/**
 * @module bench/stress/run — runs one stress-ng stressor or one fio job and classifies the outcome.
 * Shared by bench/stress.ts and test/stress/stressors.test.ts. Asynchronous spawns only: the caller
 * may be the process that serves nothing, but a hung stressor must never hang the caller.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Missing tools, with the install hint; empty when all are present. */
export function missingTools(tools: string[]): string[] {
  return tools.filter((t) => !Bun.which(t));
}

export interface StressorSpec {
  name: string;
  /** Extra stress-ng options (e.g. `--mmap-file`). */
  extra?: string[];
}

export type Outcome = "pass" | "FAIL" | "skipped" | "HANG";

export interface StressResult {
  stressor: string;
  outcome: Outcome;
  exitCode: number | null;
  bogoOpsPerSec?: number;
  /** First relevant fail/error/skip lines. */
  detail: string;
  seconds: number;
  command: string;
}

async function spawnCollect(argv: string[], hardMs: number, cwd?: string): Promise<{ code: number | null; out: string; hung: boolean }> {
  // Some stressors (open) also create files relative to the working directory: run them in a scratch dir.
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", stdin: "ignore", ...(cwd ? { cwd } : {}) });
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    p.kill("SIGKILL");
  }, hardMs);
  const [o, e] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  const code = await p.exited;
  clearTimeout(timer);
  return { code: hung ? null : code, out: o + e, hung };
}

const interesting = (out: string, re: RegExp, max = 3) =>
  [...new Set(out.split("\n").filter((l) => re.test(l)).map((l) => l.replace(/^stress-ng: \w+:\s+\[\d+\]\s*/, "").replace(/, filesystem type: \w+/, "").trim()))].slice(0, max).join(" / ");

/**
 * `stress-ng --<name> <workers> [extra] --temp-path <dir> --verify --timeout <secs>s --metrics-brief`.
 * pass = exit 0 and no `fail:` line nor stressor `error:` line; skipped = exit 3/4 or the stressor said it skips; HANG = still running
 * `secs + graceSecs` after the start (killed).
 */
export async function runStressor(spec: StressorSpec, tempPath: string, secs: number, workers = 2, graceSecs = 60): Promise<StressResult> {
  const ydir = mkdtempSync(join(tmpdir(), "stress-yaml-"));
  const yaml = join(ydir, "m.yaml");
  const argv = ["stress-ng", `--${spec.name}`, String(workers), ...(spec.extra ?? []), "--temp-path", tempPath, "--verify", "--timeout", `${secs}s`, "--metrics-brief", "--yaml", yaml];
  const t0 = performance.now();
  const r = await spawnCollect(argv, (secs + graceSecs) * 1000, ydir);
  const seconds = (performance.now() - t0) / 1000;
  let bogo: number | undefined;
  try {
    const m = /bogo-ops-per-second-real-time:\s*([\d.]+)/.exec(readFileSync(yaml, "utf8"));
    if (m) bogo = Number(m[1]);
  } catch {}
  rmSync(ydir, { recursive: true, force: true });
  const failLines = interesting(r.out, /\bfail:|error:|verif|terminated/i);
  const skipLines = interesting(r.out, /skipp|not implemented|not supported|cannot|no resources/i);
  let outcome: Outcome;
  if (r.hung) outcome = "HANG";
  else if (r.code === 3 || r.code === 4) outcome = "skipped";
  // exit 0 is not enough: several stressors log `fail:` (or a stressor-level `error:`) and still exit 0.
  else if (r.code !== 0 || /\bfail:/.test(r.out) || new RegExp(`error:\\s+\\[\\d+\\] ${spec.name}:`).test(r.out)) outcome = "FAIL";
  else if (/skipping stress|stressor will be skipped|skipped:\s*[1-9]/i.test(r.out) && !bogo) outcome = "skipped";
  else outcome = "pass";
  const detail = outcome === "pass" ? "" : outcome === "skipped" ? skipLines || failLines : outcome === "HANG" ? `no exit after ${secs + graceSecs} s (killed); ${failLines}` : failLines || r.out.trim().split("\n").slice(-3).join(" / ");
  return { stressor: spec.name + (spec.extra?.length ? ` ${spec.extra.join(" ")}` : ""), outcome, exitCode: r.code, bogoOpsPerSec: bogo, detail, seconds, command: argv.slice(0, -2).join(" ") };
}

export interface FioJob {
  name: string;
  rw: "write" | "read" | "randread" | "randwrite";
  bs: string;
  verify: boolean;
}

export const FIO_JOBS: FioJob[] = [
  { name: "seq write 1M", rw: "write", bs: "1M", verify: true },
  { name: "seq read 1M", rw: "read", bs: "1M", verify: false },
  { name: "rand read 4k", rw: "randread", bs: "4k", verify: false },
  { name: "rand write 4k", rw: "randwrite", bs: "4k", verify: true },
];

export interface FioResult {
  job: string;
  direct: boolean;
  ok: boolean;
  /** MiB/s of the job's direction. */
  mibps?: number;
  iops?: number;
  detail: string;
  command: string;
}

/** One fio job on `file` (psync engine), capped at `runtimeSecs`. Write jobs verify with crc32c. */
export async function runFio(job: FioJob, file: string, sizeMiB: number, direct: boolean, runtimeSecs: number): Promise<FioResult> {
  const argv = [
    "fio", "--name=stress", `--filename=${file}`, `--rw=${job.rw}`, `--bs=${job.bs}`, `--size=${sizeMiB}M`,
    "--ioengine=psync", `--direct=${direct ? 1 : 0}`, `--runtime=${runtimeSecs}`, "--output-format=json",
    ...(job.verify ? ["--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0"] : []),
    ...(job.rw.includes("write") ? ["--end_fsync=1"] : []),
  ];
  const r = await spawnCollect(argv, (runtimeSecs + 300) * 1000);
  const command = argv.filter((a) => a !== "--output-format=json").join(" ");
  if (r.hung) return { job: job.name, direct, ok: false, detail: "fio did not exit (killed)", command };
  const start = r.out.indexOf("{");
  let j: any;
  try {
    j = JSON.parse(r.out.slice(start));
  } catch {
    return { job: job.name, direct, ok: false, detail: r.out.trim().split("\n").slice(0, 3).join(" / "), command };
  }
  const st = j.jobs?.[0];
  const dir = job.rw.includes("write") ? st?.write : st?.read;
  const err = st?.error ?? 0;
  const noise = r.out.slice(0, Math.max(0, start)).trim();
  return {
    job: job.name,
    direct,
    ok: r.code === 0 && err === 0,
    mibps: dir ? dir.bw / 1024 : undefined,
    iops: dir ? dir.iops : undefined,
    detail: r.code === 0 && err === 0 ? "" : `exit ${r.code}, error ${err}${noise ? `: ${noise.split("\n").slice(0, 3).join(" / ")}` : ""}`,
    command,
  };
}
