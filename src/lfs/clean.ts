/**
 * @module lfs/clean — the commit side (git-lfs's "clean" filter): what blob a file at an LFS path gets.
 * Content is stored in a local object directory by sha-256 and the commit gets the pointer text; `push`
 * later uploads the stored objects the server lacks. As git-lfs: an empty file stays an empty blob, and
 * content that already is a canonical pointer is committed as is (nothing to store or upload).
 * `cleanedBlob` computes the same answer without storing, for `status`/`diff` (compare the would-be blob
 * with the tree's blob, diff pointer texts).
 */
import { LfsObjectDir, type LfsObjectInfo } from "./object-dir.ts";
import { formatLfsPointer, LFS_POINTER_MAX_BYTES, lfsOidOf, parseLfsPointer, type LfsOid } from "./pointer.ts";

/** What a commit stores for one file. */
export interface CleanResult {
  /** The blob to commit: the pointer text, or the content itself when it is not converted. */
  blob: Uint8Array;
  /** The LFS object the pointer names (to upload at push); absent when no pointer was made. */
  object?: LfsObjectInfo;
}

/**
 * A file's content read on demand, any size: `read()` streams it from the start (called once per pass;
 * a caller that must not follow symlinks opens the file its own way).
 */
export interface FileStream {
  size: number;
  read(): AsyncIterable<Uint8Array>;
}

/** File content: bytes, a file on disk (streamed, any size), or a stream the caller opens. */
export type FileContent = Uint8Array | { file: string } | FileStream;

function streamOf(content: { file: string } | FileStream): FileStream {
  if ("read" in content) return content;
  const f = Bun.file(content.file);
  return { size: f.size, read: () => f.stream() };
}

async function allBytes(s: FileStream): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of s.read()) parts.push(chunk);
  return new Uint8Array(Buffer.concat(parts));
}

const encoder = new TextEncoder();

async function passThrough(content: FileContent): Promise<Uint8Array | null> {
  const size = content instanceof Uint8Array ? content.byteLength : streamOf(content).size;
  if (size === 0) return new Uint8Array(0);
  if (size > LFS_POINTER_MAX_BYTES) return null;
  const bytes = content instanceof Uint8Array ? content : await allBytes(streamOf(content));
  return parseLfsPointer(bytes) ? bytes : null;
}

async function sha256Of(content: FileStream): Promise<{ oid: LfsOid; size: number }> {
  const h = new Bun.CryptoHasher("sha256");
  let size = 0;
  for await (const chunk of content.read()) {
    h.update(chunk);
    size += chunk.byteLength;
  }
  return { oid: h.digest("hex") as LfsOid, size };
}

/** The blob a commit would get for this content, without storing anything. */
export async function cleanedBlob(content: FileContent, isLfsPath: boolean): Promise<CleanResult> {
  if (!isLfsPath) return { blob: content instanceof Uint8Array ? content : await allBytes(streamOf(content)) };
  const kept = await passThrough(content);
  if (kept) return { blob: kept };
  const object = content instanceof Uint8Array ? { oid: lfsOidOf(content), size: content.byteLength } : await sha256Of(streamOf(content));
  return { blob: encoder.encode(formatLfsPointer(object)), object };
}

/**
 * The blob to commit for a file at `path`: for an LFS path the content goes to `objects` (by sha-256) and
 * the pointer text comes back; otherwise the content itself.
 */
export async function toPointer(content: FileContent, opts: { isLfsPath: boolean; objects: LfsObjectDir }): Promise<CleanResult> {
  if (!opts.isLfsPath) return cleanedBlob(content, false);
  const kept = await passThrough(content);
  if (kept) return { blob: kept };
  const object = content instanceof Uint8Array ? await opts.objects.putBytes(content) : await opts.objects.putChunks(streamOf(content).read());
  return { blob: encoder.encode(formatLfsPointer(object)), object };
}

/** `toPointer`/`cleanedBlob` by path: the attributes of the tree being committed decide. */
export class LfsCommitFilter {
  constructor(
    private readonly isLfsPath: (path: string) => Promise<boolean>,
    private readonly objects: LfsObjectDir,
  ) {}

  /** Stores the object (for an LFS path) and returns the blob to commit. */
  async toPointer(path: string, content: FileContent): Promise<CleanResult> {
    return toPointer(content, { isLfsPath: await this.isLfsPath(path), objects: this.objects });
  }

  /** The blob a commit would get, storing nothing (status, diff). */
  async cleanedBlob(path: string, content: FileContent): Promise<CleanResult> {
    return cleanedBlob(content, await this.isLfsPath(path));
  }
}
