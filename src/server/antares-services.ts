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
import { openViewFromConfig, type DicfuseView } from "../dicfuse/index.ts";
import type { LocalStore } from "../store/index.ts";
import { logger } from "../util/log.ts";
import { VcsService } from "../vcs/service.ts";
import { antaresRoutes } from "./routes/antares.ts";
import { antaresVcsRoutes, checkoutVcsRoutes } from "./routes/vcs.ts";
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
  let vcs: VcsService | undefined;
  const startedAt = Date.now();
  const services: DaemonServices = {
    httpToken: config.http_token,
    async start() {
      ws = await openWorkspace(config);
      const w = ws;
      pool = new DicfusePool(config, w.client, async () => w.view);
      antares = new AntaresService({ config, client: w.client, pool });
      legacy = new LegacyWorkspaces({ config, client: w.client, pool, rootView: w.view });
      vcs = new VcsService({ config, client: w.client });
      void antares.recover().catch((err) => log.error("job mount recovery failed", { error: err as Error }));
      if (ctx.state.works.length > 0) void legacy.recover(ctx.state.works).catch((err) => log.error("checkout recovery failed", { error: err as Error }));
    },
    mountCount: () => (ws ? 1 : 0) + (antares?.mountCount() ?? 0) + (legacy ? legacy.count() : ctx.state.works.length),
    healthStatus: () => antares?.healthStatus() ?? "ok",
    plugins: () =>
      ws && antares && legacy && vcs
        ? [workspaceRoutes(ws), antaresRoutes(antares, { prefix: "/antares", startedAt }), legacyRoutes(legacy, config), antaresVcsRoutes(antares, vcs, "/antares"), checkoutVcsRoutes(legacy, vcs)]
        : [],
    async stop() {
      await Promise.all([antares?.shutdown(), legacy?.shutdown()]);
      await pool?.close();
      await ws?.close();
    },
  };
  return services;
};

/** The root view of `antares serve`, over `store_path` with the root-view tuning. */
async function openRootView(config: ScorpioConfig, client: ReturnType<typeof megaClientFor>): Promise<{ view: DicfuseView; store: LocalStore }> {
  return openViewFromConfig(config, client, { basePath: "/", storePath: config.store_path, tuning: "root" });
}

export const antaresServices: ServicesFactory = async (ctx) => {
  const { config } = ctx;
  const client = megaClientFor(config);
  let root: Promise<{ view: DicfuseView; store: LocalStore }> | undefined;
  const pool = new DicfusePool(config, client, async () => {
    root ??= openRootView(config, client);
    root.catch(() => (root = undefined));
    return (await root).view;
  });
  const antares = new AntaresService({ config, client, pool });
  const vcs = new VcsService({ config, client });
  return {
    httpToken: config.http_token,
    async start() {
      void antares.recover().catch((err) => log.error("job mount recovery failed", { error: err as Error }));
    },
    mountCount: () => antares.mountCount(),
    healthStatus: () => antares.healthStatus(),
    plugins: () => [antaresRoutes(antares, { prefix: "" }), antaresVcsRoutes(antares, vcs, "")],
    async stop() {
      await antares.shutdown();
      await pool.close();
      const r = await root?.catch(() => undefined);
      r?.store.close();
    },
  };
};
