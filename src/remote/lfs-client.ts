/**
 * @module remote/lfs-client — the Git LFS batch API client, as Mega serves it (mega-api.md §2.8):
 * `POST {lfs_url}/objects/batch` with `operation`, `transfers:["basic"]`, `hash_algo:"sha256"` and
 * `objects:[{oid,size}]` (Mega requires all four), then the `basic` transfer: GET `actions.download.href`
 * or PUT `actions.upload.href` with the action's headers. Objects the server already has come back from
 * an upload batch without actions and are skipped; per-object errors (404...) are typed per object.
 *
 * Downloads stream into a temp file given by the caller while hashing; only an object whose sha-256 and
 * size match the pointer is handed over (`commit`), so a bad object never reaches a cache. Many objects
 * share one batch call (prefetch, read-ahead); concurrent requests for the same object share one
 * transfer. Every wait has a deadline: batch calls `requestTimeoutMs`, transfers that plus the time the
 * object takes at `minTransferBytesPerSec`.
 */
import { open, stat, unlink } from "node:fs/promises";
import { FsError } from "../util/errno.ts";
import { logger } from "../util/log.ts";
import { isLfsOid, type LfsOid } from "../lfs/pointer.ts";
import { positive } from "./client.ts";
import { httpRequest, type HttpPolicy } from "./http.ts";
import { decodeBatch } from "./lfs-decode.ts";
import {
  LFS_MEDIA_TYPE, LfsObjectError,
  type LfsAction, type LfsBatchEntry, type LfsClient, type LfsClientOptions, type LfsClientStats, type LfsDownloadTarget,
  type LfsObjectSpec, type LfsOperation, type LfsTransferResult, type LfsUploadObject, type LfsUploadReport,
} from "./lfs-types.ts";
import { RemoteError } from "./remote-error.ts";
import { Semaphore } from "./semaphore.ts";
import { raceSignal } from "./single-flight.ts";
import { normalizeBaseUrl } from "./url.ts";
import type { RequestOptions } from "./types.ts";

export * from "./lfs-types.ts";

const log = logger("lfs");

export function createLfsClient(options: LfsClientOptions): LfsClient {
  return new HttpLfsClient(options);
}

/** The oid of an all-zero probe object: no server has it, so a healthy endpoint answers a per-object 404. */
const PROBE_OID = "0".repeat(64) as LfsOid;

class HttpLfsClient implements LfsClient {
  readonly lfsUrl: string;
  private readonly origin: string;
  private readonly policy: HttpPolicy;
  private readonly minRate: number;
  private readonly batchSize: number;
  private readonly transfers: Semaphore;
  private readonly inflight = new Map<LfsOid, Promise<LfsTransferResult>>();
  private readonly counters: LfsClientStats = { batchCalls: 0, downloads: 0, downloadBytes: 0, uploads: 0, uploadBytes: 0, corrupt: 0, joins: 0 };

  constructor(o: LfsClientOptions) {
    this.lfsUrl = normalizeBaseUrl(o.lfsUrl);
    this.origin = new URL(this.lfsUrl).origin;
    const maxRetries = o.maxRetries ?? 3;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) throw FsError.of("EINVAL", `maxRetries must be a non-negative integer, got ${o.maxRetries}`);
    this.policy = {
      requestTimeoutMs: positive("requestTimeoutMs", o.requestTimeoutMs, 10_000),
      maxRetries,
      backoffBaseMs: positive("backoffBaseMs", o.backoffBaseMs, 100),
      backoffMaxMs: positive("backoffMaxMs", o.backoffMaxMs, 2_000),
      token: o.token,
    };
    this.minRate = positive("minTransferBytesPerSec", o.minTransferBytesPerSec, 1024 * 1024);
    this.batchSize = Math.floor(positive("batchSize", o.batchSize, 100));
    this.transfers = new Semaphore(Math.floor(positive("concurrency", o.concurrency, 4)));
  }

  stats(): LfsClientStats {
    return { ...this.counters };
  }

  async batch(operation: LfsOperation, objects: readonly LfsObjectSpec[], opts?: RequestOptions): Promise<LfsBatchEntry[]> {
    for (const o of objects) checkSpec(o);
    const out: LfsBatchEntry[] = [];
    for (let i = 0; i < objects.length; i += this.batchSize) {
      out.push(...(await this.batchOnce(operation, objects.slice(i, i + this.batchSize), opts)));
    }
    return out;
  }

  private async batchOnce(operation: LfsOperation, objects: readonly LfsObjectSpec[], opts?: RequestOptions): Promise<LfsBatchEntry[]> {
    const url = `${this.lfsUrl}/objects/batch`;
    const body = JSON.stringify({ operation, transfers: ["basic"], objects: objects.map((o) => ({ oid: o.oid, size: o.size })), hash_algo: "sha256" });
    this.counters.batchCalls++;
    let answer: unknown;
    try {
      answer = await httpRequest(this.policy, {
        method: "POST",
        url,
        headers: { accept: LFS_MEDIA_TYPE, "content-type": LFS_MEDIA_TYPE },
        body,
        signal: opts?.signal,
        read: async (res) => {
          const text = await res.text();
          try {
            return JSON.parse(text) as unknown;
          } catch {
            throw new RemoteError({ failure: "protocol", url, message: `${url}: batch answer is not JSON: ${text.slice(0, 200)}` });
          }
        },
      });
    } catch (err) {
      if (err instanceof RemoteError && err.status === 404) {
        // The usual cause is an lfs_url that is not an LFS endpoint (Mega's old root-level routes).
        throw new RemoteError({ failure: "not-found", url, status: 404, message: `${err.message} (is lfs_url right? Mega serves LFS under {base_url}/info/lfs)`, cause: err });
      }
      throw err;
    }
    return decodeBatch(url, operation, objects, answer);
  }

  async download(objects: readonly LfsObjectSpec[], target: LfsDownloadTarget, opts?: RequestOptions): Promise<LfsTransferResult[]> {
    for (const o of objects) checkSpec(o);
    const results = new Map<LfsOid, Promise<LfsTransferResult>>();
    const fresh: LfsObjectSpec[] = [];
    for (const o of objects) {
      if (results.has(o.oid)) continue;
      const running = this.inflight.get(o.oid);
      if (running) {
        this.counters.joins++;
        results.set(o.oid, running);
      } else fresh.push(o);
    }
    if (fresh.length > 0) {
      const settle = new Map<LfsOid, (r: LfsTransferResult) => void>();
      for (const o of fresh) {
        const p = new Promise<LfsTransferResult>((resolve) => settle.set(o.oid, resolve));
        this.inflight.set(o.oid, p);
        results.set(o.oid, p);
        void p.then(() => this.inflight.delete(o.oid));
      }
      // The shared work does not stop when one caller gives up: others may be waiting on the same objects.
      void this.runDownloads(fresh, target).then(
        (done) => {
          for (const r of done) settle.get(r.oid)!(r);
        },
        (err: unknown) => {
          const error = err instanceof RemoteError ? err : new RemoteError({ failure: "protocol", url: this.lfsUrl, message: String(err), cause: err });
          for (const o of fresh) settle.get(o.oid)!({ oid: o.oid, ok: false, error });
        },
      );
    }
    return raceSignal(Promise.all(objects.map((o) => results.get(o.oid)!)), opts?.signal);
  }

  private async runDownloads(objects: readonly LfsObjectSpec[], target: LfsDownloadTarget): Promise<LfsTransferResult[]> {
    let entries: LfsBatchEntry[];
    try {
      entries = await this.batch("download", objects);
    } catch (err) {
      const error = err as RemoteError;
      log.warn("LFS batch failed", { objects: objects.length, error: error.message });
      return objects.map((o) => ({ oid: o.oid, ok: false as const, error }));
    }
    return Promise.all(
      entries.map(async (e): Promise<LfsTransferResult> => {
        if (e.kind === "error") {
          log.warn("LFS object unavailable", { oid: e.oid, code: e.error.code, error: e.error.message });
          return { oid: e.oid, ok: false, error: e.error };
        }
        if (e.kind === "present") {
          return { oid: e.oid, ok: false, error: new LfsObjectError({ oid: e.oid, url: this.lfsUrl, failure: "protocol", message: `LFS object ${e.oid}: the server gave no download action` }) };
        }
        try {
          await this.transfers.run(() => this.fetchOne(e, e.action, target));
          return { oid: e.oid, ok: true };
        } catch (err) {
          const error = err as RemoteError;
          log.warn("LFS download failed", { oid: e.oid, error: error.message });
          return { oid: e.oid, ok: false, error };
        }
      }),
    );
  }

  private deadline(size: number): number {
    return this.policy.requestTimeoutMs + Math.ceil((size / this.minRate) * 1000);
  }

  private actionHeaders(action: LfsAction): { headers: Record<string, string>; noToken: boolean } {
    const own = Object.keys(action.header).some((k) => k.toLowerCase() === "authorization");
    let sameOrigin = false;
    try {
      sameOrigin = new URL(action.href).origin === this.origin;
    } catch {
      /* checked when the batch answer was decoded */
    }
    return { headers: action.header, noToken: own || !sameOrigin };
  }

  private async fetchOne(obj: LfsObjectSpec, action: LfsAction, target: LfsDownloadTarget): Promise<void> {
    const tmp = target.tempPath(obj);
    const { headers, noToken } = this.actionHeaders(action);
    try {
      await httpRequest(this.policy, {
        method: "GET",
        url: action.href,
        headers,
        noToken,
        timeoutMs: this.deadline(obj.size),
        read: async (res) => {
          this.counters.downloads++;
          // Each attempt starts a fresh file: a retry after a broken stream must not append.
          const fh = await open(tmp, "w", 0o444);
          const hasher = new Bun.CryptoHasher("sha256");
          let n = 0;
          try {
            if (res.body) {
              for await (const chunk of res.body) {
                n += chunk.byteLength;
                if (n > obj.size) break;
                hasher.update(chunk);
                await fh.write(chunk);
              }
            }
            await fh.sync();
          } finally {
            await fh.close();
          }
          this.counters.downloadBytes += n;
          const got = n > obj.size ? null : hasher.digest("hex");
          if (n !== obj.size || got !== obj.oid) {
            this.counters.corrupt++;
            throw new LfsObjectError({
              oid: obj.oid,
              url: action.href,
              failure: "protocol",
              message: n !== obj.size
                ? `LFS object ${obj.oid}: server sent ${n > obj.size ? `more than ${obj.size}` : n} bytes, the pointer says ${obj.size}; refusing it`
                : `LFS object ${obj.oid}: content hashes to ${got}; refusing corrupt data`,
            });
          }
        },
      });
      await target.commit(obj, tmp);
    } catch (err) {
      if (err instanceof RemoteError && err.status === 404 && !(err instanceof LfsObjectError)) {
        throw new LfsObjectError({ oid: obj.oid, code: 404, url: action.href, message: `LFS object ${obj.oid}: ${err.message}`, cause: err });
      }
      throw err;
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  async upload(objects: readonly LfsUploadObject[], opts?: RequestOptions): Promise<LfsUploadReport> {
    const report: LfsUploadReport = { uploaded: [], skipped: [], failed: [] };
    const unique = [...new Map(objects.map((o) => [o.oid, o])).values()];
    if (unique.length === 0) return report;
    const entries = await this.batch("upload", unique, opts);
    const byOid = new Map(unique.map((o) => [o.oid, o]));
    await Promise.all(
      entries.map(async (e) => {
        if (e.kind === "present") return void report.skipped.push(e.oid);
        if (e.kind === "error") return void report.failed.push({ oid: e.oid, error: e.error });
        try {
          await this.transfers.run(() => this.putOne(byOid.get(e.oid)!, e.action, e.verify, opts));
          report.uploaded.push(e.oid);
        } catch (err) {
          report.failed.push({ oid: e.oid, error: err as RemoteError });
        }
      }),
    );
    return report;
  }

  async uploadOrThrow(objects: readonly LfsUploadObject[], opts?: RequestOptions): Promise<LfsUploadReport> {
    const report = await this.upload(objects, opts);
    if (report.failed.length > 0) {
      const first = report.failed[0]!.error;
      const list = report.failed.map((f) => `${f.oid}: ${f.error.message}`).join("; ");
      throw new RemoteError({ failure: first.failure, url: first.url, status: first.status, message: `LFS upload failed for ${report.failed.length} of ${objects.length} object(s): ${list}`, cause: first });
    }
    return report;
  }

  private async putOne(obj: LfsUploadObject, action: LfsAction, verify: LfsAction | undefined, opts?: RequestOptions): Promise<void> {
    const st = await stat(obj.path).catch((err: unknown) => {
      throw new LfsObjectError({ oid: obj.oid, url: action.href, failure: "protocol", message: `LFS object ${obj.oid}: cannot read ${obj.path}: ${(err as Error).message}` });
    });
    if (st.size !== obj.size) {
      throw new LfsObjectError({ oid: obj.oid, url: action.href, failure: "protocol", message: `LFS object ${obj.oid}: ${obj.path} has ${st.size} bytes, the pointer says ${obj.size}` });
    }
    const { headers, noToken } = this.actionHeaders(action);
    await httpRequest(this.policy, {
      method: "PUT",
      url: action.href,
      headers: { "content-type": "application/octet-stream", ...headers },
      noToken,
      body: Bun.file(obj.path),
      timeoutMs: this.deadline(obj.size),
      signal: opts?.signal,
      read: async (res) => void (await res.body?.cancel()),
    });
    this.counters.uploads++;
    this.counters.uploadBytes += obj.size;
    if (verify) {
      const v = this.actionHeaders(verify);
      await httpRequest(this.policy, {
        method: "POST",
        url: verify.href,
        headers: { accept: LFS_MEDIA_TYPE, "content-type": LFS_MEDIA_TYPE, ...v.headers },
        noToken: v.noToken,
        body: JSON.stringify({ oid: obj.oid, size: obj.size }),
        signal: opts?.signal,
        read: async (res) => void (await res.body?.cancel()),
      });
    }
  }

  async probe(opts?: RequestOptions): Promise<{ ok: boolean; status?: number; error?: string }> {
    try {
      const [entry] = await this.batch("download", [{ oid: PROBE_OID, size: 0 }], opts);
      // A per-object 404 (or, oddly, an action) both mean the endpoint speaks the batch API.
      return { ok: entry !== undefined, status: 200 };
    } catch (err) {
      const e = err as RemoteError;
      return { ok: false, status: e.status, error: e.message };
    }
  }
}

function checkSpec(o: LfsObjectSpec): void {
  if (!isLfsOid(o.oid)) throw FsError.of("EINVAL", `not an LFS object id (sha-256 hex): ${JSON.stringify(o.oid)}`);
  if (!Number.isSafeInteger(o.size) || o.size < 0) throw FsError.of("EINVAL", `invalid LFS object size for ${o.oid}: ${o.size}`);
}
