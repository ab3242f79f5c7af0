/**
 * @module devserver — a Mega-compatible HTTP server over a local git repository, for tests and demos.
 */
export { startDevServer, type DevServer, type DevServerOptions } from "./server.ts";
export { runDevServer, parseAddr, type RunDevServerOptions } from "./run.ts";
export { ServerStats } from "./stats.ts";
export { DevLfs, lfsRoute } from "./lfs.ts";
