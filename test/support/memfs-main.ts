/**
 * Test child process: mounts MemFs at argv[2] and serves until SIGTERM/SIGINT.
 * Prints "ready" on stdout once mounted; `stats` on stdout when sent SIGUSR2.
 */
import { FuseSession, unmountAll } from "../../src/fuse/index.ts";
import { MemFs } from "./memfs.ts";

const mountpoint = process.argv[2];
if (!mountpoint) {
  console.error("usage: memfs-main <mountpoint> [attrTimeout]");
  process.exit(2);
}
const timeout = Number(process.argv[3] ?? "1");
const fs = new MemFs({ slowMs: 20 });
const session = await FuseSession.mount(fs, { mountpoint, fsname: "memfs", subtype: "memfs", attrTimeout: timeout, entryTimeout: timeout, extraOptions: process.env.FUSE_DEBUG ? ["debug"] : [] });
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, async () => {
    await unmountAll();
    process.exit(0);
  });
}
process.on("SIGUSR2", () => {
  console.log(JSON.stringify({ inodes: fs.inodeCount, forgets: fs.forgets, stats: session.stats }));
});
console.log("ready");
await session.closed;
process.exit(0);
