/**
 * Test child process: mounts MemFs at argv[2] and serves until SIGTERM/SIGINT.
 * argv[3]: attr/entry timeout in seconds (default 1).
 * Prints "ready" once mounted. SIGUSR2 prints stats as one JSON line. SIGUSR1 changes
 * "notify.txt" behind the kernel's back, invalidates the kernel caches, then prints one JSON line.
 * SCORPIO_TEST_GC=1 forces a full GC every 20 ms (a soak for native-memory lifetime bugs).
 * SCORPIO_TEST_SPIN=<µs> sets the session's spin window (0 = never busy-poll; default: the binding's).
 */
import { existsSync, readFileSync } from "node:fs";
import { FuseSession } from "../../src/fuse/index.ts";
import { unmountOnExit } from "./server-exit.ts";
import { MemFs } from "./memfs.ts";

const mountpoint = process.argv[2];
if (!mountpoint) {
  console.error("usage: memfs-main <mountpoint> [timeout-seconds]");
  process.exit(2);
}
const timeout = Number(process.argv[3] ?? "1");
const fs = new MemFs({ slowMs: 20 });
const session = await FuseSession.mount(fs, {
  mountpoint,
  fsname: "memfs",
  subtype: "memfs",
  attrTimeout: timeout,
  entryTimeout: timeout,
  spinMicros: process.env.SCORPIO_TEST_SPIN ? Number(process.env.SCORPIO_TEST_SPIN) : undefined,
  extraOptions: process.env.FUSE_DEBUG ? ["debug"] : [],
});
unmountOnExit();
process.on("SIGUSR2", () => {
  // Inodes listed (comma-separated) in SCORPIO_TEST_WATCH_INOS_FILE are reported as live or not.
  const file = process.env.SCORPIO_TEST_WATCH_INOS_FILE;
  const watched = (file && existsSync(file) ? readFileSync(file, "utf8") : "")
    .split(",").filter(Boolean).map(Number);
  const live = watched.filter((ino: number) => fs.isLive(ino));
  console.log(JSON.stringify({ inodes: fs.inodeCount, forgets: fs.forgets, live, stats: session.stats, dispatch: session.dispatch }));
});
let generation = 0;
process.on("SIGUSR1", async () => {
  const { ino } = fs.changeBehindKernel("notify.txt", `generation ${++generation} ${"x".repeat(generation)}\n`);
  await session.invalidateInode(ino);
  await session.invalidateEntry(1, "notify.txt");
  console.log(JSON.stringify({ ino, generation }));
});
if (process.env.SCORPIO_TEST_GC === "1") setInterval(() => Bun.gc(true), 20);
console.log("ready");
await session.closed;
process.exit(0);
