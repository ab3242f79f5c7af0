/**
 * @module lfs — Git LFS without the network: pointers, attribute matching, the read-side decision
 * (`resolveLfs`), the commit-side conversion (`toPointer`) and a local object directory. The batch API
 * client is `remote/lfs-client.ts`. See docs/lfs.md for how the read path and commit/push use them.
 */
export {
  parseLfsPointer, inspectLfsPointer, formatLfsPointer, lfsOidOf, isLfsOid, LFS_SPEC_V1, LFS_POINTER_MAX_BYTES,
  type LfsOid, type LfsPointer, type LfsPointerExtension, type PointerParse,
} from "./pointer.ts";
export {
  LfsAttributes, parseAttributeFile, checkAttr, attributeDirs, ATTRIBUTE_FILE_NAMES,
  type AttrValue, type AttributeFile, type AttributeFileName, type AttributeFileRef, type AttributeSource,
} from "./attributes.ts";
export { directoryAttributeSource } from "./attribute-sources.ts";
export { AttrStack } from "./attr-stack.ts";
export { wildmatch } from "./wildmatch.ts";
export { resolveLfs, resolveLfsBytes, type LfsResolution, type LfsBlobRef, type LfsPathTest } from "./resolve.ts";
export { toPointer, cleanedBlob, LfsCommitFilter, type CleanResult, type FileContent, type FileStream } from "./clean.ts";
export { LfsObjectDir, type LfsObjectInfo } from "./object-dir.ts";
export { lfsClientFor } from "./from-config.ts";
