/**
 * @module bench/stress/stack — a dev server + `scorpio serve` + one Antares job mount, run from a
 * chosen compiled binary (so a bench can use its own build while dist/ is busy), with cleanup that
 * leaves no process and no mount behind.
 *
 *   bun bench/stress/stack.ts [--bin path]   # holds a job mount open, prints its mountpoint; Ctrl-C ends
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { makeSampleRepo } from "../../test/support/sample-repo.ts";
import { writeServeConfig, ROOT } from "../../test/support/scorpio.ts";
import { isMounted } from "../../test/support/mount-fixture.ts";

export interface Stack {
  dir: string;
  mountpoint: string;
  mountId: string;
  /** The mount's state as the create call returned it ("Ready" unless the readiness probe timed out). */
  state: string;
  createMs: number;
  httpUrl: string;
  upper: string;
  /** Output of the daemon so far (stdout + stderr). */
  daemonOutput(): string;
  daemonAlive(): boolean;
  stop(): Promise<void>;
}

function spawnBin(bin: string, args: string[]) {
  const proc = Bun.spawn([bin, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const c of s) out += dec.decode(c, { stream: true });
  };
  void pump(proc.stdout as ReadableStream<Uint8Array>);
  void pump(proc.stderr as ReadableStream<Uint8Array>);
  const waitFor = async (pred: () => boolean, ms: number, what: string) => {
    const until = Date.now() + ms;
    while (!pred()) {
      if (proc.exitCode !== null) throw new Error(`${args[0]} exited (${proc.exitCode}) before ${what}:\n${out}`);
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}:\n${out}`);
      await Bun.sleep(25);
    }
  };
  const stop = async () => {
    if (proc.exitCode === null) proc.kill("SIGTERM");
    const code = await Promise.race([proc.exited, Bun.sleep(25_000).then(() => -1)]);
    if (code === -1) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  };
  return { proc, output: () => out, waitFor, stop };
}

function lazyUnmount(path: string): void {
  if (isMounted(path)) spawnSync("umount", ["-l", path]);
}

export async function startStack(bin = join(ROOT, "dist/scorpio")): Promise<Stack> {
  if (!existsSync(bin)) throw new Error(`${bin} not found (build it: bun build --compile --bytecode src/cli/scorpio.ts --outfile ${bin})`);
  const dir = mkdtempSync(join(tmpdir(), "scorpio-stress-"));
  const repo = makeSampleRepo(join(dir, "repo"));
  const dev = spawnBin(bin, ["devserver", "--repo", repo.path, "--addr", "127.0.0.1:0"]);
  let serve: ReturnType<typeof spawnBin> | undefined;
  const sb = writeServeConfig(join(dir, "sb"), "http://placeholder");
  const cleanup = async () => {
    await serve?.stop();
    await dev.stop();
    lazyUnmount(sb.workspace);
    const mnt = join(sb.dir, "antares/mnt");
    if (existsSync(mnt)) for (const d of readdirSync(mnt)) lazyUnmount(join(mnt, d));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await dev.waitFor(() => /http:\/\/127\.0\.0\.1:\d+/.test(dev.output()), 20_000, "the dev server URL");
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(dev.output())![0];
    writeServeConfig(sb.dir, url);
    serve = spawnBin(bin, ["serve", "-c", sb.configPath, "--http-addr", "127.0.0.1:0"]);
    await serve.waitFor(() => isMounted(sb.workspace) && existsSync(sb.stateFile) && readFileSync(sb.stateFile, "utf8").includes("http_addr"), 30_000, "the workspace mount");
    const addr = /http_addr\s*=\s*"([^"]+)"/.exec(readFileSync(sb.stateFile, "utf8"))![1];
    const t0 = performance.now();
    const r = await fetch(`http://${addr}/antares/mounts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ job_id: "stress", path: "/", cl: null }),
    });
    const j = (await r.json()) as any;
    const createMs = performance.now() - t0;
    if (!r.ok) throw new Error(`POST /antares/mounts → ${r.status} ${JSON.stringify(j)}`);
    const s = serve;
    return {
      dir,
      mountpoint: j.mountpoint,
      mountId: j.mount_id,
      state: String(j.state),
      createMs,
      httpUrl: `http://${addr}`,
      upper: join(sb.dir, "antares/upper", j.mount_id),
      daemonOutput: () => s.output(),
      daemonAlive: () => s.proc.exitCode === null,
      stop: cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

if (import.meta.main) {
  const i = process.argv.indexOf("--bin");
  const st = await startStack(i >= 0 ? process.argv[i + 1] : undefined);
  console.log(`state ${st.state} after ${st.createMs.toFixed(0)} ms\nmountpoint ${st.mountpoint}\nupper ${st.upper}\n(Ctrl-C to stop)`);
  let stopping = false;
  const end = async () => {
    if (stopping) return;
    stopping = true;
    await st.stop();
    process.exit(0);
  };
  process.on("SIGINT", end);
  process.on("SIGTERM", end);
  setInterval(() => {}, 1 << 30);
}
