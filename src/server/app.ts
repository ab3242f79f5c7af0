/**
 * @module server/app — the Elysia application: /health, the services' plugins, and one error
 * handler so every failure is a JSON `{error, code}` body with a 4xx/5xx status (the original
 * answered unknown routes with an empty 404 and bad bodies with plain text). Also: the optional
 * bearer token (`http_token`), the request guard (JSON-only bodies, same-origin only: server/request-guard)
 * and the OpenAPI description at `GET /openapi.json` with its offline UI at `/openapi` (server/openapi-ui).
 */
import { Elysia, t } from "elysia";
import { timingSafeEqual } from "node:crypto";
import { VERSION } from "../version.ts";
import { HttpError } from "./http-error.ts";
import { guardRequest } from "./request-guard.ts";
import { isDocumentationPath, openapiDocs } from "./openapi-ui.ts";
import { METRICS_CONTENT_TYPE, metricsText } from "../util/metrics.ts";
import { recentLogLines } from "../util/log.ts";
import { fuseRoutes } from "./routes/fuse.ts";
import type { HealthReason } from "./health.ts";
import type { DaemonMode, DaemonServices, HealthStatus } from "./services.ts";

/** Main daemon /health body; field names and order are the original's contract, `reasons` only when degraded. */
export interface MainHealth {
  status: HealthStatus;
  version: string;
  uptime_secs: number;
  mount_count: number | null;
  reasons?: HealthReason[];
}

/** Standalone Antares /health body (the Antares `HealthResponse`), `reasons` only when degraded. */
export interface AntaresHealth {
  status: "healthy" | "degraded";
  mount_count: number;
  uptime_secs: number;
  reasons?: HealthReason[];
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
    if (error instanceof Error && error.message) return validationDetail(error.message)?.summary ?? error.message;
  }
  return fallback;
}

/** The parsed JSON dump of an Elysia validation error message: where it failed and a one-line summary. */
function validationDetail(message: string): { on?: string; summary?: string } | undefined {
  if (!message.startsWith("{")) return undefined;
  try {
    const d = JSON.parse(message) as { on?: unknown; summary?: unknown; message?: unknown };
    const summary = typeof d.summary === "string" ? d.summary : typeof d.message === "string" ? d.message : undefined;
    return { ...(typeof d.on === "string" ? { on: d.on } : {}), ...(summary ? { summary } : {}) };
  } catch {
    return undefined;
  }
}

/** Routes that never need the token: liveness probes. */
const OPEN_PATHS = new Set(["/health", "/antares/health"]);

function tokenMatches(header: string | null, token: string): boolean {
  const m = header ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createApp(services: DaemonServices, opts: AppOptions) {
  const startedAt = opts.startedAt ?? Date.now();
  const uptime = () => Math.floor((Date.now() - startedAt) / 1000);
  const token = services.httpToken ?? "";

  const app = new Elysia()
    .onRequest(({ request, set }) => {
      const refused = guardRequest(request, { tokenless: token === "" });
      if (refused) {
        set.status = refused.status;
        return refused.body;
      }
      if (token === "") return;
      const path = new URL(request.url).pathname;
      if (OPEN_PATHS.has(path) || isDocumentationPath(path) || tokenMatches(request.headers.get("authorization"), token)) return;
      set.status = 401;
      set.headers["www-authenticate"] = 'Bearer realm="scorpio"';
      return { error: "missing or invalid bearer token", code: "UNAUTHORIZED" };
    })
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
        case "VALIDATION": {
          set.status = 400;
          // A bad body is BAD_PAYLOAD; a bad path parameter or query is INVALID_REQUEST.
          const on = error instanceof Error ? validationDetail(error.message)?.on : undefined;
          return { error: errorMessage(error, "invalid request"), code: on === "params" || on === "query" ? "INVALID_REQUEST" : "BAD_PAYLOAD" };
        }
        default:
          set.status = 500;
          return { error: errorMessage(error, "internal error"), code: "INTERNAL_ERROR" };
      }
    })
    .get(
      "/health",
      ({ query, set }): MainHealth | AntaresHealth => {
        const reasons = services.health.evaluate();
        const degraded = reasons.length > 0;
        // The container-healthcheck form: a degraded daemon fails the probe.
        if (degraded && query.strict === "true") set.status = 503;
        const extra = degraded ? { reasons } : {};
        if (opts.mode === "antares") {
          return { status: degraded ? "degraded" : "healthy", mount_count: services.mountCount() ?? 0, uptime_secs: uptime(), ...extra };
        }
        return { status: degraded ? "degraded" : "ok", version: VERSION, uptime_secs: uptime(), mount_count: services.mountCount(), ...extra };
      },
      {
        detail: {
          tags: ["health"],
          summary: "Liveness and health: `degraded` with `reasons` when the Mega server is unreachable, the store's disk is full or a mount failed; `?strict=true` answers 503 when degraded (for container healthchecks). No token needed.",
          security: [],
        },
      },
    );

  app.get("/metrics", async () => new Response(await metricsText(), { headers: { "content-type": METRICS_CONTENT_TYPE } }), {
    detail: {
      tags: ["metrics"],
      summary: "Prometheus metrics (text exposition format): FUSE requests and latency per op and engine, remote requests, cache, job mounts, watcher lag",
      responses: { 200: { description: "Prometheus text format 0.0.4", content: { "text/plain": { schema: { type: "string" } } } } },
    },
  });
  app.get("/api/v1/logs", ({ query }) => ({ lines: recentLogLines(query.lines ?? 500) }), {
    query: t.Object({ lines: t.Optional(t.Integer({ minimum: 0, maximum: 2000 })) }),
    detail: { tags: ["metrics"], summary: "The daemon's most recent log lines (at most 2000; default 500), as written to stderr, for diagnostic bundles" },
  });
  app.use(fuseRoutes());
  for (const plugin of services.plugins()) app.use(plugin);
  app.use(openapiDocs(opts.mode));
  return app;
}
