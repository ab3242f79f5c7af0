/**
 * @module server/workspace — the services of `scorpio serve`: opens the process's read path (object
 * store over `store_path`, Mega client), mounts the whole-repository Dicfuse view at `workspace`,
 * keeps it following the server (change watcher + kernel invalidations), pre-loads directories and
 * prefetches configured globs in the background, and serves the cache and prefetch routes. Unmounts
 * and closes everything on stop.
 */
import { Elysia, t } from "elysia";
import { mountSettings, type ScorpioConfig } from "../config/index.ts";
import { ChangeWatcher, mountDicfuse, openReadPath, type DicfuseMount, type DicfuseView, type ReadPath } from "../dicfuse/index.ts";
import { createMegaClient, type MegaClient } from "../remote/index.ts";
import { ROOT_INO, type LocalStore } from "../store/index.ts";
import { logger } from "../util/log.ts";
import { HealthRegistry } from "./health.ts";
import { HttpError } from "./http-error.ts";
import { globProblem } from "../config/kinds.ts";
import type { DaemonServices, ServicesFactory } from "./services.ts";

const log = logger("server/workspace");

export function megaClientFor(config: ScorpioConfig): MegaClient {
  return createMegaClient({
    baseUrl: config.base_url,
    requestTimeoutMs: config.dicfuse_fetch_dir_timeout_secs * 1000,
    connectTimeoutMs: config.dicfuse_connect_timeout_secs * 1000,
    // The original treats 0 retries as one attempt; our client counts extra attempts.
    maxRetries: Math.max(0, config.dicfuse_fetch_dir_max_retries - 1),
    concurrency: config.fetch_file_thread,
  });
}

export interface Workspace {
  readonly readPath: ReadPath;
  readonly store: LocalStore;
  readonly client: MegaClient;
  readonly view: DicfuseView;
  readonly mount: DicfuseMount;
  readonly watcher: ChangeWatcher;
  close(): Promise<void>;
}

/** Opens the store and mounts the workspace view. Throws (exit 3 in the daemon) when the mount fails. */
export async function openWorkspace(config: ScorpioConfig): Promise<Workspace> {
  const client = megaClientFor(config);
  const readPath = await openReadPath(config, client);
  const { store } = readPath;
  const { view } = readPath.openView({ basePath: "/", tuning: "root" });
  // The root listing is fetched while the kernel mount is set up: the first `ls` then finds it loaded.
  const rootLoaded = view.ensureLoaded(ROOT_INO);
  rootLoaded.catch(() => {}); // reported by the warm-up below
  let mount: DicfuseMount;
  try {
    mount = await mountDicfuse(view, { mountpoint: config.workspace, ...mountSettings(config), fsname: `scorpio:${config.base_url}` });
  } catch (err) {
    readPath.close();
    throw err;
  }
  const watcher = new ChangeWatcher(view, view.opts.watchIntervalMs, view.opts.requestDeadlineMs);
  // The watcher's first round runs at once: a restarted daemon learns whether its tree is behind.
  watcher.start();
  // Background warm-up: the mount answers right away; these only make later accesses faster. A
  // store that already has the tree (an earlier run) costs no listing request here.
  void (async () => {
    try {
      await rootLoaded;
      if (config.load_dir_depth > 0) log.info("directories pre-loaded", { count: await view.preloadDirs(config.load_dir_depth) });
      if (config.prefetch.length > 0) log.info("prefetch done", { ...(await view.prefetch(config.prefetch)) });
    } catch (err) {
      log.warn("warm-up failed; directories load on first use", { error: err as Error });
    }
  })();
  return {
    readPath,
    store,
    client,
    view,
    mount,
    watcher,
    async close() {
      await watcher.stop();
      await mount.unmount();
      readPath.close();
    },
  };
}

/** Routes for the cache (`du`, `gc`) and prefetch, over a workspace. */
export function workspaceRoutes(ws: Workspace) {
  return new Elysia({ name: "workspace-routes" })
    .get(
      "/api/v1/cache",
      () => {
        // One cache for every view of the process (workspace, job views, checkouts, CL layers).
        const u = ws.store.du();
        const o = ws.readPath.objects;
        return {
          bytes: u.bytes, blobs: u.blobs, max_bytes: u.maxBytes, pinned: u.pinned, pinned_bytes: u.pinnedBytes, inodes: u.inodes, loaded_dirs: u.loadedDirs,
          size_only: u.sizeOnly, trees: o.trees.totals().trees, objects: { ...o.counters },
          // Git LFS objects fetched through the batch API (they are counted in bytes/blobs like any blob).
          lfs: o.lfs ? { ...o.lfs.counters } : null,
          // The commit the workspace's tree was last brought up to by the watcher (null before its first round).
          commit: ws.view.commit,
        };
      },
      { detail: { tags: ["cache"], summary: "Cache usage: bytes and blobs on disk, the bound (cache_max_bytes), pinned blobs, inodes, loaded directories, object store counters" } },
    )
    .post(
      "/api/v1/cache/gc",
      async ({ body }) => {
        // Only files the kernel holds open are pinned; fds kept for reads by inode are closed as their blobs go.
        const before = ws.store.du();
        const r = ws.readPath.objects.gc(body.target_bytes === undefined ? {} : { targetBytes: body.target_bytes });
        return { removed_blobs: r.evictedBlobs, freed_bytes: r.evictedBytes, bytes: r.remainingBytes, pinned_bytes: r.pinnedBytes, before_bytes: before.bytes };
      },
      {
        body: t.Object({ target_bytes: t.Optional(t.Integer({ minimum: 0 })) }),
        detail: { tags: ["cache"], summary: "Evict least recently used blobs down to target_bytes (default: the bound); blobs in use are kept" },
      },
    )
    .post(
      "/api/v1/prefetch",
      ({ body }) => {
        for (const g of body.globs) {
          const problem = globProblem(g, "globs");
          if (problem) throw new HttpError(400, "INVALID_REQUEST", problem);
        }
        // NDJSON progress: one {done,total,bytes,failed} line per step, then a final summary line.
        const stream = new ReadableStream<string>({
          async start(controller) {
            try {
              const r = await ws.view.prefetch(body.globs, (p) => controller.enqueue(JSON.stringify({ done: p.fetched + p.failed, total: p.matched, bytes: p.bytes, failed: p.failed }) + "\n"));
              controller.enqueue(JSON.stringify({ done: r.fetched + r.failed, total: r.matched, bytes: r.bytes, failed: r.failed, finished: true }) + "\n");
            } catch (err) {
              controller.enqueue(JSON.stringify({ error: (err as Error).message }) + "\n");
            }
            controller.close();
          },
        });
        return new Response(stream, { headers: { "content-type": "application/x-ndjson" } });
      },
      {
        body: t.Object({ globs: t.Array(t.String({ minLength: 1 }), { minItems: 1 }), job_id: t.Optional(t.Nullable(t.String())) }),
        detail: {
          tags: ["cache"],
          summary: "Fetch the contents of files matching globs into the cache; streams NDJSON {done,total,bytes,failed} lines, the last with finished:true (400 for an invalid glob)",
        },
      },
    );
}

/** The `scorpio serve` services: workspace mount + cache/prefetch routes. */
export const workspaceServices: ServicesFactory = async (ctx) => {
  let ws: Workspace | undefined;
  const services: DaemonServices = {
    async start() {
      ws = await openWorkspace(ctx.config);
    },
    mountCount: () => (ws ? 1 : 0) + ctx.state.works.length,
    health: new HealthRegistry(),
    plugins: () => (ws ? [workspaceRoutes(ws)] : []),
    async stop() {
      await ws?.close();
    },
  };
  return services;
};
