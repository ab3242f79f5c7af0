/**
 * Test child process: serves one or more overlays over ONE Dicfuse view of a dev server, until
 * SIGTERM/SIGINT. argv[2] is a JSON config:
 *   { baseUrl, storeDir, mounts: [{ mountpoint, upperDir, clDir? }], whiteoutFormat?, controlFile?,
 *     allowOther?, viewMountpoint? }
 * (`viewMountpoint`: also mounts the read-only Dicfuse view itself there.)
 * Prints "ready" once every overlay is mounted.
 * SIGUSR1: reads `controlFile` ({ index, clDir }), swaps that mount's CL layer, prints one JSON line.
 * SIGUSR2: prints one JSON line of stats per mount ({ referenced, inodes, openFiles, format }).
 */
import { readFileSync } from "node:fs";
import { DicfuseView, mountDicfuse, type DicfuseMount } from "../../src/dicfuse/index.ts";
import { unmountOnExit } from "./server-exit.ts";
import { mountOverlay, type OverlayMount, type WhiteoutFormat } from "../../src/overlay/index.ts";
import { createMegaClient } from "../../src/remote/index.ts";
import { ObjectStore, openLocalStore } from "../../src/store/index.ts";

interface Config {
  baseUrl: string;
  storeDir: string;
  mounts: Array<{ mountpoint: string; upperDir: string; clDir?: string | null }>;
  whiteoutFormat?: WhiteoutFormat;
  controlFile?: string;
  allowOther?: boolean;
  viewMountpoint?: string;
}

const config = JSON.parse(process.argv[2] ?? "{}") as Config;
const store = await openLocalStore({ path: config.storeDir, cacheMaxBytes: 1 << 30, fsyncBlobs: false });
const client = createMegaClient({ baseUrl: config.baseUrl, requestTimeoutMs: 10_000, maxRetries: 1 });
const view = new DicfuseView(store, new ObjectStore(store.blobs, store.trees, client), {
  basePath: "/",
  replyTtlSecs: 1,
  statMode: "accurate",
  loadDirDepth: 0,
  watchIntervalMs: 0,
  negativeTtlSecs: 1,
});
const mounts: OverlayMount[] = [];
for (const m of config.mounts) {
  mounts.push(await mountOverlay({ mountpoint: m.mountpoint, upperDir: m.upperDir, clDir: m.clDir ?? null, lower: view, allowOther: config.allowOther ?? false, ...(config.whiteoutFormat ? { whiteoutFormat: config.whiteoutFormat } : {}) }));
}
const viewMount: DicfuseMount | null = config.viewMountpoint ? await mountDicfuse(view, { mountpoint: config.viewMountpoint, allowOther: config.allowOther ?? false }) : null;
unmountOnExit(() => store.close());
process.on("SIGUSR1", async () => {
  const req = JSON.parse(readFileSync(config.controlFile!, "utf8")) as { index: number; clDir: string | null };
  await mounts[req.index]!.setClDir(req.clDir);
  console.log(JSON.stringify({ ok: true, clDir: req.clDir }));
});
process.on("SIGUSR2", () => {
  console.log(JSON.stringify(mounts.map((m) => ({ referenced: m.fs.table.referenced, inodes: m.fs.table.size, openFiles: m.fs.openFiles, format: m.fs.whiteoutFormat }))));
});
console.log("ready");
await Promise.all([...mounts.map((m) => m.session.closed), ...(viewMount ? [viewMount.session.closed] : [])]);
process.exit(0);
