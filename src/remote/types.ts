/**
 * @module remote/types — the typed face of the Mega client: options, results and the MegaClient interface.
 * Result shapes are ours (camelCase, validated); the wire shapes live in decode.ts.
 */
import type { TreeEntry } from "./git-tree.ts";
import type { Oid } from "./oid.ts";
import type { PackFetch } from "./pack.ts";

export interface MegaClientOptions {
  /** Mega base URL, e.g. `http://127.0.0.1:8000` (a trailing slash is fine). */
  baseUrl: string;
  /**
   * Kept for config parity (dicfuse_connect_timeout_secs). Bun's fetch has no separate connect phase, so
   * this bounds only the `probe()` call; every other request is bounded by requestTimeoutMs.
   */
  connectTimeoutMs?: number;
  /** Deadline of one attempt (headers + body). Default 10 000. */
  requestTimeoutMs?: number;
  /** Deadline of one blob download attempt. Default 3 × requestTimeoutMs (30 s with the defaults, as the original). */
  blobTimeoutMs?: number;
  /** Extra attempts on transient failures (network, 5xx, 429). Default 3. */
  maxRetries?: number;
  /** Concurrent blob downloads (fetch_file_thread); metadata requests get their own pool of the same size. Default 10. */
  concurrency?: number;
  /** Sent as `Authorization: Bearer` when set. Read endpoints are anonymous on Mega. */
  token?: string;
  /** Backoff base/cap in ms (tests shrink them). Defaults 100 / 2 000. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

export type DirEntryKind = "file" | "directory";

/** One child from /api/v1/tree/content-hash. `oid` is the blob id (file) or tree id (directory). */
export interface DirEntry {
  name: string;
  oid: Oid;
  kind: DirEntryKind;
}

/** /api/v1/latest-commit, as Mega gives it (date is unix seconds, as a string on the wire). */
export interface LatestCommit {
  oid: Oid;
  /** Committer time, unix seconds, exactly as the server sent it. */
  date: string;
  /** The same, parsed; NaN if the server sent something that is not a number. */
  time: number;
  shortMessage: string;
  author: string;
  committer: string;
}

export type ClAction = "new" | "modified" | "deleted" | "renamed";

/** One entry of /api/v1/cl/{link}/files-list. */
export interface ClFile {
  /** As sent by the server: relative to the CL's path on Mega (absolute-looking for CLs at `/`). */
  path: string;
  /** New blob id for new/modified/renamed, old blob id for deleted; `sha1:` prefix stripped. Empty if the server sent none. */
  sha: Oid | "";
  action: ClAction;
  /** For renamed entries. */
  oldPath?: string;
  similarity?: number;
}

export interface RequestOptions {
  /** The caller's deadline/cancellation; a shared (single-flight) fetch keeps running for the other waiters. */
  signal?: AbortSignal;
}

export interface MegaClient {
  readonly baseUrl: string;
  /** Children of a directory, in server order. A missing path or a file gives [] (Mega's contract). */
  listDir(path: string, opts?: RequestOptions & { refs?: string }): Promise<DirEntry[]>;
  /**
   * The tree id of a directory, or null when it does not exist. For `/` Mega's dir-hash answers nothing,
   * so the root's id is computed from its raw tree instead (fixes the original's root-watcher blind spot).
   */
  dirHash(path: string, opts?: RequestOptions & { refs?: string }): Promise<Oid | null>;
  /** Entries of a directory with git modes, from the raw tree. A missing path gives []. */
  treeEntries(path: string, opts?: RequestOptions): Promise<TreeEntry[]>;
  /** The raw tree body of a directory and its id (empty body = missing path = the empty tree id). */
  rawTree(path: string, opts?: RequestOptions): Promise<{ oid: Oid; body: Uint8Array }>;
  /** Blob bytes, unverified. Throws RemoteError ENOENT when the server does not have it. */
  fetchBlob(oid: string, opts?: RequestOptions): Promise<Uint8Array>;
  /** Blob bytes whose git SHA-1 was checked against `oid`; a mismatch is FsError(EIO). */
  fetchBlobVerified(oid: string, opts?: RequestOptions): Promise<Uint8Array>;
  /** Blob size from HEAD Content-Length, falling back to a `Range: bytes=0-0` GET. */
  blobSize(oid: string, opts?: RequestOptions): Promise<number>;
  /**
   * Every object of `path`'s repository (Mega serves each path as a git repository; the path's current
   * commit and its history) in one upload-pack exchange, ids computed from the bytes; no objects when
   * the path has no commit. A response over `maxBytes` is cancelled with EFBIG.
   */
  fetchPack(path: string, opts?: RequestOptions & { maxBytes?: number }): Promise<PackFetch>;
  /** The newest commit touching `path`. Throws ENOENT if the path does not exist. */
  latestCommit(path: string, opts?: RequestOptions): Promise<LatestCommit>;
  /** Files changed by a CL. Throws ENOENT for an unknown CL. */
  clFilesList(link: string, opts?: RequestOptions): Promise<ClFile[]>;
  /** GET /api/v1/status: the server's readiness string ("http ready" on Mega). */
  status(opts?: RequestOptions): Promise<string>;
  /** GET {baseUrl}: any HTTP answer counts as reachable (what `doctor` checks). Never throws. */
  probe(opts?: RequestOptions): Promise<{ reachable: boolean; status?: number; error?: string }>;
  /** Counters for /metrics. */
  stats(): ClientStats;
}

export interface ClientStats {
  requests: number;
  blobDownloads: number;
  blobBytes: number;
  singleFlightJoins: number;
}
