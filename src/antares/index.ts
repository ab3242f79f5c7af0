/**
 * @module antares — per-job overlay mounts over the read-only monorepo view: the service (create,
 * query, delete, CL layers, persistence, recovery), the Dicfuse view pool, CL layer construction,
 * the warm walk, and the HTTP contract's schemas. The HTTP controller lives in src/server/routes.
 */
export { AntaresService, type AntaresServiceOptions } from "./service.ts";
export { DicfusePool, storeDirFor, VIEW_READY_TIMEOUT_MS, type PooledView } from "./dicfuse-pool.ts";
export { buildClLayer, relativeToMount, type ClBuildResult } from "./cl-layer.ts";
export { warmWalk, warmWalkConfigFromEnv, type WarmWalkConfig, type WarmWalkStats, type WarmMode } from "./warm-walk.ts";
export { readMountRecords, renderMountRecords, StateFile, STATE_VERSION, type MountRecord } from "./state-file.ts";
export { normalizeMountPath, taskIdOf, checkClId, layoutFor, type MountLayout } from "./paths.ts";
export { probeMount } from "./readiness.ts";
export { AntaresError, invalidRequest, mountNotFound, taskNotFound, fuseFailure, internalError, shuttingDown, messageOf } from "./errors.ts";
export * from "./model.ts";
