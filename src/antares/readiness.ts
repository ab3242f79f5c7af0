/**
 * @module antares/readiness — "Ready" means the mount answers: the mountpoint is a different file
 * system than its parent and its root can be listed through FUSE (QUIRK 10.3.10: the original set
 * Ready right after mounting). Probes use asynchronous calls only — this process serves the mount.
 */
import { readdir, stat } from "node:fs/promises";
import { dirname } from "node:path";

export const READY_PROBE_TIMEOUT_MS = 10_000;

/** Resolves true once `mountpoint` answers a stat and a root listing, false after `timeoutMs`. */
export async function probeMount(mountpoint: string, timeoutMs = READY_PROBE_TIMEOUT_MS, signal?: AbortSignal): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  const parentDev = (await stat(dirname(mountpoint)).catch(() => null))?.dev;
  while (!signal?.aborted) {
    const left = until - Date.now();
    if (left <= 0) return false;
    const ok = await withTimeout(
      (async () => {
        const st = await stat(mountpoint);
        if (parentDev !== undefined && st.dev === parentDev) return false;
        await readdir(mountpoint);
        return true;
      })().catch(() => false),
      left,
    );
    if (ok) return true;
    await Bun.sleep(Math.min(50, Math.max(0, until - Date.now())));
  }
  return false;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | false> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([p, new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)))]).finally(() => clearTimeout(timer));
}
