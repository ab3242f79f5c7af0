/**
 * @module antares/model — the Antares HTTP contract as Elysia schemas (one source of truth for
 * validation, static types and the OpenAPI description). JSON field names are the original's
 * (scorpiofs 0.2.3 §3.2) and must not change.
 */
import { t } from "elysia";

/** Longest job/build id, CL link and monorepo path we accept (far beyond anything real). */
export const MAX_ID_LEN = 256;
export const MAX_PATH_LEN = 4096;

const OptionalId = t.Optional(t.Nullable(t.String({ maxLength: MAX_ID_LEN })));

export const CreateMountBody = t.Object(
  {
    job_id: OptionalId,
    build_id: OptionalId,
    path: t.String({ maxLength: MAX_PATH_LEN, description: "Monorepo path shown at the mount root, e.g. /third-party/mega" }),
    cl: OptionalId,
  },
  { description: "CreateMountRequest" },
);
export type CreateMountRequest = typeof CreateMountBody.static;

export const BuildClBody = t.Object({ cl: t.String({ maxLength: MAX_ID_LEN }) }, { description: "BuildClRequest" });
export type BuildClRequest = typeof BuildClBody.static;

export const MountIdParams = t.Object({ mount_id: t.String({ format: "uuid", description: "Mount id (UUID)" }) });
export const JobIdParams = t.Object({ job_id: t.String({ minLength: 1, maxLength: MAX_ID_LEN }) });
export const DeleteQuery = t.Object({
  purge: t.Optional(t.Boolean({ description: "Also delete the mount's upper, CL and mountpoint directories" })),
});

export const MountLifecycleSchema = t.Union([
  t.Literal("Provisioning"),
  t.Literal("Mounted"),
  t.Literal("Ready"),
  t.Literal("Quiescing"),
  t.Literal("Unmounting"),
  t.Literal("Unmounted"),
  t.Object({ Failed: t.Object({ reason: t.String() }) }),
]);
export type MountLifecycle = typeof MountLifecycleSchema.static;

export const MountCreatedSchema = t.Object({ mount_id: t.String(), mountpoint: t.String() });
export type MountCreated = typeof MountCreatedSchema.static;

export const MountLayersSchema = t.Object({ upper: t.String(), cl: t.Nullable(t.String()), dicfuse: t.String() });

export const MountStatusSchema = t.Object({
  mount_id: t.String(),
  job_id: t.Nullable(t.String()),
  path: t.String(),
  cl: t.Nullable(t.String()),
  mountpoint: t.String(),
  layers: MountLayersSchema,
  state: MountLifecycleSchema,
  created_at_epoch_ms: t.Number(),
  last_seen_epoch_ms: t.Number(),
  base_commit: t.Nullable(t.String({ description: "Head of {path}.git when the mount was created: what status/commit/push are against" })),
  base_tree: t.Nullable(t.String({ description: "Tree id of the mounted path in base_commit" })),
  cl_link: t.Optional(t.Nullable(t.String({ description: "The Mega CL this mount's commits were pushed to" }))),
});
export type MountStatus = typeof MountStatusSchema.static;

export const MountCollectionSchema = t.Object({ mounts: t.Array(MountStatusSchema) });
export const MountReadySchema = t.Object({ mount_id: t.String(), ready: t.Boolean(), state: MountLifecycleSchema });
export type MountReadyResponse = typeof MountReadySchema.static;

export const AntaresHealthSchema = t.Object({
  status: t.Union([t.Literal("healthy"), t.Literal("degraded")]),
  mount_count: t.Number(),
  uptime_secs: t.Number(),
});

export const ErrorBodySchema = t.Object({ error: t.String(), code: t.String() }, { description: "ErrorBody" });

/** The original's Debug rendering of a state, used in error messages (`Failed { reason: "…" }`). */
export function debugState(s: MountLifecycle): string {
  if (typeof s === "string") return s;
  return `Failed { reason: ${JSON.stringify(s.Failed.reason)} }`;
}

export function failed(reason: string): MountLifecycle {
  return { Failed: { reason } };
}
