/**
 * @module bench/memory/serve — serves `SyntheticFs` in its own process for bench/memory.ts.
 *
 *   bun bench/memory/serve.ts <mountpoint> <dirs> <files>
 *
 * attr/entry timeouts are 1 s. Prints "ready" once mounted; unmounts on SIGTERM/SIGINT.
 * SIGUSR2 prints one JSON line: RSS (from /proc/self/status), JSC heap stats, the lookup-count
 * counters and the live-inode count. SIGUSR1 does the same after `Bun.gc(true)`.
 */
import { readFileSync } from "node:fs";
import { heapStats } from "bun:jsc";
import { FuseSession } from "../../src/fuse/index.ts";
import { unmountOnExit } from "../../test/support/server-exit.ts";
import { SyntheticFs } from "./synthetic-fs.ts";

const [mountpoint, dirsArg, filesArg] = process.argv.slice(2);
if (!mountpoint || !dirsArg || !filesArg) {
  console.error("usage: serve <mountpoint> <dirs> <files>");
  process.exit(2);
}
const fs = new SyntheticFs(Number(dirsArg), Number(filesArg));

unmountOnExit();

function statusKiB(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) : NaN;
}

function report(gc: boolean): void {
  if (gc) Bun.gc(true);
  const h = heapStats();
  const opCounts: Record<string, number> = {};
  for (const [name, st] of Object.entries(session.stats)) if (st.count) opCounts[name] = st.count;
  console.log(JSON.stringify({
    rssKiB: statusKiB("VmRSS"),
    hwmKiB: statusKiB("VmHWM"),
    anonKiB: statusKiB("RssAnon"),
    fileKiB: statusKiB("RssFile"),
    extraMemorySize: h.extraMemorySize,
    heapSize: h.heapSize,
    heapCapacity: h.heapCapacity,
    objectCount: h.objectCount,
    liveInodes: fs.liveInodes,
    outstanding: fs.outstanding,
    ...fs.counters,
    opCounts,
  }));
}
process.on("SIGUSR2", () => report(false));
process.on("SIGUSR1", () => report(true));

const session = await FuseSession.mount(fs, {
  mountpoint,
  fsname: "synthetic",
  subtype: "synthetic",
  readOnly: true,
  attrTimeout: 1,
  entryTimeout: 1,
  extraOptions: process.env.FUSE_DEBUG ? ["debug"] : [],
});
console.log("ready");
await session.closed;
process.exit(0);
