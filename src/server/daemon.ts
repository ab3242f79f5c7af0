/**
 * @module server/daemon — `runDaemon`: the lifecycle of `scorpio serve` and `antares serve`.
 *
 * Order (the original's, §1.4, plus the bind policy: a non-loopback address without `http_token` exits 2
 * unless `--insecure-bind`): read the runtime state file (exit 2 if unreadable) → start the
 * services (scorpio mode: workspace mount, exit 3 on failure) → bind HTTP (exit 4 on failure) →
 * record `daemon = {http_addr, pid, started_at}` in the state file → wait for SIGTERM/SIGINT →
 * tell systemd READY (Type=notify, server/sd-notify) → stop HTTP and services within 20 s (exit 1 on timeout) → remove the record → exit 0.
 * Unlike the original, the standalone Antares daemon also stops cleanly on SIGTERM.
 */
import { readRuntimeState, type RuntimeState, type ScorpioConfig } from "../config/index.ts";
import { formatSocketAddr, parseSocketAddr } from "./socket-addr.ts";
import { logger } from "../util/log.ts";
import { checkBind } from "./bind-policy.ts";
import { sdNotify } from "./sd-notify.ts";
import { createApp } from "./app.ts";
import { minimalServices, type DaemonMode, type DaemonServices, type ServicesFactory } from "./services.ts";
import { clearDaemonRecord, recordDaemon } from "./state-record.ts";

const log = logger("server");

/** How long a graceful shutdown may take before the daemon gives up and exits 1. */
export const SHUTDOWN_DEADLINE_MS = 20_000;

export interface DaemonOptions {
  config: ScorpioConfig;
  /** `ip:port`; port 0 picks a free port (the state file records the real one). */
  httpAddr: string;
  mode: DaemonMode;
  configPath: string;
  /** Builds the services; defaults to the minimal /health-only set. */
  createServices?: ServicesFactory;
  /** Resolves to stop the daemon; defaults to the first SIGTERM/SIGINT. */
  stopSignal?: Promise<string>;
  /** Allow a non-loopback bind without `http_token` (`--insecure-bind`). */
  allowInsecureBind?: boolean;
  /** The opt-in flag's name for error messages. */
  insecureFlag?: string;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const handler = (signal: string) => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
      resolve(signal);
    };
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
  });
}

async function withDeadline(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the daemon until a stop signal; returns the process exit code. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const { config, httpAddr, mode } = opts;
  // Install the handlers first: a SIGTERM during startup must not kill us before cleanup is possible.
  const stop = opts.stopSignal ?? waitForSignal();

  let addr;
  try {
    addr = parseSocketAddr(httpAddr);
  } catch (err) {
    log.error(`Invalid bind address '${httpAddr}': ${message(err)}`);
    return 2;
  }
  const bind = checkBind(addr.host, config.http_token, opts.allowInsecureBind ?? false, opts.insecureFlag);
  if (bind.error) {
    log.error(bind.error);
    return 2;
  }
  if (bind.warning) log.warn(bind.warning);

  let state: RuntimeState;
  try {
    state = readRuntimeState(config.config_file);
  } catch (err) {
    log.error(`failed to load state file '${config.config_file}': ${message(err)}`);
    return 2;
  }

  let services: DaemonServices;
  try {
    services = await (opts.createServices ?? minimalServices)({ config, mode, configPath: opts.configPath, state });
    await services.start();
  } catch (err) {
    log.error(`failed to mount workspace ${config.workspace}: ${message(err)}`);
    return 3;
  }

  const app = createApp(services, { mode });
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ hostname: addr.host, port: addr.port, fetch: (req) => app.handle(req) });
  } catch (err) {
    log.error(`failed to bind HTTP address ${httpAddr}: ${message(err)}`);
    await withDeadline(services.stop(), SHUTDOWN_DEADLINE_MS);
    return 4;
  }
  const boundAddr = formatSocketAddr({ host: addr.host, port: server.port ?? addr.port });
  log.info(mode === "scorpio" ? `server running on ${boundAddr}` : `starting Antares daemon on ${boundAddr}`);

  try {
    recordDaemon(config.config_file, { http_addr: boundAddr, pid: process.pid, started_at: new Date().toISOString() });
  } catch (err) {
    // Clients then need --endpoint, but the daemon itself works: warn, don't die.
    log.warn(`could not record the daemon in state file '${config.config_file}': ${message(err)}`);
  }

  await sdNotify("ready", `serving on ${boundAddr}`);

  const signal = await stop;
  log.info(`received ${signal}, shutting down`);
  void sdNotify("stopping", `received ${signal}, unmounting`);
  let code = 0;
  const stopped = await withDeadline(Promise.all([server.stop(), services.stop()]), SHUTDOWN_DEADLINE_MS);
  if (!stopped) {
    log.error(`daemon shutdown timed out after ${SHUTDOWN_DEADLINE_MS / 1000}s`);
    server.stop(true);
    code = 1;
  }
  try {
    clearDaemonRecord(config.config_file, process.pid);
  } catch (err) {
    log.warn(`could not clear the daemon record in '${config.config_file}': ${message(err)}`);
  }
  return code;
}
