/**
 * @module store/backing-store — what the object store needs from a server: blobs by id, their sizes,
 * and (optionally) every object under a path in one pack. The Mega client is one implementation;
 * tests use a fake that counts fetches. Knows nothing of caching.
 */
import type { Oid } from "./types.ts";

export interface FetchOptions {
  /** The caller's deadline; a shared fetch keeps running for other waiters when one caller gives up. */
  signal?: AbortSignal;
}

/** One object of a pack, with the id computed from its bytes (so it is verified by construction). */
export interface PackObject {
  readonly type: "blob" | "tree" | "commit" | "tag";
  readonly oid: Oid;
  readonly data: Uint8Array;
}

/** One child of a listing without modes (`content-hash`, which can list any commit). */
export interface PlainEntry {
  readonly name: string;
  readonly oid: Oid;
  readonly kind: "file" | "directory";
}

export interface BackingStore {
  /** The raw git tree of `path` at the server's current commit, and its id. */
  rawTree(path: string, opts?: FetchOptions): Promise<{ oid: Oid; body: Uint8Array }>;
  /** Children of `path` at commit `refs` (no modes: the server has raw trees for the current commit only). */
  listDir(path: string, opts?: FetchOptions & { refs?: string }): Promise<PlainEntry[]>;
  /** The tree id of directory `path` (not "/") at commit `refs`; null when it does not exist there. */
  dirHash(path: string, opts?: FetchOptions & { refs?: string }): Promise<Oid | null>;
  /** The newest commit touching `path`: the watcher's one cheap request per interval. */
  latestCommit(path: string, opts?: FetchOptions): Promise<{ oid: Oid }>;
  /** Blob bytes, unverified (the object store hashes them exactly once). ENOENT if the server lacks it. */
  fetchBlob(oid: Oid, opts?: FetchOptions): Promise<Uint8Array>;
  /** A blob's byte size without its content (HEAD). */
  blobSize(oid: Oid, opts?: FetchOptions): Promise<number>;
  /**
   * Every object of the current commit's subtree at `path`, in one request (Mega serves any path as a
   * git repository: `{path}.git/git-upload-pack`), with the commit it was taken at. A pack over
   * `maxBytes` is abandoned (EFBIG). Absent when the server cannot send packs.
   */
  fetchPack?(path: string, opts?: FetchOptions & { maxBytes?: number }): Promise<{ head: Oid | null; objects: PackObject[] }>;
}
