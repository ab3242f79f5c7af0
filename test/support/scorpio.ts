/**
 * @module test/support/scorpio — runs the compiled `dist/scorpio` as the product runs: a dev server
 * process over a git repository, a `scorpio serve` daemon with a config in a temp dir, and cleanup
 * that never leaves a mount or a process behind.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { isMounted, removeDir } from "./mount-fixture.ts";

export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const SCORPIO = join(ROOT, "dist/scorpio");

/** Builds dist/ once if a test run starts without it (scripts/test.sh builds first). */
export function ensureBuilt(): void {
  if (existsSync(SCORPIO) && existsSync(join(ROOT, "dist/antares"))) return;
  const r = spawnSync(process.execPath, ["run", "build"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`bun run build failed:\n${r.stderr}`);
}

export interface Proc {
  readonly proc: ReturnType<typeof Bun.spawn>;
  output(): string;
  /** Resolves once `predicate(output)` holds, or rejects after `ms` with the output so far. */
  waitFor(predicate: (out: string) => boolean, ms?: number, what?: string): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export function spawnScorpio(args: string[], env: Record<string, string> = {}): Proc {
  return spawnDist("scorpio", args, env);
}

/** Runs dist/<binary> with output collected for `waitFor` and a stop that never leaves it running. */
export function spawnDist(binary: "scorpio" | "antares", args: string[], env: Record<string, string> = {}): Proc {
  const proc = Bun.spawn([join(ROOT, "dist", binary), ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, ...env } });
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) out += dec.decode(chunk, { stream: true });
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  return {
    proc,
    output: () => out,
    async waitFor(predicate, ms = 20_000, what = "condition") {
      const until = Date.now() + ms;
      while (!predicate(out)) {
        if (proc.exitCode !== null) throw new Error(`${binary} ${args[0]} exited (${proc.exitCode}) before ${what}:\n${out}`);
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}:\n${out}`);
        await Bun.sleep(25);
      }
    },
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null) proc.kill(signal);
      const code = await Promise.race([proc.exited, Bun.sleep(25_000).then(() => -1)]);
      if (code === -1) {
        proc.kill("SIGKILL");
        await proc.exited;
      }
      return code;
    },
  };
}

export interface DevServerProc extends Proc {
  url: string;
}

/** `scorpio devserver --repo <repo>` on a free loopback port; resolves with its URL. */
export async function startDevServerProcess(repo: string): Promise<DevServerProc> {
  const p = spawnScorpio(["devserver", "--repo", repo, "--addr", "127.0.0.1:0"]);
  await p.waitFor((o) => /http:\/\/127\.0\.0\.1:\d+/.test(o), 20_000, "the dev server URL");
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(p.output())![0];
  return Object.assign(p, { url });
}

export interface ServeSandbox {
  dir: string;
  configPath: string;
  workspace: string;
  storePath: string;
  stateFile: string;
}

/** A config for `scorpio serve` whose every path is inside `dir`. */
export function writeServeConfig(dir: string, baseUrl: string, extra: Record<string, string | number | boolean> = {}): ServeSandbox {
  mkdirSync(dir, { recursive: true });
  const sb = { dir, configPath: join(dir, "scorpio.toml"), workspace: join(dir, "workspace"), storePath: join(dir, "store"), stateFile: join(dir, "runtime.toml") };
  const lines = [
    `base_url = ${JSON.stringify(baseUrl)}`,
    `workspace = ${JSON.stringify(sb.workspace)}`,
    `store_path = ${JSON.stringify(sb.storePath)}`,
    `config_file = ${JSON.stringify(sb.stateFile)}`,
    `antares_upper_root = ${JSON.stringify(join(dir, "antares/upper"))}`,
    `antares_cl_root = ${JSON.stringify(join(dir, "antares/cl"))}`,
    `antares_mount_root = ${JSON.stringify(join(dir, "antares/mnt"))}`,
    `antares_state_file = ${JSON.stringify(join(dir, "antares/state.toml"))}`,
  ].filter((l) => !(l.split(" ")[0]! in extra)); // a key in `extra` replaces the default
  lines.push(...Object.entries(extra).map(([k, v]) => `${k} = ${JSON.stringify(v)}`));
  writeFileSync(sb.configPath, lines.join("\n") + "\n");
  return sb;
}

export interface ServeProc extends Proc {
  sandbox: ServeSandbox;
  /** The daemon's HTTP base URL, read from the runtime state file. */
  httpUrl(): string;
}

/** Starts `scorpio serve` and waits until the workspace is mounted and the daemon recorded itself. */
export async function startServe(sb: ServeSandbox, env: Record<string, string> = {}): Promise<ServeProc> {
  const p = spawnScorpio(["serve", "-c", sb.configPath, "--http-addr", "127.0.0.1:0"], env);
  await p.waitFor(() => isMounted(sb.workspace) && existsSync(sb.stateFile) && readFileSync(sb.stateFile, "utf8").includes("http_addr"), 30_000, "the workspace mount");
  return Object.assign(p, {
    sandbox: sb,
    httpUrl() {
      const m = /http_addr\s*=\s*"([^"]+)"/.exec(readFileSync(sb.stateFile, "utf8"));
      if (!m) throw new Error("no daemon record in the state file");
      return `http://${m[1]}`;
    },
  });
}

/** After a test: detach every mount a daemon left under the sandbox (workspace, job mounts, checkouts), deepest first. */
export function cleanupServeMounts(sb: ServeSandbox): void {
  const under = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p.startsWith(sb.dir + "/"));
  for (const p of under.sort((a, b) => b.length - a.length)) forceUnmount(p);
}

/**
 * The end of a test file that ran a daemon over a dev server: stop the daemon, then the server, detach
 * whatever the daemon left mounted under the sandbox and remove the temp dir. Any part may be missing
 * (a `beforeAll` that failed half-way).
 */
export async function tearDown(parts: { daemon?: { stop(): Promise<unknown> }; dev?: { stop(): Promise<unknown> }; sb?: ServeSandbox; dir?: string }): Promise<void> {
  await parts.daemon?.stop();
  await parts.dev?.stop();
  if (parts.sb) cleanupServeMounts(parts.sb);
  if (parts.dir) removeDir(parts.dir);
}

/** Last resort after a failed test: detach a mount left behind. */
export function forceUnmount(path: string): void {
  if (isMounted(path)) spawnSync("umount", ["-l", path]);
}
