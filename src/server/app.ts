/**
 * @module server/app — the Elysia application: /health, the services' plugins, and one error
 * handler so every failure is a JSON `{error, code}` body with a 4xx/5xx status (the original
 * answered unknown routes with an empty 404 and bad bodies with plain text).
 */
import { Elysia } from "elysia";
import { VERSION } from "../version.ts";
import { HttpError } from "./http-error.ts";
import type { DaemonMode, DaemonServices, HealthStatus } from "./services.ts";

/** Main daemon /health body; field names and order are the original's contract. */
export interface MainHealth {
  status: HealthStatus;
  version: string;
  uptime_secs: number;
  mount_count: number | null;
}

/** Standalone Antares /health body (the Antares `HealthResponse`). */
export interface AntaresHealth {
  status: "healthy" | "degraded";
  mount_count: number;
  uptime_secs: number;
}

export interface AppOptions {
  mode: DaemonMode;
  /** Milliseconds since epoch when the router was created; uptime counts from here. */
  startedAt?: number;
}

function errorMessage(error: unknown, fallback: string): string {
  if (error && typeof error === "object") {
    // Elysia's ValidationError carries a one-line `summary`; its `message` is a JSON dump.
    if ("summary" in error && typeof error.summary === "string" && error.summary) return error.summary;
    if (error instanceof Error && error.message) return error.message;
  }
  return fallback;
}

export function createApp(services: DaemonServices, opts: AppOptions) {
  const startedAt = opts.startedAt ?? Date.now();
  const uptime = () => Math.floor((Date.now() - startedAt) / 1000);

  const app = new Elysia()
    .onError(({ code, error, set }) => {
      if (error instanceof HttpError) {
        set.status = error.status;
        return error.body();
      }
      switch (code) {
        case "NOT_FOUND":
          set.status = 404;
          return { error: "no such route", code: "NOT_FOUND" };
        case "PARSE":
          set.status = 400;
          return { error: "request body is not valid JSON", code: "BAD_PAYLOAD" };
        case "VALIDATION":
          set.status = 400;
          return { error: errorMessage(error, "invalid request"), code: "BAD_PAYLOAD" };
        default:
          set.status = 500;
          return { error: errorMessage(error, "internal error"), code: "INTERNAL_ERROR" };
      }
    })
    .get("/health", (): MainHealth | AntaresHealth => {
      const status = services.healthStatus();
      if (opts.mode === "antares") {
        return { status: status === "ok" ? "healthy" : "degraded", mount_count: services.mountCount() ?? 0, uptime_secs: uptime() };
      }
      return { status, version: VERSION, uptime_secs: uptime(), mount_count: services.mountCount() };
    });

  for (const plugin of services.plugins()) app.use(plugin);
  return app;
}
