/**
 * @module server/routes/antares — the Antares API controller (§3.2): schemas at the edge, one call
 * into `AntaresService` per route. Mounted under `/antares` by `scorpio serve` and at the root by
 * `antares serve` (where the daemon's own /health is the Antares health).
 */
import { Elysia } from "elysia";
import {
  AntaresHealthSchema,
  BuildClBody,
  CreateMountBody,
  DeleteQuery,
  ErrorBodySchema,
  GcResultSchema,
  JobIdParams,
  ListQuery,
  MountCollectionSchema,
  MountCreatedSchema,
  MountIdParams,
  MountReadySchema,
  MountStatusSchema,
  UsageSchema,
  type AntaresService,
} from "../../antares/index.ts";

const errors = { 400: ErrorBodySchema, 404: ErrorBodySchema, 500: ErrorBodySchema, 503: ErrorBodySchema, 507: ErrorBodySchema };
const detail = (summary: string) => ({ tags: ["antares"], summary });

export interface AntaresRoutesOptions {
  /** "/antares" on the main daemon, "" on the standalone one. */
  prefix: "" | "/antares";
  /** When the router started (for the nested /antares/health uptime). */
  startedAt?: number;
}

export function antaresRoutes(service: AntaresService, opts: AntaresRoutesOptions) {
  const startedAt = opts.startedAt ?? Date.now();
  const app = new Elysia({ name: `antares-routes${opts.prefix}`, prefix: opts.prefix });
  if (opts.prefix !== "") {
    app.get(
      "/health",
      () => ({ status: service.healthStatus() === "ok" ? ("healthy" as const) : ("degraded" as const), mount_count: service.mountCount(), uptime_secs: Math.floor((Date.now() - startedAt) / 1000) }),
      { response: { 200: AntaresHealthSchema }, detail: detail("Antares health") },
    );
  }
  return app
    .post("/mounts", ({ body }) => service.create(body), {
      body: CreateMountBody,
      response: { 200: MountCreatedSchema, ...errors },
      detail: detail("Create a job mount (idempotent per job_id/build_id); answers once it is Ready; 507 while the upper root's filesystem is too full"),
    })
    .get("/mounts", ({ query }) => ({ mounts: service.list(query.label) }), {
      query: ListQuery,
      response: { 200: MountCollectionSchema, ...errors },
      detail: detail("List mounts (label=… keeps those carrying that label)"),
    })
    .post("/gc", () => service.gc(), {
      response: { 200: GcResultSchema, ...errors },
      detail: detail("Remove upper, work, CL and mountpoint directories that no mount record owns"),
    })
    .get("/usage", () => service.usage(), {
      response: { 200: UsageSchema, ...errors },
      detail: detail("Engine in use, the upper root's filesystem use, and each job's upper and CL layer size"),
    })
    .get("/mounts/by-job/:job_id", ({ params }) => service.getByJob(params.job_id), {
      params: JobIdParams,
      response: { 200: MountStatusSchema, ...errors },
      detail: detail("Mount of a job"),
    })
    .delete("/mounts/by-job/:job_id", ({ params, query }) => service.deleteByJob(params.job_id, query), {
      params: JobIdParams,
      query: DeleteQuery,
      response: { 200: MountStatusSchema, ...errors },
      detail: detail("Unmount a job's mount (purge=true also deletes its directories)"),
    })
    .get("/mounts/:mount_id", ({ params }) => service.get(params.mount_id), {
      params: MountIdParams,
      response: { 200: MountStatusSchema, ...errors },
      detail: detail("Mount status"),
    })
    .delete("/mounts/:mount_id", ({ params, query }) => service.delete(params.mount_id, query), {
      params: MountIdParams,
      query: DeleteQuery,
      response: { 200: MountStatusSchema, ...errors },
      detail: detail("Unmount (purge=true also deletes its directories)"),
    })
    .get("/mounts/:mount_id/ready", ({ params }) => service.ready(params.mount_id), {
      params: MountIdParams,
      response: { 200: MountReadySchema, ...errors },
      detail: detail("Readiness: true once the mount answers and its root is listed"),
    })
    .post("/mounts/:mount_id/cl", ({ params, body }) => service.buildCl(params.mount_id, body.cl), {
      params: MountIdParams,
      body: BuildClBody,
      response: { 200: MountStatusSchema, ...errors },
      detail: detail("Build or rebuild the CL layer (the job's upper layer is kept)"),
    })
    .post("/mounts/:mount_id/refresh", ({ params }) => service.refresh(params.mount_id), {
      params: MountIdParams,
      response: { 200: MountStatusSchema, ...errors, 409: ErrorBodySchema },
      detail: detail("Move the job's lower view to a view pinned at the newest commit (upper and CL layers kept; the recorded base moves; 409 LOCAL_COMMITS while it has local commits)"),
    })
    .delete("/mounts/:mount_id/cl", ({ params }) => service.clearCl(params.mount_id), {
      params: MountIdParams,
      response: { 200: MountStatusSchema, ...errors },
      detail: detail("Remove the CL layer (the job's upper layer is kept)"),
    });
}
