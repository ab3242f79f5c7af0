/**
 * @module antares/warm-walk — the best-effort background walk over a new mount (through FUSE) that
 * fills the kernel's dentry/attr caches (§5.4.5). Parallel BFS bounded by depth, time and a worker
 * count, configured by `ANTARES_DEEP_PRELOAD_*`; cancellable (delete, CL change, shutdown). It never
 * affects readiness. The walk runs in a child process: the daemon serves the mount it walks.
 */
import { availableParallelism } from "node:os";
import { logger } from "../util/log.ts";

const log = logger("antares/warm");

export type WarmMode = "scan_only" | "dirs_only" | "hotset" | "full";

export interface WarmWalkConfig {
  mode: WarmMode;
  workers: number;
  maxMs: number;
  maxDepth: number;
}

export interface WarmWalkStats {
  entries_visited: number;
  metadata_touches: number;
  budget_exhausted: boolean;
  cancelled: boolean;
  elapsed_ms: number;
}

const HOT_FILES = new Set(["BUCK", "BUCK.v2", "BUILD", "BUILD.bazel", "PACKAGE", "TARGETS", "TARGETS.v2", "WORKSPACE", "WORKSPACE.bazel", ".buckconfig"]);

function isHotFile(name: string): boolean {
  return HOT_FILES.has(name) || name.endsWith(".bzl") || name.endsWith(".bxl");
}

function intEnv(env: Record<string, string | undefined>, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined) return def;
  const n = Number(raw.trim());
  if (!Number.isInteger(n)) {
    log.warn(`invalid ${name}='${raw}'; using ${def}`);
    return def;
  }
  return Math.min(max, Math.max(min, n));
}

/** Reads `ANTARES_DEEP_PRELOAD_{MODE,WORKERS,MAX_MS,MAX_DEPTH}` with the original's defaults and ranges. */
export function warmWalkConfigFromEnv(env: Record<string, string | undefined> = process.env): WarmWalkConfig {
  const raw = env.ANTARES_DEEP_PRELOAD_MODE;
  let mode: WarmMode = "scan_only";
  if (raw !== undefined) {
    const m = raw.trim().toLowerCase();
    if (m === "" || m === "hotset") mode = "hotset";
    else if (m === "scan" || m === "scan_only" || m === "readdirplus") mode = "scan_only";
    else if (m === "dirs" || m === "dirs_only") mode = "dirs_only";
    else if (m === "full") mode = "full";
    else log.warn(`invalid ANTARES_DEEP_PRELOAD_MODE='${raw}'; using scan_only`);
  }
  const cpus = Math.min(8, Math.max(2, availableParallelism()));
  return {
    mode,
    workers: intEnv(env, "ANTARES_DEEP_PRELOAD_WORKERS", cpus, 1, 64),
    maxMs: intEnv(env, "ANTARES_DEEP_PRELOAD_MAX_MS", 8000, 0, 120_000),
    maxDepth: intEnv(env, "ANTARES_DEEP_PRELOAD_MAX_DEPTH", 4, 0, 64),
  };
}

/** The `find` expression selecting the entries whose metadata the walk touches (a `stat`), per mode. */
function touchExpression(mode: WarmMode): string[] | null {
  if (mode === "scan_only") return null;
  if (mode === "full") return ["-true"];
  const hot = [...HOT_FILES].flatMap((n) => ["-o", "-name", n]).concat(["-o", "-name", "*.bzl", "-o", "-name", "*.bxl"]);
  return mode === "dirs_only" ? ["-type", "d"] : ["(", "-type", "d", ...hot, ")"];
}

/** The argv of the child that walks `root` (exported for tests). */
export function warmWalkArgv(root: string, cfg: Pick<WarmWalkConfig, "mode" | "maxDepth">): string[] {
  const touch = touchExpression(cfg.mode);
  // `%m` needs a stat of the entry (a metadata touch); a plain line needs only the directory listing.
  const print = touch ? ["(", ...touch, "-printf", "t%m\\n", "-o", "-printf", "e\\n", ")"] : ["-printf", "e\\n"];
  return ["find", root, "-mindepth", "1", "-maxdepth", String(cfg.maxDepth), ...print];
}

/**
 * Walks `root` until done, out of budget, or `signal` fires. Never throws. The walk runs in a child
 * process (`find`): a request this daemon must answer for itself would, if it were in flight when the
 * daemon is killed, keep the dying daemon from ever exiting (FUSE waits for the answer uninterruptibly).
 * One walker: `workers` is not used by the child.
 */
export async function warmWalk(root: string, cfg: WarmWalkConfig, signal: AbortSignal): Promise<WarmWalkStats> {
  const started = Date.now();
  const stats: WarmWalkStats = { entries_visited: 0, metadata_touches: 0, budget_exhausted: false, cancelled: false, elapsed_ms: 0 };
  if (cfg.maxDepth > 0 && !signal.aborted) {
    let proc: ReturnType<typeof Bun.spawn> | null = null;
    try {
      proc = Bun.spawn(warmWalkArgv(root, cfg), { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
    } catch (err) {
      log.debug("warm walk could not start", { root, error: err as Error });
    }
    if (proc) {
      const child = proc;
      const stop = () => child.kill("SIGKILL");
      signal.addEventListener("abort", stop, { once: true });
      const timer = cfg.maxMs > 0 ? setTimeout(() => ((stats.budget_exhausted = true), stop()), cfg.maxMs) : undefined;
      try {
        const out = await new Response(child.stdout as ReadableStream<Uint8Array>).text();
        for (const line of out.split("\n")) {
          if (line === "") continue;
          stats.entries_visited++;
          if (line.startsWith("t")) stats.metadata_touches++;
        }
        await child.exited;
      } catch {
        // Best effort.
      } finally {
        clearTimeout(timer);
        signal.removeEventListener("abort", stop);
      }
    }
  }
  stats.cancelled = signal.aborted;
  stats.elapsed_ms = Date.now() - started;
  return stats;
}
