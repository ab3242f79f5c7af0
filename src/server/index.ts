/**
 * @module server — the HTTP daemon: lifecycle (`runDaemon`), the Elysia app factory (`createApp`)
 * and the `DaemonServices` seam through which the workspace mount and the Antares routes plug in.
 */
export { runDaemon, SHUTDOWN_DEADLINE_MS, type DaemonOptions } from "./daemon.ts";
export { createApp, type AppOptions, type MainHealth, type AntaresHealth } from "./app.ts";
export { HttpError, type ErrorBody } from "./http-error.ts";
export { minimalServices, type DaemonServices, type DaemonMode, type HealthStatus, type ServicesContext, type ServicesFactory } from "./services.ts";
export { recordDaemon, clearDaemonRecord, type DaemonRecord } from "./state-record.ts";
export { parseSocketAddr, formatSocketAddr, dialableUrl, type SocketAddr } from "./socket-addr.ts";
export { workspaceServices, openWorkspace, workspaceRoutes, megaClientFor, type Workspace } from "./workspace.ts";
export { scorpioServices, antaresServices } from "./antares-services.ts";
