/**
 * @module antares/readiness — "Ready" means the mount answers: the mountpoint is a different file
 * system than its parent and its root can be listed through FUSE (QUIRK 10.3.10: the original set
 * Ready right after mounting). Probes run in a child process: this process serves the mount, and a
 * request to itself in flight when it is killed would keep it from ever exiting.
 */
import { stat } from "node:fs/promises";
import { dirname } from "node:path";

export const READY_PROBE_TIMEOUT_MS = 10_000;

/**
 * One child (`find`): prints the device of the mountpoint and reads its root listing; true when it
 * exits 0 and the device is not the parent's (something is mounted there).
 */
async function probeOnce(mountpoint: string, parentDev: number | undefined, timeoutMs: number): Promise<boolean> {
  // The root's device (one stat), then its listing: stop at the first entry (children are not stat'ed).
  const self = mountpoint.replace(/[[\]*?\\]/g, "\\$&");
  const argv = ["find", mountpoint, "-maxdepth", "1", "(", "-path", self, "-printf", "0 %D\\n", ")", "-o", "-quit"];
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  try {
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    const root = /^0 (\d+)$/m.exec(out);
    return code === 0 && root !== null && (parentDev === undefined || Number(root[1]) !== parentDev);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves true once `mountpoint` answers a stat and a root listing, false after `timeoutMs`. */
export async function probeMount(mountpoint: string, timeoutMs = READY_PROBE_TIMEOUT_MS, signal?: AbortSignal): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  const parentDev = (await stat(dirname(mountpoint)).catch(() => null))?.dev;
  while (!signal?.aborted) {
    const left = until - Date.now();
    if (left <= 0) return false;
    if (await probeOnce(mountpoint, parentDev, left)) return true;
    await Bun.sleep(Math.min(50, Math.max(0, until - Date.now())));
  }
  return false;
}
