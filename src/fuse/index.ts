/**
 * @module fuse — the libfuse3 lowlevel binding. Public surface: mount a `LowLevelFs`, unmount,
 * notify the kernel of changes, and the mount-hygiene helpers the CLI's doctor uses.
 */
export type * from "./types.ts";
export { FuseSession, unmountAll, type MountOptions, type OpStats } from "./session.ts";
export type { StoreFile } from "./notify.ts";
export { loadLibfuse, formatFuseVersion, MIN_FUSE_VERSION } from "./libfuse.ts";
export { prepareMountpoint, lazyUnmount, isStaleMount, listMounts, findMount, isFuseMount, parseMountinfo, type MountInfo } from "./mount-hygiene.ts";
export { S_IF, O, RENAME, XATTR, CAP } from "./structs.ts";
export { OP_NAMES } from "./ops-table.ts";
export { checkAccess, ACCESS, inGroup, type Caller } from "./access.ts";
export { checkSetattr, checkSticky, checkRemove, checkCreate, newEntryOwnership, S_ISUID, S_ISGID, S_ISVTX, type Owned } from "./permissions.ts";
