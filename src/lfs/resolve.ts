/**
 * @module lfs/resolve — the read side's one question: is this file an LFS file, and if so what does the
 * user see? A file is LFS when `filter=lfs` applies to its path (attributes) and its blob is a canonical
 * pointer; it then shows the pointer's size (no download for `stat`) and the LFS object as its content.
 * Anything else (no attribute, a blob that is not a pointer, an empty blob) shows the blob itself, as
 * `git lfs smudge` passes such content through. Big blobs are never loaded: a pointer is ≤ 1024 bytes.
 */
import { LFS_POINTER_MAX_BYTES, inspectLfsPointer, type LfsPointer } from "./pointer.ts";

export type LfsResolution =
  /** Not LFS: size and content are the blob's. */
  | { kind: "plain" }
  /** LFS: size is `pointer.size`, content is the object `pointer.oid`. */
  | { kind: "lfs"; pointer: LfsPointer }
  /** A pointer whose content needs a local extension program (`ext-N-name` lines): cannot be shown (EIO on read). */
  | { kind: "unsupported"; pointer: LfsPointer; reason: string };

/** The blob of a tree entry, as the read path holds it. */
export interface LfsBlobRef {
  /** The blob's size when known (from the listing or a HEAD); null = unknown. */
  size: number | null;
  /** The blob's bytes (called only for blobs of at most 1024 bytes, or of unknown size). */
  load(): Promise<Uint8Array>;
}

/** `git check-attr filter` is `lfs` for a path; usually `LfsAttributes.isLfsPath`. */
export type LfsPathTest = (path: string) => Promise<boolean>;

/** Decides how a file is shown. Cheapest checks first: size, then attributes, then the blob's bytes. */
export async function resolveLfs(path: string, blob: LfsBlobRef, isLfsPath: LfsPathTest): Promise<LfsResolution> {
  if (blob.size !== null && (blob.size === 0 || blob.size > LFS_POINTER_MAX_BYTES)) return { kind: "plain" };
  if (!(await isLfsPath(path))) return { kind: "plain" };
  return resolveLfsBytes(await blob.load(), true);
}

/** The same decision when the blob's bytes are at hand. */
export function resolveLfsBytes(bytes: Uint8Array, isLfsPath: boolean): LfsResolution {
  if (!isLfsPath || bytes.byteLength === 0 || bytes.byteLength > LFS_POINTER_MAX_BYTES) return { kind: "plain" };
  const parsed = inspectLfsPointer(bytes);
  if (!parsed.ok) return { kind: "plain" };
  const { pointer } = parsed;
  if (pointer.extensions.length > 0) {
    const names = pointer.extensions.map((e) => e.name).join(", ");
    return { kind: "unsupported", pointer, reason: `LFS pointer needs extension program(s) ${names}, which a mount cannot run` };
  }
  return { kind: "lfs", pointer };
}
