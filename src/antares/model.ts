/**
 * @module antares/model — the Antares HTTP contract as Elysia schemas (one source of truth for
 * validation, static types and the OpenAPI description). JSON field names are the original's
 * (scorpiofs 0.2.3 §3.2) and must not change.
 */
import { t } from "elysia";

/** Longest job/build id, CL link and monorepo path we accept (far beyond anything real). */
export const MAX_ID_LEN = 256;
export const MAX_PATH_LEN = 4096;
/** Labels: at most this many per mount, each 1..MAX_LABEL_LEN printable characters without spaces. */
export const MAX_LABELS = 32;
export const MAX_LABEL_LEN = 128;
export const LABEL_PATTERN = "^[\\x21-\\x7e]+$";

const OptionalId = t.Optional(t.Nullable(t.String({ maxLength: MAX_ID_LEN })));

export const CreateMountBody = t.Object(
  {
    job_id: OptionalId,
    build_id: OptionalId,
    path: t.String({ maxLength: MAX_PATH_LEN, description: "Monorepo path shown at the mount root, e.g. /third-party/mega" }),
    cl: OptionalId,
    labels: t.Optional(
      t.Array(t.String({ minLength: 1, maxLength: MAX_LABEL_LEN, pattern: LABEL_PATTERN }), {
        maxItems: MAX_LABELS,
        description: "Free-form tags stored with the mount and returned with it; `GET /mounts?label=ci` filters on them",
      }),
    ),
    readonly: t.Optional(t.Boolean({ description: "A read-only job mount: the lower view (and CL layer) alone, no upper layer" })),
  },
  { description: "CreateMountRequest" },
);
export type CreateMountRequest = typeof CreateMountBody.static;

export const BuildClBody = t.Object({ cl: t.String({ maxLength: MAX_ID_LEN }) }, { description: "BuildClRequest" });
export type BuildClRequest = typeof BuildClBody.static;

export const MountIdParams = t.Object({ mount_id: t.String({ format: "uuid", description: "Mount id (UUID)" }) });
export const JobIdParams = t.Object({ job_id: t.String({ minLength: 1, maxLength: MAX_ID_LEN }) });
export const ListQuery = t.Object({
  label: t.Optional(t.String({ minLength: 1, maxLength: MAX_LABEL_LEN, description: "Only mounts carrying this label" })),
});
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

export const OverlayEngineSchema = t.Union([t.Literal("kernel-overlayfs"), t.Literal("fuse-overlay")]);

export const MountLayersSchema = t.Object({
  /** "" for a read-only mount (it has no upper layer). */
  upper: t.String(),
  cl: t.Nullable(t.String()),
  dicfuse: t.String(),
  engine: OverlayEngineSchema,
});

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
  // New fields after the original's, which keep their order.
  labels: t.Array(t.String()),
  readonly: t.Boolean(),
  base_commit: t.Nullable(t.String({ description: "Head of {path}.git when the mount was created: what status/commit/push are against" })),
  base_tree: t.Nullable(t.String({ description: "Tree id of the mounted path in base_commit" })),
  cl_link: t.Optional(t.Nullable(t.String({ description: "The Mega CL this mount's commits were pushed to" }))),
  pinned: t.Boolean({ description: "The lower view is pinned at pinned_commit (false: Mega could not tell the commit at creation; the view follows the server)" }),
  pinned_commit: t.Nullable(t.String({ description: "The monorepo commit the job's lower view is pinned at (base_commit for /, base_root_commit for a sub-path)" })),
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

export const GcResultSchema = t.Object({
  removed: t.Array(t.String(), { description: "Directories removed (no state record owned them)" }),
  detached: t.Array(t.String(), { description: "Stale mounts detached before removal" }),
});
export type GcResult = typeof GcResultSchema.static;

export const DiskUseSchema = t.Object({
  path: t.String(),
  used_percent: t.Number(),
  total_bytes: t.Number(),
  free_bytes: t.Number(),
  warn_percent: t.Number(),
  max_percent: t.Number(),
  level: t.Union([t.Literal("ok"), t.Literal("warn"), t.Literal("full")]),
});
export type DiskUse = typeof DiskUseSchema.static;

export const MountUsageSchema = t.Object({
  mount_id: t.String(),
  job_id: t.Nullable(t.String()),
  path: t.String(),
  upper_bytes: t.Number(),
  cl_bytes: t.Number(),
});
export type MountUsage = typeof MountUsageSchema.static;
export const UsageSchema = t.Object({ engine: OverlayEngineSchema, engine_reason: t.String(), disk: DiskUseSchema, mounts: t.Array(MountUsageSchema) });
export type UsageReport = typeof UsageSchema.static;

export const ErrorBodySchema = t.Object({ error: t.String(), code: t.String() }, { description: "ErrorBody" });

/** The original's Debug rendering of a state, used in error messages (`Failed { reason: "…" }`). */
export function debugState(s: MountLifecycle): string {
  if (typeof s === "string") return s;
  return `Failed { reason: ${JSON.stringify(s.Failed.reason)} }`;
}

export function failed(reason: string): MountLifecycle {
  return { Failed: { reason } };
}
