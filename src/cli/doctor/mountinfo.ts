/**
 * @module cli/doctor/mountinfo — parses /proc/self/mountinfo (proc(5)) and finds stale FUSE mounts:
 * entries of type fuse* under the configured roots whose mountpoint answers stat with ENOTCONN
 * (the serving process died without unmounting).
 */
import { stat } from "node:fs/promises";

/** Mount table parsing is shared with the FUSE layer's own mount hygiene. */
export { parseMountinfo, listMounts, isFuseMount, type MountInfo } from "../../fuse/mount-hygiene.ts";
import { isFuseMount, type MountInfo } from "../../fuse/mount-hygiene.ts";

export function isUnder(path: string, root: string): boolean {
  const r = root.replace(/\/+$/, "") || "/";
  return path === r || path.startsWith(r === "/" ? "/" : r + "/");
}

/** fuse* mounts at or below any of `roots`. */
export function fuseMountsUnder(entries: MountInfo[], roots: string[]): MountInfo[] {
  return entries.filter((e) => isFuseMount(e) && roots.some((r) => isUnder(e.mountpoint, r)));
}

export type MountHealth = "live" | "stale" | "hung" | "error";

/**
 * Probes a FUSE mountpoint. A hung daemon would block stat forever, so the probe has a deadline and
 * reports `hung` instead of waiting.
 */
export async function probeMount(path: string, deadlineMs = 2000): Promise<{ health: MountHealth; detail?: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<{ health: MountHealth; detail?: string }>((resolve) => {
    timer = setTimeout(() => resolve({ health: "hung", detail: `no answer within ${deadlineMs / 1000}s` }), deadlineMs);
  });
  const probe = stat(path).then(
    () => ({ health: "live" as MountHealth }),
    (err: NodeJS.ErrnoException) =>
      err.code === "ENOTCONN" ? { health: "stale" as MountHealth } : { health: "error" as MountHealth, detail: err.message },
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
