/**
 * @module test/support/mount-fixture — serves a filesystem from a child process (never from the
 * test's own thread: a synchronous call into one's own mount deadlocks) and always cleans up:
 * SIGTERM, then SIGKILL and a lazy unmount if the child does not go in time.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface MountedChild {
  readonly mountpoint: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Resolves with the next stdout line that parses as JSON (after sending `signal`). */
  request<T>(signal: NodeJS.Signals): Promise<T>;
  stop(): Promise<number | null>;
}

export function isMounted(path: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === path);
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `scorpio-${prefix}-`));
}

/** Spawns `argv` (which must print "ready" once mounted) and waits up to `readyMs`. */
export async function mountChild(argv: string[], mountpoint: string, opts: { env?: Record<string, string>; readyMs?: number } = {}): Promise<MountedChild> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...opts.env } });
  let out = "";
  let err = "";
  const lineWaiters: Array<(line: string) => void> = [];
  let pending = "";
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      const w = lineWaiters.shift();
      if (w) w(line);
    }
  });
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`mount did not become ready in time:\n${out}\n${err}`)), opts.readyMs ?? 15_000);
    const check = (line: string) => {
      if (line.trim() === "ready") { clearTimeout(t); resolve(); } else lineWaiters.unshift(check);
    };
    lineWaiters.push(check);
    void exited.then((code) => { clearTimeout(t); reject(new Error(`child exited (${code}) before ready:\n${out}\n${err}`)); });
  });
  return {
    mountpoint,
    child,
    output: () => out + err,
    request<T>(signal: NodeJS.Signals): Promise<T> {
      return new Promise((resolve) => {
        lineWaiters.push((line) => resolve(JSON.parse(line) as T));
        child.kill(signal);
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const code = await Promise.race([exited, Bun.sleep(10_000).then(() => "timeout" as const)]);
      if (code === "timeout") {
        child.kill("SIGKILL");
        await exited;
      }
      if (isMounted(mountpoint)) spawnSync("umount", ["-l", mountpoint]);
      return code === "timeout" ? null : code;
    },
  };
}

export function removeDir(dir: string): void {
  if (isMounted(dir)) spawnSync("umount", ["-l", dir]);
  rmSync(dir, { recursive: true, force: true });
}
