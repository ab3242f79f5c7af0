/**
 * @module cli/doctor/mountinfo — parses /proc/self/mountinfo (proc(5)) and finds stale FUSE mounts:
 * entries of type fuse* under the configured roots whose mountpoint answers stat with ENOTCONN
 * (the serving process died without unmounting).
 */
import { stat } from "node:fs/promises";

export interface MountEntry {
  mountId: number;
  mountPoint: string;
  fsType: string;
  source: string;
}

/** The kernel escapes space, tab, newline and backslash in paths as octal (`\040`). */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses mountinfo text; malformed lines are skipped. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const fields = line.split(" ");
    const sep = fields.indexOf("-", 6);
    if (fields.length < 10 || sep < 0 || sep + 2 >= fields.length) continue;
    out.push({
      mountId: Number(fields[0]),
      mountPoint: unescapeOctal(fields[4]!),
      fsType: fields[sep + 1]!,
      source: unescapeOctal(fields[sep + 2]!),
    });
  }
  return out;
}

export function isUnder(path: string, root: string): boolean {
  const r = root.replace(/\/+$/, "") || "/";
  return path === r || path.startsWith(r === "/" ? "/" : r + "/");
}

/** fuse* mounts at or below any of `roots`. */
export function fuseMountsUnder(entries: MountEntry[], roots: string[]): MountEntry[] {
  return entries.filter((e) => e.fsType.startsWith("fuse") && e.fsType !== "fusectl" && roots.some((r) => isUnder(e.mountPoint, r)));
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
