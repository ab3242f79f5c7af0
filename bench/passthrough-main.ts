/**
 * @module bench/passthrough-main — serves `PassthroughFs` in its own process for the benches.
 *
 *   bun bench/passthrough-main.ts <source> <mountpoint> [--timeout N] [--cache never|auto|always]
 *                                 [--spin MICROS] [--batch N] [--splice] [--no-snapshot-reuse]
 *
 * --timeout sets attrTimeout/entryTimeout (default 1 = the binding's defaults); --cache defaults to
 * "never" for timeout 0 and "auto" otherwise, as passthrough_ll pairs them. Prints "ready" once
 * mounted; unmounts on SIGTERM/SIGINT. SIGUSR2 prints the session's per-op stats as one JSON line.
 */
import { FuseSession } from "../src/fuse/index.ts";
import { unmountOnExit } from "../test/support/server-exit.ts";
import { PassthroughFs, type CacheMode } from "./passthrough.ts";

const args = process.argv.slice(2);
const positional: string[] = [];
const flags = new Map<string, string>();
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === "--splice" || a === "--no-snapshot-reuse") flags.set(a, "1");
  else if (a.startsWith("--")) flags.set(a, args[++i] ?? "");
  else positional.push(a);
}
const [source, mountpoint] = positional;
if (!source || !mountpoint) {
  console.error("usage: passthrough-main <source> <mountpoint> [--timeout N] [--cache never|auto|always] [--spin MICROS] [--batch N] [--splice] [--no-snapshot-reuse]");
  process.exit(2);
}
const timeout = Number(flags.get("--timeout") ?? "1");
const cache = (flags.get("--cache") ?? (timeout === 0 ? "never" : "auto")) as CacheMode;
if (!["never", "auto", "always"].includes(cache) || !(timeout >= 0)) {
  console.error("bad --timeout or --cache");
  process.exit(2);
}

const pfs = new PassthroughFs(source, { timeout, cache, reuseSnapshots: !flags.has("--no-snapshot-reuse") });
let session: FuseSession | undefined;
unmountOnExit();
process.on("SIGUSR2", () => {
  console.log(JSON.stringify({ inodes: pfs.inodeCount, counts: pfs.counts, stats: session?.stats ?? {}, dispatch: session?.dispatch }));
});

session = await FuseSession.mount(pfs, {
  mountpoint,
  fsname: `passthrough:${source}`,
  subtype: "passthrough-bun",
  attrTimeout: timeout,
  entryTimeout: timeout,
  spinMicros: flags.has("--spin") ? Number(flags.get("--spin")) : undefined,
  maxBatch: flags.has("--batch") ? Number(flags.get("--batch")) : undefined,
  splice: flags.has("--splice"),
  extraOptions: process.env.FUSE_DEBUG ? ["debug"] : [],
});
console.log("ready");
await session.closed;
process.exit(0);
