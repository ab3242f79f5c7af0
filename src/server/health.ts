/**
 * @module server/health — what `/health` reports. Services register named checks; each returns a problem
 * (a sentence for an operator) or nothing. Any problem makes the daemon `degraded` and is listed in
 * `reasons`; checks must be cheap and synchronous because probes call /health every few seconds.
 */
import { statfsSync } from "node:fs";
import { remoteReachability } from "../util/metrics.ts";

export interface HealthReason {
  /** The check's name, stable for alerting rules: `remote`, `store_disk`, `workspace_mount`, `job_mounts`, ... */
  check: string;
  message: string;
}

/** Returns a problem description, or undefined when healthy. */
export type HealthCheck = () => string | undefined;

export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();

  /** Adds (or replaces) the check `name`; returns a function that removes it. */
  register(name: string, check: HealthCheck): () => void {
    this.checks.set(name, check);
    return () => {
      if (this.checks.get(name) === check) this.checks.delete(name);
    };
  }

  /** Every current problem, in registration order. A check that throws is itself a problem. */
  evaluate(): HealthReason[] {
    const reasons: HealthReason[] = [];
    for (const [check, fn] of this.checks) {
      let message: string | undefined;
      try {
        message = fn();
      } catch (err) {
        message = `health check failed: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (message) reasons.push({ check, message });
    }
    return reasons;
  }
}

/** The Mega server is down as far as the last request could tell (network error, timeout or 5xx). */
export function remoteCheck(baseUrl: string): HealthCheck {
  return () => {
    const r = remoteReachability();
    if (!r || r.reachable) return undefined;
    const ago = Math.round((Date.now() - r.atMs) / 1000);
    return `Mega server ${baseUrl} unreachable: ${r.error ?? "no answer"} (last request ${ago}s ago)`;
  };
}

/** Below this much free space the store cannot take a typical blob plus its metadata. */
export const STORE_DISK_MIN_FREE_BYTES = 64 * 1024 ** 2;

/** The file system holding the store is (nearly) full: downloads cannot be cached, reads fail. */
export function storeDiskCheck(storePath: string, minFreeBytes = STORE_DISK_MIN_FREE_BYTES): HealthCheck {
  return () => {
    const s = statfsSync(storePath);
    const free = s.bavail * s.bsize;
    if (free >= minFreeBytes) return undefined;
    // No path in the text: /health answers without a token.
    return `store disk full: ${free} bytes free on the store's file system (need at least ${minFreeBytes})`;
  };
}

/** The minimum of a mount status these checks read (Antares `MountStatus`). */
export interface MountStateView {
  mount_id: string;
  job_id: string | null;
  state: string | { Failed: { reason: string } };
}

/** Some job mounts are in the Failed state (recovery or an unmount/CL swap failed). */
export function jobMountsCheck(list: () => readonly MountStateView[]): HealthCheck {
  return () => {
    const failed = list().filter((m) => typeof m.state === "object");
    if (failed.length === 0) return undefined;
    const shown = failed.slice(0, 3).map((m) => {
      const reason = typeof m.state === "object" ? m.state.Failed.reason : "";
      return `${m.mount_id}${m.job_id ? ` (job ${m.job_id})` : ""}: ${reason}`;
    });
    return `${failed.length} job mount(s) failed: ${shown.join("; ")}${failed.length > 3 ? "; ..." : ""}`;
  };
}

/** Job mount counts by lifecycle state, for the `scorpio_job_mounts` metric. */
export function countByState(list: readonly MountStateView[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of list) {
    const state = typeof m.state === "object" ? "Failed" : m.state;
    out[state] = (out[state] ?? 0) + 1;
  }
  return out;
}

/** A FUSE mount the daemon serves ended while the daemon was not stopping (fusermount -u, abort, crash). */
export function mountAliveCheck(what: string, closed: Promise<void>, stopping: () => boolean): HealthCheck {
  let ended = false;
  void closed.then(() => (ended = true));
  return () => (ended && !stopping() ? `${what} is no longer mounted (unmounted from outside or aborted); restart the daemon` : undefined);
}
