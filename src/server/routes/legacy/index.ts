/**
 * @module server/routes/legacy — the deprecated workspace API (`/api/fs/mount`, `/api/fs/mpoint`,
 * `/api/fs/select/{id}`, `/api/fs/unmount`, `GET|POST /api/config`). Every response, error ones
 * included, carries `Deprecation: true`, and each call is logged at WARN as in the original.
 */
import { Elysia } from "elysia";
import type { ScorpioConfig } from "../../../config/index.ts";
import { logger } from "../../../util/log.ts";
import { LegacyConfigBody, LegacyMountBody, LegacyUnmountBody, SelectParams } from "./model.ts";
import type { LegacyWorkspaces } from "./service.ts";

export { LegacyWorkspaces, monoPath, type LegacyOptions } from "./service.ts";

const log = logger("server/legacy");

export function isLegacyPath(pathname: string): boolean {
  return pathname.startsWith("/api/fs/") || pathname === "/api/fs" || pathname === "/api/config";
}

const detail = (summary: string) => ({ tags: ["legacy (deprecated)"], summary, deprecated: true });

export function legacyRoutes(legacy: LegacyWorkspaces, config: ScorpioConfig) {
  return new Elysia({ name: "legacy-routes" })
    .onRequest(({ request, set }) => {
      const url = new URL(request.url);
      if (!isLegacyPath(url.pathname)) return;
      set.headers["deprecation"] = "true";
      log.warn(`deprecated endpoint called: ${request.method} ${url.pathname}${url.search}; prefer the Antares API (/antares/*) — see docs/http-api.md`);
    })
    .post("/api/fs/mount", ({ body }) => legacy.mount(body), { body: LegacyMountBody, detail: detail("Check out a writable workspace sub-directory") })
    .get("/api/fs/select/:request_id", ({ params }) => legacy.select(params.request_id), { params: SelectParams, detail: detail("Mount task status") })
    .get("/api/fs/mpoint", () => legacy.mpoint(), { detail: detail("List checkouts") })
    .post("/api/fs/unmount", ({ body }) => legacy.unmount(body), { body: LegacyUnmountBody, detail: detail("Remove a checkout (its edits are kept on disk)") })
    .get("/api/config", () => ({ status: "Success", config: { mega_url: config.base_url, mount_path: config.workspace, store_path: config.store_path } }), {
      detail: detail("Daemon configuration"),
    })
    .post(
      "/api/config",
      ({ body }) => ({ status: "Success", config: { mega_url: body.mega_url ?? "", mount_path: body.mount_path ?? "", store_path: body.store_path ?? "" } }),
      { body: LegacyConfigBody, detail: detail("Echoes the request; nothing is applied (as in the original)") },
    );
}
