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
import { openReadPath, type DicfuseView, type ReadPath } from "../dicfuse/index.ts";
import { logger } from "../util/log.ts";
import { antaresRoutes } from "./routes/antares.ts";
import { LegacyWorkspaces, legacyRoutes } from "./routes/legacy/index.ts";
import type { DaemonServices, ServicesFactory } from "./services.ts";
import { megaClientFor, openWorkspace, workspaceRoutes, type Workspace } from "./workspace.ts";

const log = logger("server");

export const scorpioServices: ServicesFactory = async (ctx) => {
  const { config } = ctx;
  let ws: Workspace | undefined;
  let pool: DicfusePool | undefined;
  let antares: AntaresService | undefined;
  let legacy: LegacyWorkspaces | undefined;
  const startedAt = Date.now();
  const services: DaemonServices = {
    httpToken: config.http_token,
    async start() {
      ws = await openWorkspace(config);
      const w = ws;
      pool = new DicfusePool(config, async () => w.readPath, async () => w.view);
      antares = new AntaresService({ config, client: w.client, objects: async () => w.readPath.objects, pool });
      legacy = new LegacyWorkspaces({ config, client: w.client, objects: w.readPath.objects, pool, rootView: w.view });
      void antares.recover().catch((err) => log.error("job mount recovery failed", { error: err as Error }));
      if (ctx.state.works.length > 0) void legacy.recover(ctx.state.works).catch((err) => log.error("checkout recovery failed", { error: err as Error }));
    },
    mountCount: () => (ws ? 1 : 0) + (antares?.mountCount() ?? 0) + (legacy ? legacy.count() : ctx.state.works.length),
    healthStatus: () => "ok",
    plugins: () =>
      ws && antares && legacy ? [workspaceRoutes(ws), antaresRoutes(antares, { prefix: "/antares", startedAt }), legacyRoutes(legacy, config)] : [],
    async stop() {
      await Promise.all([antares?.shutdown(), legacy?.shutdown()]);
      await pool?.close();
      await ws?.close();
    },
  };
  return services;
};

export const antaresServices: ServicesFactory = async (ctx) => {
  const { config } = ctx;
  const client = megaClientFor(config);
  // The read path (object store over `store_path`) opens on first use: only then does this daemon
  // take the store's lock (so it conflicts with `scorpio serve` on the same store once a job mounts).
  let readPath: Promise<ReadPath> | undefined;
  const getReadPath = (): Promise<ReadPath> => {
    readPath ??= openReadPath(config, client);
    readPath.catch(() => (readPath = undefined));
    return readPath;
  };
  let rootView: DicfuseView | undefined;
  const pool = new DicfusePool(config, getReadPath, async () => (rootView ??= (await getReadPath()).openView({ basePath: "/", tuning: "root" }).view));
  const antares = new AntaresService({ config, client, objects: async () => (await getReadPath()).objects, pool });
  return {
    httpToken: config.http_token,
    async start() {
      void antares.recover().catch((err) => log.error("job mount recovery failed", { error: err as Error }));
    },
    mountCount: () => antares.mountCount(),
    healthStatus: () => "ok",
    plugins: () => [antaresRoutes(antares, { prefix: "" })],
    async stop() {
      await antares.shutdown();
      await pool.close();
      const r = await readPath?.catch(() => undefined);
      r?.close();
    },
  };
};
