/**
 * @module store — public face of the local store: stable inode tree, verified content-addressed blob
 * cache with LRU eviction and pins, one owning process per store directory. Other folders import
 * only this file.
 */
export { LocalStore, openLocalStore } from "./local-store.ts";
export { InodeTable, kindOfMode } from "./inode-table.ts";
export { BlobCache } from "./blob-cache.ts";
export { TreeIndex } from "./tree-index.ts";
export { LfsIndex, type LfsIndexRow } from "./lfs-index.ts";
export { TreeStore, type ViewTreeStore } from "./tree-store.ts";
export { ObjectStore, deadlineError, type ObjectStoreCounters, type ObjectStoreOptions, type Opened, type Origin } from "./object-store.ts";
export type { BackingStore, FetchOptions, PackObject, PlainEntry } from "./backing-store.ts";
export {
  DEFAULT_ACCESS_FLUSH_MS,
  DEFAULT_CACHE_MAX_BYTES,
  DEFAULT_LOW_WATER_RATIO,
  GitMode,
  ROOT_INO,
} from "./types.ts";
export type {
  BlobHandle,
  BlobUsage,
  DirEntryInput,
  DirState,
  GcOptions,
  GcReport,
  GitModeValue,
  Ino,
  InodeKind,
  InodeRecord,
  Oid,
  RemovedInode,
  ReplaceDirectoryOptions,
  ReplaceDirectoryResult,
  StoreOptions,
  StoreUsage,
  VerifyOptions,
  VerifyReport,
} from "./types.ts";
