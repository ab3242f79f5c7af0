/**
 * @module store/types — the vocabulary of the local store: identifiers (Oid, Ino), inode rows,
 * directory listings as the store receives them, blob-cache reports and store options.
 * Pure types and tiny constant tables; knows nothing of SQLite, files, FUSE or Mega.
 */

import type { Oid } from "../remote/index.ts";

/** A git object id (40 lowercase hex), shared with src/remote, which owns parsing and hashing. */
export type { Oid };

/** An inode number of the store's tree. Root is 1; numbers are allocated upward and never reused. */
export type Ino = number & { readonly __brand: "Ino" };

export const ROOT_INO = 1 as Ino;

/** What a tree entry is. `gitlink` is a submodule commit: it has an oid but no fetchable content. */
export type InodeKind = "file" | "dir" | "symlink" | "gitlink";

/** The git file modes the store keeps (libgit2 `git_filemode_t`). */
export const GitMode = {
  TREE: 0o040000,
  BLOB: 0o100644,
  BLOB_EXECUTABLE: 0o100755,
  LINK: 0o120000,
  COMMIT: 0o160000,
} as const;
export type GitModeValue = (typeof GitMode)[keyof typeof GitMode];

/** One row of the inode table. */
export interface InodeRecord {
  readonly ino: Ino;
  /** 0 for the root only. */
  readonly parent: Ino;
  /** "" for the root only. */
  readonly name: string;
  readonly kind: InodeKind;
  readonly mode: GitModeValue;
  /** Blob id (file/symlink), tree or dir hash (dir), commit id (gitlink); null when unknown (root, local dirs). */
  readonly oid: Oid | null;
  /** Byte size; null = not known yet ("0" is a real, known size). */
  readonly size: number | null;
  /** Modification time in seconds since the epoch. */
  readonly mtime: number;
  /** Symlink target, when known. */
  readonly target: string | null;
  /**
   * FUSE generation for (ino, generation) uniqueness. The store never reuses an inode number, so this
   * stays 0 for every row it creates; the column exists so a future reuse scheme can bump it.
   */
  readonly generation: number;
  /** Index in the parent's server listing: dense 0..n-1, so a readdir offset maps straight to it. */
  readonly position: number;
}

/** One entry of a fresh server listing, as handed to `replaceDirectory`. */
export interface DirEntryInput {
  readonly name: string;
  readonly kind: InodeKind;
  readonly oid: Oid | null;
  /** Defaults by kind: file 100644, dir 040000, symlink 120000, gitlink 160000. Must agree with `kind`. */
  readonly mode?: GitModeValue;
  /** Omitted = keep the known size if the oid is unchanged, else unknown. */
  readonly size?: number | null;
  readonly target?: string | null;
  /** Seconds. Omitted = keep the old mtime if nothing changed, else the sync time (so `make` sees changes). */
  readonly mtime?: number;
}

export interface ReplaceDirectoryOptions {
  /** Hash of the directory this listing was taken at (the `oid` its parent reported), if known. */
  readonly dirOid?: Oid | null;
  /** When the listing was fetched, milliseconds since the epoch. Defaults to the store clock. */
  readonly syncedAt?: number;
}

/** An inode that went away, with where it was so the caller can invalidate the kernel's entry cache. */
export interface RemovedInode {
  readonly ino: Ino;
  readonly parent: Ino;
  readonly name: string;
  readonly kind: InodeKind;
}

export interface ReplaceDirectoryResult {
  /** New entries, each with a freshly allocated inode number. */
  readonly added: InodeRecord[];
  /** Same (name, kind) as before, but oid, mode, size, target or mtime differ; the inode number is kept. */
  readonly changed: InodeRecord[];
  /** Vanished entries (or entries whose kind changed) and, after each directory, all of its descendants. */
  readonly removed: RemovedInode[];
  /** Entries whose only change was their position in the listing. */
  readonly moved: number;
}

/** Sync state of one directory inode. */
export interface DirState {
  readonly ino: Ino;
  /** Directory hash the listing was taken at; null when unknown. */
  readonly dirOid: Oid | null;
  /** Milliseconds since the epoch of the last successful listing or hash check; null = never. */
  readonly syncedAt: number | null;
  /** True once a listing has been applied; the children rows are then authoritative. */
  readonly loaded: boolean;
}

/** An open, pinned blob file for zero-copy reads. `close()` closes the fd and unpins; it is idempotent. */
export interface BlobHandle {
  readonly oid: Oid;
  readonly path: string;
  /** A read-only OS file descriptor, valid until `close()`. */
  readonly fd: number;
  readonly size: number;
  close(): void;
}

export interface BlobUsage {
  /** Blobs whose content is cached on disk. */
  readonly blobs: number;
  /** Bytes of cached content. */
  readonly bytes: number;
  /** Cached blobs currently pinned (open files, copy-ups). */
  readonly pinned: number;
  readonly pinnedBytes: number;
  /** Blobs whose size is known (e.g. from HEAD) but whose content is not cached. */
  readonly sizeOnly: number;
  /** The configured budget. */
  readonly maxBytes: number;
}

export interface StoreUsage extends BlobUsage {
  readonly inodes: number;
  readonly loadedDirs: number;
}

export interface GcOptions {
  /** Evict unpinned blobs, least recently used first, until cached bytes ≤ this. Default: the low-water mark. */
  readonly targetBytes?: number;
}

export interface GcReport {
  readonly evictedBlobs: number;
  readonly evictedBytes: number;
  readonly remainingBytes: number;
  /** Bytes that could not be evicted because they are pinned. */
  readonly pinnedBytes: number;
}

export interface VerifyOptions {
  /** Re-read and re-hash every cached blob (slow); otherwise only sizes are checked. */
  readonly rehash?: boolean;
}

export interface VerifyReport {
  readonly checked: number;
  /** Index rows dropped because the file was missing, had the wrong size or the wrong hash. */
  readonly dropped: number;
  /** Files found under objects/ without an index row, adopted after a successful re-hash. */
  readonly adopted: number;
  /** Such files removed (not re-hashed, or hash mismatch, or a bad name). */
  readonly removedOrphans: number;
}

export interface StoreOptions {
  /** The store directory (`store_path`, or a per-view sub-directory). Created if missing. */
  readonly path: string;
  /** Budget for cached blob content. Default 10 GiB. */
  readonly cacheMaxBytes?: number;
  /** Eviction stops once cached bytes fall to this fraction of the budget (hysteresis). Default 0.9. */
  readonly lowWaterRatio?: number;
  /** fsync each blob file before renaming it into place. Default true. */
  readonly fsyncBlobs?: boolean;
  /** How often batched last-access times are written to SQLite, in ms. Default 30 000. */
  readonly accessFlushMs?: number;
  /** Check every cached blob when the store opens: "none" (default), "size" or "rehash". */
  readonly verifyOnOpen?: "none" | "size" | "rehash";
  /** Clock in milliseconds since the epoch; tests inject one to order accesses deterministically. */
  readonly now?: () => number;
}

export const DEFAULT_CACHE_MAX_BYTES = 10 * 1024 ** 3;
export const DEFAULT_LOW_WATER_RATIO = 0.9;
export const DEFAULT_ACCESS_FLUSH_MS = 30_000;
