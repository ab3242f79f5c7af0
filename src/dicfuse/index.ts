/**
 * @module dicfuse — the lazily loaded, read-only view of the monorepo, and its FUSE face.
 */
export { DicfuseView } from "./view.ts";
export { DicfuseFs } from "./fuse-adapter.ts";
export { ChangeWatcher } from "./watcher.ts";
export { mountDicfuse, type DicfuseMount } from "./mount.ts";
export { openReadPath, treeDirFor, watchIntervalMs, KERNEL_TTL_SECS, type ReadPath, type ViewTuning } from "./from-config.ts";
export { attrOf, modeOf } from "./attrs.ts";
export type { DicfuseOptions, StatMode, Node, ViewChange, ChangeListener, PrefetchProgress } from "./types.ts";
