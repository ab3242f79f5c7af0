/**
 * @module dicfuse/types — the vocabulary of the read-only monorepo view: options, the node shape the
 * view hands to its adapters (FUSE, overlay lower layer), and change events. No FUSE structs here.
 */
import type { InodeRecord, Oid } from "../store/index.ts";

export type StatMode = "fast" | "accurate";

export interface DicfuseOptions {
  /** Monorepo path this view shows at its root ("/" for the whole repository). */
  basePath: string;
  /**
   * Pin the view at this commit: it never follows new commits (job views whose lower layer must not
   * move under a running build). Null/absent = follow the server (the workspace): the watcher moves it.
   */
  pinnedCommit?: Oid | null;
  /** Kernel entry/attr cache lifetime of loaded entries, seconds. Long: changes are pushed as invalidations. */
  replyTtlSecs: number;
  /** Deadline of one FUSE request's wait for the server (listing, size); content downloads get 3×. 0 = none. */
  requestDeadlineMs?: number;
  /**
   * "accurate": every attribute carries the true size (unknown sizes are asked of the server, also
   * for each entry of a listing). "fast": listings never go to the network; entries of unknown size
   * are sent with a zero attr timeout so the first stat or open resolves the size.
   */
  statMode: StatMode;
  /** Pre-load directory listings (not file contents) this many levels deep at start; 0 = none. */
  loadDirDepth: number;
  /** How often the watcher of a following view checks the server for a new commit; 0 = never. */
  watchIntervalMs: number;
  /** Seconds the kernel may remember a name that does not exist. */
  negativeTtlSecs: number;
  /** After a cold read, fetch this many following files of the directory in the background; 0 = off. */
  dirReadahead?: number;
  /** Owner shown for every entry; defaults to the daemon's user. */
  uid?: number;
  gid?: number;
}

/** What the view knows of one entry: its store row. */
export type Node = InodeRecord;

/** Something the kernel (or any cache above the view) may hold that is now out of date. */
export type ViewChange =
  | { kind: "entry"; parent: number; name: string }
  | { kind: "inode"; ino: number };

export type ChangeListener = (changes: readonly ViewChange[]) => void;

export interface PrefetchProgress {
  matched: number;
  fetched: number;
  bytes: number;
  failed: number;
  done: boolean;
}
