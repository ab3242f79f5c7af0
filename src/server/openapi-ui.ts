/**
 * @module server/openapi-ui — the API documentation page (`GET /openapi`) works offline: Swagger UI is
 * bundled into the binary (pinned swagger-ui-dist) and served from `/openapi/assets/*` instead of a CDN
 * at `@latest`. The spec declares the bearer scheme that `http_token` enables.
 */
import { Elysia } from "elysia";
import { openapi } from "@elysiajs/openapi";
import uiBundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import uiCss from "swagger-ui-dist/swagger-ui.css" with { type: "text" };
import uiPackage from "swagger-ui-dist/package.json" with { type: "json" };
import { VERSION } from "../version.ts";

export const OPENAPI_PATH = "/openapi";
export const OPENAPI_SPEC_PATH = "/openapi.json";
const ASSETS = `${OPENAPI_PATH}/assets`;

/** True for the documentation routes, which need no token (a browser cannot send one when opening a page). */
export function isDocumentationPath(path: string): boolean {
  return path === OPENAPI_PATH || path === OPENAPI_SPEC_PATH || path.startsWith(`${ASSETS}/`);
}

const asset = (body: string, type: string) => () =>
  new Response(body, { headers: { "content-type": type, "cache-control": `public, max-age=86400` } });

export function openapiDocs(mode: "scorpio" | "antares") {
  return new Elysia({ name: "openapi-docs" })
    .get(`${ASSETS}/swagger-ui-bundle.js`, asset(uiBundle, "application/javascript; charset=utf-8"), { detail: { hide: true } })
    .get(`${ASSETS}/swagger-ui.css`, asset(uiCss, "text/css; charset=utf-8"), { detail: { hide: true } })
    .use(
      openapi({
        path: OPENAPI_PATH,
        specPath: OPENAPI_SPEC_PATH,
        provider: "swagger-ui",
        swagger: { version: uiPackage.version, cdn: `${ASSETS}/swagger-ui-bundle.js`, theme: `${ASSETS}/swagger-ui.css`, autoDarkMode: true },
        documentation: {
          info: {
            title: mode === "scorpio" ? "Scorpio daemon API" : "Antares daemon API",
            version: VERSION,
            description:
              "Job mounts (Antares), the deprecated workspace API, cache, prefetch, FUSE statistics, metrics and health. " +
              "Errors are JSON {error, code}. Request bodies must be application/json (415 otherwise); requests with a " +
              "foreign Origin are refused (403). When the daemon has `http_token`, every route except /health, " +
              "/antares/health and this documentation needs `Authorization: Bearer <token>`.",
          },
          tags: [
            { name: "health", description: "Liveness and health (no token needed)" },
            { name: "antares", description: "Antares job mounts" },
            { name: "cache", description: "The file-content cache" },
            { name: "fuse", description: "FUSE sessions and request statistics" },
            { name: "metrics", description: "Prometheus metrics" },
          ],
          components: {
            securitySchemes: {
              bearer: { type: "http", scheme: "bearer", description: "The daemon's `http_token` (config key or SCORPIO_HTTP_TOKEN)" },
            },
          },
          security: [{ bearer: [] }],
        },
      }),
    );
}
