/**
 * @module overlay — the writable union of an upper directory, an optional CL layer and the Dicfuse
 * view: the FUSE filesystem, its mount, and the whiteout / opaque helpers a layer builder needs.
 */
export { OverlayFs, type OverlayLayers, type OverlayFsOptions } from "./overlay-fs.ts";
export { mountOverlay, type OverlayMount, type OverlayMountOptions } from "./mount.ts";
export { WHITEOUT, probeWhiteoutFormat, isWhiteout, isOpaque, OPAQUE_XATTR, OPAQUE_XATTRS_READ, OPAQUE_MARKER, WH_PREFIX, type WhiteoutFormat } from "./whiteout.ts";
export { protectLayerRoots } from "./layer-roots.ts";
