/**
 * @module remote — the Mega HTTP client (public surface). Other folders import only from here.
 */
export { createMegaClient } from "./client.ts";
export type { MegaClient, MegaClientOptions, DirEntry, DirEntryKind, LatestCommit, ClFile, ClAction, RequestOptions, ClientStats } from "./types.ts";
export { RemoteError, type RemoteFailure } from "./remote-error.ts";
export { parseGitTree, type TreeEntry, type TreeEntryKind } from "./git-tree.ts";
export { gitBlobOid, gitTreeOid, gitObjectOid, parseOid, isOid, EMPTY_BLOB_OID, EMPTY_TREE_OID, type Oid } from "./oid.ts";
export { Semaphore, type Release } from "./semaphore.ts";
export { SingleFlight, raceSignal } from "./single-flight.ts";
export { normalizeBaseUrl, normalizeRepoPath, encodeQueryValue } from "./url.ts";
export { clEntryRepoPath, expandRenames } from "./cl-path.ts";
export {
  createLfsClient, LfsObjectError, LFS_MEDIA_TYPE,
  type LfsClient, type LfsClientOptions, type LfsClientStats, type LfsOperation, type LfsObjectSpec, type LfsAction,
  type LfsBatchEntry, type LfsDownloadTarget, type LfsTransferResult, type LfsUploadObject, type LfsUploadReport,
} from "./lfs-client.ts";
export { parsePack, applyDelta, reachableBlobs, type PackFetch, type PackObject, type PackObjectType } from "./pack.ts";
export { parsePackOffThread } from "./pack-thread.ts";
