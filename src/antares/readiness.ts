/**
 * @module antares/readiness — "Ready" means the mount answers: the mountpoint is a different file
 * system than its parent and its root can be listed through FUSE (QUIRK 10.3.10: the original set
 * Ready right after mounting). Probes run in a child process: this process serves the mount, and a
 * request to itself in flight when it is killed would keep it from ever exiting.
 */
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import { runHelper } from "./kernel-overlay.ts";

/** Exit 0 when "$1" is another file system than its parent (device $2) and its root lists. */
const PROBE_SCRIPT = '[ "$(stat -c %d -- "$1")" != "$2" ] && ls -a -- "$1" >/dev/null';

export const READY_PROBE_TIMEOUT_MS = 10_000;

/** Resolves true once `mountpoint` answers a stat and a root listing, false after `timeoutMs`. */
export async function probeMount(mountpoint: string, timeoutMs = READY_PROBE_TIMEOUT_MS, signal?: AbortSignal): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  const parentDev = (await stat(dirname(mountpoint)).catch(() => null))?.dev;
  while (!signal?.aborted) {
    const left = until - Date.now();
    if (left <= 0) return false;
    const ok = await runHelper(["sh", "-c", PROBE_SCRIPT, "sh", mountpoint, String(parentDev ?? -1)], left).then(
      () => true,
      () => false,
    );
    if (ok) return true;
    await Bun.sleep(Math.min(50, Math.max(0, until - Date.now())));
  }
  return false;
}
