/**
 * @module remote/lfs-types — the typed face of the LFS batch client: objects, actions, per-object answers
 * and errors, options and results. The wire shapes are decoded in lfs-decode.ts.
 */
import type { LfsOid } from "../lfs/pointer.ts";
import { RemoteError } from "./remote-error.ts";
import type { RequestOptions } from "./types.ts";

export const LFS_MEDIA_TYPE = "application/vnd.git-lfs+json";

export type LfsOperation = "download" | "upload";

export interface LfsObjectSpec {
  oid: LfsOid;
  size: number;
}

/** A transfer the server handed out: where to send the request and with which headers. */
export interface LfsAction {
  href: string;
  header: Record<string, string>;
  /** Absolute expiry (ms since the epoch), when the server said. */
  expiresAt?: number;
}

/** The server's answer for one object of a batch. */
export type LfsBatchEntry =
  | (LfsObjectSpec & { kind: "action"; action: LfsAction; verify?: LfsAction })
  /** Upload only: the server already has the object. */
  | (LfsObjectSpec & { kind: "present" })
  | (LfsObjectSpec & { kind: "error"; error: LfsObjectError });

/** A per-object failure: the batch answer's `error` for it, or a failed or corrupt transfer. */
export class LfsObjectError extends RemoteError {
  readonly oid: string;
  /** The object error code (404, 410, 422...) or the transfer's HTTP status; undefined for corrupt data. */
  readonly code: number | undefined;

  constructor(init: { oid: string; code?: number; url: string; message: string; failure?: "not-found" | "http" | "protocol" | "timeout" | "network"; cause?: unknown }) {
    super({
      failure: init.failure ?? (init.code === 404 || init.code === 410 ? "not-found" : "http"),
      url: init.url,
      status: init.code,
      message: init.message,
      cause: init.cause,
    });
    this.name = "LfsObjectError";
    this.oid = init.oid;
    this.code = init.code;
  }
}

/** Where a download goes: a temp path per object, then a verified hand-over (typically a rename into a cache). */
export interface LfsDownloadTarget {
  /** A path the client may create and overwrite, on the filesystem of the object's final place. */
  tempPath(object: LfsObjectSpec): string;
  /** Called once with the verified file; must take it over (rename) or copy it. The client removes it afterwards if it still exists. */
  commit(object: LfsObjectSpec, tempPath: string): Promise<void> | void;
}

export type LfsTransferResult = { oid: LfsOid; ok: true } | { oid: LfsOid; ok: false; error: RemoteError };

export interface LfsUploadObject extends LfsObjectSpec {
  /** The object's content on disk. */
  path: string;
}

export interface LfsUploadReport {
  uploaded: LfsOid[];
  /** The server already had these. */
  skipped: LfsOid[];
  failed: Array<{ oid: LfsOid; error: RemoteError }>;
}

export interface LfsClientOptions {
  /** The LFS endpoint (config `lfs_url`), e.g. `http://mega:8000/info/lfs`. */
  lfsUrl: string;
  /** Bearer token for the batch endpoint (and for transfer URLs on the same origin without their own Authorization). */
  token?: string;
  /** Deadline of a batch call, and the fixed part of a transfer's deadline. Default 10 000. */
  requestTimeoutMs?: number;
  /** Slowest transfer rate tolerated before a transfer times out. Default 1 MiB/s. */
  minTransferBytesPerSec?: number;
  /** Extra attempts on transient failures. Default 3. */
  maxRetries?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Transfers running at once. Default 4. */
  concurrency?: number;
  /** Objects per batch call (git-lfs uses 100). Default 100. */
  batchSize?: number;
}

export interface LfsClientStats {
  batchCalls: number;
  downloads: number;
  downloadBytes: number;
  uploads: number;
  uploadBytes: number;
  /** Downloads refused because the content did not match the pointer. */
  corrupt: number;
  /** Requests that joined a transfer already running for the same object. */
  joins: number;
}

export interface LfsClient {
  readonly lfsUrl: string;
  /** One batch call per `batchSize` objects; answers in request order. */
  batch(operation: LfsOperation, objects: readonly LfsObjectSpec[], opts?: RequestOptions): Promise<LfsBatchEntry[]>;
  /** Downloads objects (one batch call for all of them), verifies them and hands each to `target.commit`. Never throws for a single object. */
  download(objects: readonly LfsObjectSpec[], target: LfsDownloadTarget, opts?: RequestOptions): Promise<LfsTransferResult[]>;
  /** Uploads what the server lacks. Never throws for a single object; see `uploadOrThrow`. */
  upload(objects: readonly LfsUploadObject[], opts?: RequestOptions): Promise<LfsUploadReport>;
  /** `upload`, then one error naming every object that failed. */
  uploadOrThrow(objects: readonly LfsUploadObject[], opts?: RequestOptions): Promise<LfsUploadReport>;
  /** A download batch for one made-up object: does the endpoint speak the batch API? Never throws. */
  probe(opts?: RequestOptions): Promise<{ ok: boolean; status?: number; error?: string }>;
  stats(): LfsClientStats;
}
