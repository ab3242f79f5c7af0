/**
 * @module antares/warm-walk — the best-effort background walk over a new mount (through FUSE) that
 * fills the kernel's dentry/attr caches (§5.4.5). Parallel BFS bounded by depth, time and a worker
 * count, configured by `ANTARES_DEEP_PRELOAD_*`; cancellable (delete, CL change, shutdown). It never
 * affects readiness. Every file-system call is asynchronous: the daemon serves the mount it walks.
 */
import { readdir, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
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

/** Walks `root` until done, out of budget, or `signal` fires. Never throws. */
export async function warmWalk(root: string, cfg: WarmWalkConfig, signal: AbortSignal): Promise<WarmWalkStats> {
  const started = Date.now();
  const stats: WarmWalkStats = { entries_visited: 0, metadata_touches: 0, budget_exhausted: false, cancelled: false, elapsed_ms: 0 };
  const queue: Array<{ dir: string; depth: number }> = [{ dir: root, depth: 0 }];
  const outOfBudget = () => cfg.maxMs > 0 && Date.now() - started > cfg.maxMs;
  let active = 0;
  let parked: Array<() => void> = [];
  const wakeAll = () => {
    const w = parked;
    parked = [];
    for (const f of w) f();
  };

  const worker = async () => {
    for (;;) {
      if (signal.aborted) return;
      if (outOfBudget()) {
        stats.budget_exhausted = true;
        return;
      }
      const item = queue.shift();
      if (!item) {
        if (active === 0) return;
        await new Promise<void>((r) => parked.push(r));
        continue;
      }
      active++;
      try {
        const entries = await readdir(item.dir, { withFileTypes: true });
        for (const e of entries) {
          if (signal.aborted) break;
          stats.entries_visited++;
          const p = join(item.dir, e.name);
          const isDir = e.isDirectory();
          const touch = cfg.mode === "full" || (isDir && cfg.mode !== "scan_only") || (cfg.mode === "hotset" && !isDir && isHotFile(e.name));
          if (touch) {
            await stat(p).catch(() => {});
            stats.metadata_touches++;
          }
          if (isDir && item.depth + 1 < cfg.maxDepth) queue.push({ dir: p, depth: item.depth + 1 });
        }
      } catch {
        // Best effort: a vanished or unreadable directory is skipped.
      } finally {
        active--;
        wakeAll();
      }
    }
  };
  if (cfg.maxDepth > 0) await Promise.all(Array.from({ length: cfg.workers }, worker));
  stats.cancelled = signal.aborted;
  stats.elapsed_ms = Date.now() - started;
  return stats;
}
