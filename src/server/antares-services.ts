/**
 * @module server/antares-services — the full service sets of the two daemons.
 *
 * `scorpioServices` (`scorpio serve`): the workspace mount and its cache/prefetch routes, the Antares
 * job mounts under `/antares` (the root view is the workspace's own), and the deprecated
 * `/api/fs/*` + `/api/config` routes (writable checkouts next to the workspace). `/health`
 * `mount_count` = workspace + job mounts + legacy checkouts.
 *
 * `antaresServices` (`antares serve`): the Antares routes at the root; the root view is opened over
 * `store_path` on first use (so this daemon and `scorpio serve` on the same store still conflict,
 * but only when a `/` job is mounted — QUIRK 10.3.5).
 *
 * Both recover the recorded job mounts in the background after start and unmount everything on stop.
 */
import { AntaresService, DicfusePool } from "../antares/index.ts";
import type { ScorpioConfig } from "../config/index.ts";
import { openReadPath, type DicfuseView, type ReadPath } from "../dicfuse/index.ts";
import type { LocalStore } from "../store/index.ts";
import { logger } from "../util/log.ts";
import { VcsService } from "../vcs/service.ts";
import { antaresRoutes } from "./routes/antares.ts";
import { antaresVcsRoutes, checkoutVcsRoutes } from "./routes/vcs.ts";
import { LegacyWorkspaces, legacyRoutes } from "./routes/legacy/index.ts";
import { registerCacheUsage, registerJobMountStates } from "../util/metrics.ts";
import { HealthRegistry, countByState, jobMountsCheck, mountAliveCheck, remoteCheck, storeDiskCheck } from "./health.ts";
import type { DaemonServices, ServicesFactory } from "./services.ts";
import { megaClientFor, openWorkspace, workspaceRoutes, type Workspace } from "./workspace.ts";

const log = logger("server");

export const scorpioServices: ServicesFactory = async (ctx) => {
  const { config } = ctx;
  let ws: Workspace | undefined;
  let pool: DicfusePool | undefined;
  let antares: AntaresService | undefined;
  let legacy: LegacyWorkspaces | undefined;
  let vcs: VcsService | undefined;
  const startedAt = Date.now();
  const health = baseHealth(config);
  let stopping = false;
  const unregister: Array<() => void> = [];
  const services: DaemonServices = {
    httpToken: config.http_token,
    health,
    async start() {
      ws = await openWorkspace(config);
      const w = ws;
      health.register("workspace_mount", mountAliveCheck("the workspace mount", w.mount.session.closed, () => stopping));
      unregister.push(registerCacheUsage(() => cacheUsage(w.store)));
      pool = new DicfusePool(config, async () => w.readPath, async () => w.view);
      antares = new AntaresService({ config, client: w.client, objects: async () => w.readPath.objects, pool });
      legacy = new LegacyWorkspaces({ config, client: w.client, objects: w.readPath.objects, pool, rootView: w.view });
      vcs = new VcsService({ config, client: w.client });
      observeJobMounts(health, antares, unregister);
      void antares.recover().catch((err) => log.error("job mount recovery failed", { error: err as Error }));
      if (ctx.state.works.length > 0) void legacy.recover(ctx.state.works).catch((err) => log.error("checkout recovery failed", { error: err as Error }));
    },
    mountCount: () => (ws ? 1 : 0) + (antares?.mountCount() ?? 0) + (legacy ? legacy.count() : ctx.state.works.length),
    plugins: () =>
      ws && antares && legacy && vcs
        ? [workspaceRoutes(ws), antaresRoutes(antares, { prefix: "/antares", startedAt }), legacyRoutes(legacy, config), antaresVcsRoutes(antares, vcs, "/antares"), checkoutVcsRoutes(legacy, vcs)]
        : [],
    async stop() {
      stopping = true;
      for (const u of unregister) u();
      await Promise.all([antares?.shutdown(), legacy?.shutdown()]);
      await pool?.close();
      await ws?.close();
    },
  };
  return services;
};

/** The checks both daemons share: the Mega server answers and the store's disk has room. */
function baseHealth(config: ScorpioConfig): HealthRegistry {
  const health = new HealthRegistry();
  health.register("remote", remoteCheck(config.base_url));
  health.register("store_disk", storeDiskCheck(config.store_path));
  return health;
}

/** Job mounts in /health (failed ones and disk pressure) and in the metrics (counts by state). */
function observeJobMounts(health: HealthRegistry, antares: AntaresService, unregister: Array<() => void>): void {
  health.register("job_mounts", jobMountsCheck(() => antares.list()));
  health.register("upper_disk", () => antares.diskProblem());
  unregister.push(registerJobMountStates(() => countByState(antares.list())));
}

/** The one blob cache of the process (every view shares it). */
function cacheUsage(store: LocalStore) {
  const u = store.du();
  return { bytes: u.bytes, maxBytes: u.maxBytes, blobs: u.blobs };
}

export const antaresServices: ServicesFactory = async (ctx) => {
  const { config } = ctx;
  const client = megaClientFor(config);
  const unregister: Array<() => void> = [];
  // The read path (object store over `store_path`) opens on first use: only then does this daemon
  // take the store's lock (so it conflicts with `scorpio serve` on the same store once a job mounts).
  let readPath: Promise<ReadPath> | undefined;
  const getReadPath = (): Promise<ReadPath> => {
    if (!readPath) {
      readPath = openReadPath(config, client);
      readPath.then((r) => unregister.push(registerCacheUsage(() => cacheUsage(r.store))), () => (readPath = undefined));
    }
    return readPath;
  };
  let rootView: DicfuseView | undefined;
  const pool = new DicfusePool(config, getReadPath, async () => (rootView ??= (await getReadPath()).openView({ basePath: "/", tuning: "root" }).view));
  const antares = new AntaresService({ config, client, objects: async () => (await getReadPath()).objects, pool });
  const vcs = new VcsService({ config, client });
  const health = baseHealth(config);
  observeJobMounts(health, antares, unregister);
  return {
    httpToken: config.http_token,
    health,
    async start() {
      void antares.recover().catch((err) => log.error("job mount recovery failed", { error: err as Error }));
    },
    mountCount: () => antares.mountCount(),
    plugins: () => [antaresRoutes(antares, { prefix: "" }), antaresVcsRoutes(antares, vcs, "")],
    async stop() {
      for (const u of unregister) u();
      await antares.shutdown();
      await pool.close();
      const r = await readPath?.catch(() => undefined);
      r?.close();
    },
  };
};
