/**
 * @module server/services — the seam between the HTTP daemon and what it serves.
 *
 * `runDaemon` only binds, routes /health, records itself in the runtime state file and handles
 * signals. Everything else — the FUSE workspace mount, the /antares routes, legacy /api/fs routes,
 * /api/v1/prefetch and cache routes — plugs in through a `DaemonServices` object. The minimal
 * implementation here mounts nothing and serves no extra routes.
 */
import type { AnyElysia } from "elysia";
import type { RuntimeState, ScorpioConfig } from "../config/index.ts";
import { HealthRegistry } from "./health.ts";

/** `ok` is the original's value for a healthy daemon; `degraded` when a service reports trouble. */
export type HealthStatus = "ok" | "degraded";

export type DaemonMode = "scorpio" | "antares";

export interface DaemonServices {
  /** Runs before the HTTP address is bound (scorpio mode: mount the workspace). Throwing → exit 3. */
  start(): Promise<void>;
  /** Mount count reported by /health; `null` when it cannot be read without blocking. */
  mountCount(): number | null;
  /** The checks behind /health: any problem makes the daemon `degraded` (services and stores add theirs). */
  health: HealthRegistry;
  /**
   * Elysia plugins `.use()`d on the app after /health: e.g. the Antares routes (with prefix
   * `/antares` in scorpio mode, at the root in antares mode), legacy routes, cache/prefetch routes.
   * In antares mode the root /health belongs to the daemon; plugins must not declare it.
   */
  plugins(): AnyElysia[];
  /** Graceful stop on SIGTERM/SIGINT (unmount everything); bounded by the daemon's deadline. */
  stop(): Promise<void>;
  /**
   * When non-empty, every route except /health (and /antares/health) requires
   * `Authorization: Bearer <token>` (config `http_token`).
   */
  httpToken?: string;
}

export interface ServicesContext {
  config: ScorpioConfig;
  mode: DaemonMode;
  configPath: string;
  /** The runtime state file as read at startup (legacy works). */
  state: RuntimeState;
}

export type ServicesFactory = (ctx: ServicesContext) => Promise<DaemonServices>;

/** Serves /health only; `mount_count` is the number of recorded legacy works, as in the original. */
export const minimalServices: ServicesFactory = async (ctx) => ({
  start: async () => {},
  mountCount: () => ctx.state.works.length,
  health: new HealthRegistry(),
  plugins: () => [],
  stop: async () => {},
});
