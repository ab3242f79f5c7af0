/**
 * @module cli/doctor/mountinfo — parses /proc/self/mountinfo (proc(5)) and finds stale FUSE mounts:
 * entries of type fuse* under the configured roots whose mountpoint answers stat with ENOTCONN
 * (the serving process died without unmounting).
 */
import { randomUUID } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";

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
 * Probes a FUSE mountpoint. `stat(mountpoint)` alone can be answered from the kernel's attribute cache for
 * as long as the mount's TTL (a minute for job mounts) after the daemon died, so the probe looks up a
 * random name inside it: a name the kernel has never seen always goes to the daemon, and a dead one
 * answers ENOTCONN at once (a live one ENOENT). A hung daemon would block forever, so the probe has a
 * deadline and reports `hung` instead of waiting.
 */
export async function probeMount(path: string, deadlineMs = 2000): Promise<{ health: MountHealth; detail?: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<{ health: MountHealth; detail?: string }>((resolve) => {
    timer = setTimeout(() => resolve({ health: "hung", detail: `no answer within ${deadlineMs / 1000}s` }), deadlineMs);
  });
  const fresh = join(path, `.scorpio-doctor-probe-${randomUUID()}`);
  const probe = (async (): Promise<{ health: MountHealth; detail?: string }> => {
    try {
      await stat(path);
      await stat(fresh);
      return { health: "live" }; // the name exists after all: the daemon answered
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ENOTCONN") return { health: "stale" };
      // ENOENT for the random name is the daemon's answer: alive.
      if (e.code === "ENOENT" && e.path === fresh) return { health: "live" };
      return { health: "error", detail: e.message };
    }
  })();
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
