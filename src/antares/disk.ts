/**
 * @module antares/disk — how full the upper root's filesystem is (admission control and /health),
 * and how much disk a job's layer directories hold (`scorpio du`).
 */
import { statfsSync } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { DiskUse } from "./model.ts";

export interface DiskLimits {
  warnPercent: number;
  maxPercent: number;
}

/**
 * Use of the filesystem holding `path`, as `df` counts it: used / (used + available to
 * unprivileged users), so the reserved blocks of ext4 count as used. Synchronous: statfs of a host
 * directory is one cheap syscall, and /health answers from it.
 */
export function diskUse(path: string, limits: DiskLimits): DiskUse {
  const s = statfsSync(path);
  const used = (s.blocks - s.bfree) * s.bsize;
  const avail = s.bavail * s.bsize;
  const denominator = used + avail;
  const usedPercent = denominator === 0 ? 0 : Math.round((used / denominator) * 1000) / 10;
  const level = usedPercent > limits.maxPercent ? "full" : usedPercent > limits.warnPercent ? "warn" : "ok";
  return { path, used_percent: usedPercent, total_bytes: s.blocks * s.bsize, free_bytes: avail, warn_percent: limits.warnPercent, max_percent: limits.maxPercent, level };
}

/**
 * Bytes allocated on disk under `dir` (st_blocks × 512, like `du`), hard links counted once;
 * 0 when it does not exist. Asynchronous: never stalls the thread that serves the FUSE views.
 */
export async function dirUsage(dir: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (p: string): Promise<void> => {
    const st = await lstat(p).catch(() => null);
    if (!st) return;
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    total += st.blocks * 512;
    if (!st.isDirectory()) return;
    const names = await readdir(p).catch(() => [] as string[]);
    for (const n of names) await walk(join(p, n));
  };
  await walk(dir);
  return total;
}
