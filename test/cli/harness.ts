/**
 * Helpers for the CLI tests: run `scorpio`/`antares` as child processes (the compiled binaries when
 * SCORPIO_TEST_BIN_DIR points at dist/, else `bun src/cli/*.ts`), isolated temp dirs and configs.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = new URL("../..", import.meta.url).pathname;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function commandFor(binary: "scorpio" | "antares"): string[] {
  const binDir = process.env.SCORPIO_TEST_BIN_DIR;
  if (binDir) return [join(binDir, binary)];
  return [process.execPath, join(ROOT, "src/cli", `${binary}.ts`)];
}

/** Spawns the CLI; returns the process for long-running commands. */
export function spawnCli(binary: "scorpio" | "antares", args: string[], opts: { cwd: string; env: Record<string, string> }) {
  return Bun.spawn([...commandFor(binary), ...args], { cwd: opts.cwd, env: opts.env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
}

/** Runs the CLI to completion (killed after 60 s so a hang fails the test instead of stalling it). */
export async function runCli(binary: "scorpio" | "antares", args: string[], opts: { cwd: string; env: Record<string, string> }): Promise<RunResult> {
  const proc = spawnCli(binary, args, opts);
  const killer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(killer);
  return { code, stdout, stderr };
}

export interface Sandbox {
  dir: string;
  env: Record<string, string>;
  configPath: string;
  stateFile: string;
  cleanup(): void;
}

/** A temp dir with HOME/XDG dirs inside it and a config whose every path is inside it. */
export function makeSandbox(extraConfig = ""): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), "scorpio-cli-"));
  const stateFile = join(dir, "runtime.toml");
  const configPath = join(dir, "scorpio.toml");
  writeFileSync(
    configPath,
    [
      `base_url = "http://127.0.0.1:9"`,
      `workspace = "${dir}/mount"`,
      `store_path = "${dir}/store"`,
      `config_file = "${stateFile}"`,
      `antares_upper_root = "${dir}/antares/upper"`,
      `antares_cl_root = "${dir}/antares/cl"`,
      `antares_mount_root = "${dir}/antares/mnt"`,
      `antares_state_file = "${dir}/antares/state.toml"`,
      extraConfig,
    ].join("\n") + "\n",
  );
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: dir,
    XDG_STATE_HOME: join(dir, "xdg-state"),
    XDG_CONFIG_HOME: join(dir, "xdg-config"),
    XDG_CACHE_HOME: join(dir, "xdg-cache"),
    USER: process.env.USER ?? "test",
  };
  return { dir, env, configPath, stateFile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Replaces the base_url line of a sandbox config. */
export function setBaseUrl(sb: Sandbox, url: string): void {
  const text = readFileSync(sb.configPath, "utf8").replace(/^base_url = .*$/m, `base_url = "${url}"`);
  writeFileSync(sb.configPath, text);
}

/** Waits (up to 30 s) until the runtime state file records this daemon (by pid); returns its address. */
export async function waitForDaemonRecord(stateFile: string, proc: { pid: number; exitCode: number | null }): Promise<string> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`daemon exited early with ${proc.exitCode}`);
    if (existsSync(stateFile)) {
      const text = readFileSync(stateFile, "utf8");
      const m = /http_addr = "([^"]+)"/.exec(text);
      if (m && text.includes(`pid = ${proc.pid}\n`)) return m[1]!;
    }
    await Bun.sleep(50);
  }
  throw new Error("daemon did not record its address within 30 s");
}

/**
 * Stops a daemon started by a test: SIGTERM and wait (30 s) so it unmounts what it mounted, SIGKILL
 * only as a last resort, then lazily unmount anything left under `dir` (a killed daemon leaves a
 * dead mount that would make the temp dir impossible to delete).
 */
export async function stopDaemon(proc: { exitCode: number | null; kill(sig?: string | number): void; exited: Promise<number> }, dir: string): Promise<void> {
  if (proc.exitCode === null) {
    proc.kill("SIGTERM");
    const done = await Promise.race([proc.exited.then(() => true), Bun.sleep(30_000).then(() => false)]);
    if (!done) proc.kill("SIGKILL");
    await proc.exited;
  }
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m): m is string => !!m && m.startsWith(dir + "/"));
  for (const m of mounts) Bun.spawnSync(["fusermount3", "-uz", m], { stderr: "ignore" });
}
