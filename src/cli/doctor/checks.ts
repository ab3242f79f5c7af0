/**
 * @module cli/doctor/checks — the environment checks of `scorpio doctor`, in output order.
 *
 * The original's checks (fuse device, /proc/filesystems, /etc/fuse.conf, writable directories, Mega
 * server) plus: libfuse3 loadable, fusermount3 setuid, stale FUSE mounts (fixable with --fix), free
 * disk, the LFS endpoint (lfs_url), and the running daemon's /health. The workspace check no longer fails while the daemon has
 * the workspace mounted (QUIRK 10.3.13). Critical failures decide the exit code.
 */
import { closeSync, existsSync, openSync, readFileSync, statSync, statfsSync, unlinkSync } from "node:fs";
import { delimiter, join } from "node:path";
import { chooseEngine } from "../../antares/engine.ts";
import { readRuntimeState, writeRuntimeState, type ScorpioConfig } from "../../config/index.ts";
import { defaultLfsUrl } from "../../config/url-check.ts";
import { createLfsClient } from "../../remote/lfs-client.ts";
import { dialableUrl } from "../../server/socket-addr.ts";
import { describeFetchError, isObject, pidAlive } from "../daemon-client.ts";
import { humanBytes } from "../format.ts";
import { formatFuseVersion, probeLibfuse, LIBFUSE_SONAME, MIN_FUSE_VERSION } from "./libfuse.ts";
import { fuseMountsUnder, isFuseMount, parseMountinfo, probeMount, type MountInfo } from "./mountinfo.ts";

export type CheckStatus = "ok" | "warn" | "fail";

export interface CheckResult {
  status: CheckStatus;
  name: string;
  detail: string;
  /** A failed critical check makes doctor exit 1. */
  critical: boolean;
}

export interface DoctorOptions {
  config: ScorpioConfig;
  env: Record<string, string | undefined>;
  fix: boolean;
  /** Deadline of each network probe. */
  networkDeadlineMs?: number;
}

const TAGS: Record<CheckStatus, string> = { ok: "[ OK ]", warn: "[WARN]", fail: "[FAIL]" };

export function renderCheck(r: CheckResult): string {
  return `${TAGS[r.status]} ${r.name}: ${r.detail}`;
}

const ok = (name: string, detail: string, critical = false): CheckResult => ({ status: "ok", name, detail, critical });
const warn = (name: string, detail: string): CheckResult => ({ status: "warn", name, detail, critical: false });
const fail = (name: string, detail: string): CheckResult => ({ status: "fail", name, detail, critical: true });

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

function checkFuseDevice(env: DoctorOptions["env"]): CheckResult {
  const name = "fuse device";
  const dev = env.SCORPIO_FUSE_DEVICE || "/dev/fuse";
  if (!existsSync(dev)) {
    return fail(name, `${dev} not found (load the \`fuse\` kernel module, or run in a FUSE-capable environment / container with --device /dev/fuse)`);
  }
  try {
    closeSync(openSync(dev, "r+"));
    return ok(name, `${dev} is present`, true);
  } catch (err) {
    const why = (err as Error).message;
    // Without root, fusermount3 (setuid) opens the device on our behalf, so this is not fatal.
    return isRoot() ? fail(name, `${dev} is present but cannot be opened: ${why}`) : warn(name, `${dev} is present but not openable by this user (${why}); mounts go through fusermount3`);
  }
}

function checkFuseFilesystem(): CheckResult {
  const name = "fuse filesystem";
  let text: string;
  try {
    text = readFileSync("/proc/filesystems", "utf8");
  } catch (err) {
    return warn(name, `could not read /proc/filesystems: ${(err as Error).message}`);
  }
  const listed = text.split("\n").some((l) => l.trim().split(/\s+/).at(-1) === "fuse");
  return listed ? ok(name, "kernel supports fuse") : warn(name, "`fuse` not listed in /proc/filesystems (the module may load on demand)");
}

function checkLibfuse(): CheckResult {
  return libfuseVerdict(probeLibfuse());
}

/** The verdict on a libfuse probe: the daemon's own minimum (fuse/version), so doctor and serve agree. */
export function libfuseVerdict(probe: ReturnType<typeof probeLibfuse>): CheckResult {
  const name = "libfuse3";
  if (!probe.ok) return fail(name, `${LIBFUSE_SONAME} could not be loaded: ${probe.error} (install the libfuse3-3 package)`);
  if (probe.version < MIN_FUSE_VERSION) {
    return fail(name, `${LIBFUSE_SONAME} is version ${formatFuseVersion(probe.version)}; ${formatFuseVersion(MIN_FUSE_VERSION)} or later is required`);
  }
  return ok(name, `${LIBFUSE_SONAME} loaded (version ${formatFuseVersion(probe.version)})`, true);
}

export function findInPath(cmd: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? "/usr/local/bin:/usr/bin:/bin").split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

function checkFusermount(env: DoctorOptions["env"]): CheckResult {
  const name = "fusermount3";
  const path = findInPath("fusermount3", env.PATH);
  if (!path) {
    return isRoot()
      ? warn(name, "not found in PATH (root mounts directly; install fuse3 for lazy-unmount fallback and unprivileged use)")
      : fail(name, "not found in PATH (install the fuse3 package; unprivileged mounts need it)");
  }
  const st = statSync(path);
  if ((st.mode & 0o4000) !== 0 && st.uid === 0) return ok(name, `${path} is installed setuid root`, !isRoot());
  return isRoot() ? ok(name, `${path} is installed (not setuid: only root can mount)`) : fail(name, `${path} is not setuid root, so this user cannot mount (chmod u+s ${path})`);
}

function checkFuseConf(): CheckResult {
  const name = "/etc/fuse.conf";
  let text: string;
  try {
    text = readFileSync("/etc/fuse.conf", "utf8");
  } catch {
    return warn(name, "not found (only needed for allow_other mounts)");
  }
  const enabled = text.split("\n").some((l) => !l.trim().startsWith("#") && l.trim() === "user_allow_other");
  return enabled ? ok(name, "user_allow_other is enabled") : warn(name, "user_allow_other not enabled (only needed for allow_other mounts)");
}

function unmountLazily(path: string): string | undefined {
  const attempts: string[][] = [["fusermount3", "-uz", path], ["umount", "-l", path]];
  const errors: string[] = [];
  for (const argv of attempts) {
    try {
      const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", timeout: 10_000 });
      if (r.exitCode === 0) return undefined;
      errors.push(`${argv[0]}: ${r.stderr.toString().trim() || `exit ${r.exitCode}`}`);
    } catch (err) {
      errors.push(`${argv[0]}: ${(err as Error).message}`);
    }
  }
  return errors.join("; ");
}

async function checkStaleMounts(roots: string[], fix: boolean, mounts: MountInfo[]): Promise<CheckResult[]> {
  const name = "stale mounts";
  const out: CheckResult[] = [];
  const stale: string[] = [];
  for (const m of fuseMountsUnder(mounts, roots)) {
    const probe = await probeMount(m.mountpoint);
    if (probe.health === "stale") stale.push(m.mountpoint);
    else if (probe.health === "hung") out.push(warn(name, `${m.mountpoint} does not answer (${probe.detail}); its daemon is busy or hung`));
  }
  if (stale.length === 0) {
    out.unshift(ok(name, `no stale FUSE mounts under ${roots.join(", ")}`, true));
    return out;
  }
  if (!fix) {
    out.unshift(fail(name, `${stale.length} stale FUSE mount(s) (transport endpoint not connected): ${stale.join(", ")}; run 'scorpio doctor --fix' to unmount them`));
    return out;
  }
  // Deepest first, so a stale parent does not hide its children.
  for (const p of [...stale].sort((a, b) => b.length - a.length)) {
    const error = unmountLazily(p);
    out.push(error ? fail(name, `could not unmount ${p}: ${error}`) : ok(name, `unmounted stale mount ${p}`, true));
  }
  return out;
}

let probeCounter = 0;

function checkDirectory(name: string, path: string, liveFuse: boolean): CheckResult {
  if (liveFuse) return ok(name, `${path} is mounted (served by the running daemon)`, true);
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return fail(name, code === "ENOENT" ? `${path}: does not exist` : `${path}: ${(err as Error).message}`);
  }
  if (!st.isDirectory()) return fail(name, `${path}: not a directory`);
  const probe = join(path, `.scorpio-doctor-probe.${process.pid}.${probeCounter++}`);
  try {
    closeSync(openSync(probe, "wx"));
    unlinkSync(probe);
  } catch (err) {
    return fail(name, `${path}: not writable: ${(err as Error).message}`);
  }
  return ok(name, `${path} is writable`, true);
}

function checkDisk(config: ScorpioConfig): CheckResult {
  const name = "disk space";
  try {
    const s = statfsSync(config.store_path);
    const free = Number(s.bavail) * Number(s.bsize);
    const total = Number(s.blocks) * Number(s.bsize);
    const detail = `${humanBytes(free)} free of ${humanBytes(total)} in ${config.store_path}`;
    const cacheMax = Number(config.cache_max_bytes ?? 0);
    if (cacheMax > 0 && free < cacheMax) return warn(name, `${detail} (less than cache_max_bytes = ${humanBytes(cacheMax)})`);
    if (free < 1024 ** 3) return warn(name, `${detail} (less than 1 GiB)`);
    return ok(name, detail);
  } catch (err) {
    return warn(name, `could not read free space of ${config.store_path}: ${(err as Error).message}`);
  }
}

async function checkMega(config: ScorpioConfig, deadlineMs: number): Promise<CheckResult> {
  const name = "mega server";
  const base = config.base_url;
  const url = `${base.replace(/\/+$/, "")}/api/v1/status`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(deadlineMs) });
    await res.arrayBuffer().catch(() => undefined);
    if (res.ok) return ok(name, `${base} reachable (HTTP ${res.status} on /api/v1/status)`);
    return warn(name, `${base} reachable but /api/v1/status answered HTTP ${res.status}`);
  } catch (err) {
    return warn(name, `${base} unreachable: ${describeFetchError(err, deadlineMs)}`);
  }
}

/** The LFS endpoint: a download batch for an object no server has must come back as a per-object answer. */
async function checkLfs(config: ScorpioConfig, deadlineMs: number): Promise<CheckResult> {
  const name = "lfs server";
  const lfsUrl = config.lfs_url;
  const client = createLfsClient({ lfsUrl, requestTimeoutMs: deadlineMs, maxRetries: 0 });
  const probe = await client.probe();
  if (probe.ok) return ok(name, `${lfsUrl} answers the Git LFS batch API`);
  const derived = defaultLfsUrl(config.base_url);
  const hint = lfsUrl === derived ? "" : ` (Mega serves LFS at ${derived}: unset lfs_url to use it)`;
  return warn(name, `${lfsUrl}/objects/batch: ${probe.error ?? `HTTP ${probe.status}`}${hint}`);
}

interface DaemonProbe {
  result: CheckResult;
  running: boolean;
}

async function checkDaemon(config: ScorpioConfig, fix: boolean, deadlineMs: number): Promise<DaemonProbe> {
  const name = "daemon";
  let record;
  try {
    record = readRuntimeState(config.config_file).daemon;
  } catch (err) {
    return { running: false, result: warn(name, `cannot read state file ${config.config_file}: ${(err as Error).message}`) };
  }
  if (!record) return { running: false, result: ok(name, "not running (start it with 'scorpio serve')") };
  let url: string;
  try {
    url = dialableUrl(record.http_addr);
  } catch {
    return { running: false, result: warn(name, `state file ${config.config_file} records an invalid address '${record.http_addr}'`) };
  }
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(deadlineMs) });
    const body: unknown = await res.json().catch(() => undefined);
    if (res.ok && isObject(body)) {
      const version = typeof body.version === "string" ? `, version ${body.version}` : "";
      const status = String(body.status ?? "unknown");
      const result = status === "ok" || status === "healthy" ? ok(name, `running at ${url} (pid ${record.pid}${version}, status ${status})`) : warn(name, `running at ${url} (pid ${record.pid}${version}) but reports status ${status}`);
      return { running: true, result };
    }
    return { running: true, result: warn(name, `${url}/health answered HTTP ${res.status}`) };
  } catch (err) {
    const why = describeFetchError(err, deadlineMs);
    if (!pidAlive(record.pid)) {
      if (fix) {
        try {
          const state = readRuntimeState(config.config_file);
          const { daemon: _gone, ...rest } = state;
          writeRuntimeState(config.config_file, rest);
          return { running: false, result: ok(name, `removed the record of exited daemon pid ${record.pid} from ${config.config_file}`) };
        } catch (e) {
          return { running: false, result: warn(name, `could not remove the stale daemon record: ${(e as Error).message}`) };
        }
      }
      return { running: false, result: warn(name, `state file records pid ${record.pid} at ${record.http_addr}, which has exited; run 'scorpio doctor --fix' to clear it`) };
    }
    return { running: false, result: warn(name, `pid ${record.pid} is alive but ${url}/health does not answer: ${why}`) };
  }
}

/** Which engine job mounts get here and why (the daemon makes the same decision at start). */
export async function checkOverlayEngine(config: ScorpioConfig): Promise<CheckResult> {
  const name = "job mount engine";
  const c = await chooseEngine(config);
  const detail = `${c.engine} (${c.reason})`;
  if (c.unusable) return fail(name, `${detail}; creates will fail: set antares_overlay_engine = "auto" or fix the cause`);
  if (c.engine === "fuse-overlay" && config.antares_overlay_engine === "auto") return warn(name, `${detail}; writes in job mounts go through the daemon (slower than kernel overlayfs)`);
  return ok(name, detail);
}

function readMountinfo(): MountInfo[] {
  try {
    return parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
  } catch {
    return [];
  }
}

/** Runs every check; results are in output order. */
export async function runDoctorChecks(opts: DoctorOptions): Promise<CheckResult[]> {
  const { config, env, fix } = opts;
  const deadline = opts.networkDeadlineMs ?? 2000;
  const results: CheckResult[] = [];
  results.push(checkFuseDevice(env), checkFuseFilesystem(), checkLibfuse(), checkFusermount(env), checkFuseConf());

  const roots = [config.workspace, config.antares_mount_root];
  results.push(...(await checkStaleMounts(roots, fix, readMountinfo())));

  // Probed before the directories: a running daemon's workspace is a read-only FUSE root, and
  // that is healthy, not a failed write probe.
  const daemon = await checkDaemon(config, fix, deadline);
  const mountsNow = readMountinfo();
  const workspaceLive =
    daemon.running && mountsNow.some((m) => isFuseMount(m) && m.mountpoint === config.workspace.replace(/\/+$/, ""));
  const dirs: Array<[string, string]> = [
    ["workspace", config.workspace],
    ["store_path", config.store_path],
    ["antares_upper_root", config.antares_upper_root],
    ["antares_cl_root", config.antares_cl_root],
    ["antares_mount_root", config.antares_mount_root],
  ];
  for (const [name, path] of dirs) results.push(checkDirectory(name, path, name === "workspace" && workspaceLive));

  results.push(checkDisk(config), await checkOverlayEngine(config), await checkMega(config, deadline), await checkLfs(config, deadline), daemon.result);
  return results;
}
