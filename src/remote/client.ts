/**
 * @module remote/client — the Mega HTTP client used by the store: listings, hashes, raw trees, blobs, latest
 * commit, CL files. Adds single-flight per key and concurrency limits on top of remote/http.
 * Knows nothing of FUSE or caching (the store caches; this module only fetches).
 */
import { Errno, FsError } from "../util/errno.ts";
import { parseGitTree, type TreeEntry } from "./git-tree.ts";
import { httpRequest, type HttpPolicy, type HttpRequest } from "./http.ts";
import { decodeClFiles, decodeLatestCommit, decodeTreeHashItems, readJson, unwrapCommon } from "./decode.ts";
import { EMPTY_BLOB_OID, EMPTY_TREE_OID, gitBlobOid, gitTreeOid, parseOid, type Oid } from "./oid.ts";
import { RemoteError } from "./remote-error.ts";
import { advertisedHead, packFromResponse, uploadPackRequest, type PackFetch } from "./pack.ts";
import { parsePackOffThread, preparePackThread } from "./pack-thread.ts";
import { Semaphore } from "./semaphore.ts";
import { raceSignal, SingleFlight } from "./single-flight.ts";
import { encodeQueryValue, normalizeBaseUrl, normalizeRepoPath, pathQueryUrl } from "./url.ts";
import type { ClFile, ClientStats, DirEntry, LatestCommit, MegaClient, MegaClientOptions, RequestOptions } from "./types.ts";

export function createMegaClient(options: MegaClientOptions): MegaClient {
  return new HttpMegaClient(options);
}

export const positive = (name: string, v: number | undefined, dflt: number): number => {
  const x = v ?? dflt;
  if (!Number.isFinite(x) || x <= 0) throw FsError.of("EINVAL", `${name} must be a positive number, got ${v}`);
  return x;
};

class HttpMegaClient implements MegaClient {
  readonly baseUrl: string;
  private readonly policy: HttpPolicy;
  private readonly blobTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly metaLimit: Semaphore;
  private readonly blobLimit: Semaphore;
  private readonly flights = new SingleFlight<string, unknown>();
  private readonly counters: ClientStats = { requests: 0, blobDownloads: 0, blobBytes: 0, singleFlightJoins: 0 };

  constructor(o: MegaClientOptions) {
    this.baseUrl = normalizeBaseUrl(o.baseUrl);
    const requestTimeoutMs = positive("requestTimeoutMs", o.requestTimeoutMs, 10_000);
    const maxRetries = o.maxRetries ?? 3;
    if (!Number.isInteger(maxRetries) || maxRetries < 0) throw FsError.of("EINVAL", `maxRetries must be a non-negative integer, got ${o.maxRetries}`);
    this.policy = {
      requestTimeoutMs,
      maxRetries,
      backoffBaseMs: positive("backoffBaseMs", o.backoffBaseMs, 100),
      backoffMaxMs: positive("backoffMaxMs", o.backoffMaxMs, 2_000),
      token: o.token,
    };
    this.blobTimeoutMs = positive("blobTimeoutMs", o.blobTimeoutMs, requestTimeoutMs * 3);
    this.connectTimeoutMs = positive("connectTimeoutMs", o.connectTimeoutMs, 3_000);
    const concurrency = o.concurrency ?? 10;
    this.metaLimit = new Semaphore(concurrency);
    this.blobLimit = new Semaphore(concurrency);
  }

  stats(): ClientStats {
    return { ...this.counters };
  }

  async listDir(path: string, opts?: RequestOptions & { refs?: string }): Promise<DirEntry[]> {
    const url = pathQueryUrl(this.baseUrl, "/api/v1/tree/content-hash", path) + (opts?.refs ? `&refs=${encodeQueryValue(opts.refs)}` : "");
    return this.shared(`ls:${url}`, opts, () =>
      this.meta({ method: "GET", url, read: async (res) => decodeTreeHashItems(url, unwrapCommon(url, await readJson(url, res), res.status)) }),
    );
  }

  async dirHash(path: string, opts?: RequestOptions & { refs?: string }): Promise<Oid | null> {
    const p = normalizeRepoPath(path);
    if (p === "/") {
      // Mega's dir-hash lists the parent, so "/" always answers []; hash the root's raw tree instead
      // (the current commit's: raw trees exist for no other).
      if (opts?.refs) throw FsError.of("EINVAL", "the root's tree id at another commit is not available");
      return (await this.rawTree(p, opts)).oid;
    }
    const url = pathQueryUrl(this.baseUrl, "/api/v1/tree/dir-hash", p) + (opts?.refs ? `&refs=${encodeQueryValue(opts.refs)}` : "");
    const items = await this.shared(`dh:${url}`, opts, () =>
      this.meta({ method: "GET", url, read: async (res) => decodeTreeHashItems(url, unwrapCommon(url, await readJson(url, res), res.status)) }),
    );
    const name = p.slice(p.lastIndexOf("/") + 1);
    const hit = items.find((i) => i.kind === "directory" && i.name === name) ?? (items.length === 1 ? items[0] : undefined);
    return hit && hit.kind === "directory" ? hit.oid : null;
  }

  async rawTree(path: string, opts?: RequestOptions): Promise<{ oid: Oid; body: Uint8Array }> {
    const url = pathQueryUrl(this.baseUrl, "/api/v1/file/tree", path);
    return this.shared(`rt:${url}`, opts, () =>
      this.meta({
        method: "GET",
        url,
        read: async (res) => {
          const body = new Uint8Array(await res.arrayBuffer());
          return { oid: body.length === 0 ? EMPTY_TREE_OID : gitTreeOid(body), body };
        },
      }),
    );
  }

  async treeEntries(path: string, opts?: RequestOptions): Promise<TreeEntry[]> {
    const { body } = await this.rawTree(path, opts);
    try {
      return parseGitTree(body);
    } catch (err) {
      throw new RemoteError({ failure: "protocol", url: pathQueryUrl(this.baseUrl, "/api/v1/file/tree", path), message: (err as Error).message, cause: err });
    }
  }

  async fetchBlob(oid: string, opts?: RequestOptions): Promise<Uint8Array> {
    const id = parseOid(oid);
    if (id === EMPTY_BLOB_OID) return new Uint8Array(0);
    const url = `${this.baseUrl}/api/v1/file/blob/${id}`;
    return this.shared(`blob:${id}`, opts, () =>
      this.blobLimit.run(() => {
        this.counters.requests++;
        this.counters.blobDownloads++;
        return httpRequest(this.policy, {
          method: "GET",
          url,
          timeoutMs: this.blobTimeoutMs,
          read: async (res) => {
            const bytes = new Uint8Array(await res.arrayBuffer());
            this.counters.blobBytes += bytes.length;
            return bytes;
          },
        });
      }),
    );
  }

  async fetchBlobVerified(oid: string, opts?: RequestOptions): Promise<Uint8Array> {
    const id = parseOid(oid);
    const bytes = await this.fetchBlob(id, opts);
    const got = gitBlobOid(bytes);
    if (got !== id) {
      throw new RemoteError({
        failure: "protocol",
        url: `${this.baseUrl}/api/v1/file/blob/${id}`,
        message: `blob ${id}: content hashes to ${got} (${bytes.length} bytes); refusing corrupt data`,
      });
    }
    return bytes;
  }

  async blobSize(oid: string, opts?: RequestOptions): Promise<number> {
    const id = parseOid(oid);
    if (id === EMPTY_BLOB_OID) return 0;
    const url = `${this.baseUrl}/api/v1/file/blob/${id}`;
    return this.shared(`size:${id}`, opts, async () => {
      const viaHead = await this.meta({
        method: "HEAD",
        url,
        read: async (res) => contentLength(res),
      });
      if (viaHead !== null) return viaHead;
      // Servers that drop Content-Length on HEAD: ask for one byte and read the total from Content-Range.
      const viaRange = await this.meta({
        method: "GET",
        url,
        headers: { range: "bytes=0-0" },
        read: async (res) => {
          const cr = res.headers.get("content-range");
          const total = cr?.match(/\/(\d+)\s*$/)?.[1];
          if (total !== undefined) {
            await res.body?.cancel();
            return Number(total);
          }
          // 200 without Range support: the full body is the blob.
          if (res.status === 200) return (await res.arrayBuffer()).byteLength;
          await res.body?.cancel();
          return null;
        },
      });
      if (viaRange === null) throw new RemoteError({ failure: "protocol", url, message: `${url}: server reported no size` });
      return viaRange;
    });
  }

  async fetchPack(path: string, opts?: RequestOptions & { maxBytes?: number }): Promise<PackFetch> {
    const p = normalizeRepoPath(path);
    // Mega serves any path as a repository: `{base}/{P}.git/...`, the root being `{base}/.git`.
    const repo = `${this.baseUrl}${p === "/" ? "" : p.split("/").map(encodeURIComponent).join("/")}.git`;
    const maxBytes = opts?.maxBytes ?? Number.MAX_SAFE_INTEGER;
    return this.shared(`pack:${repo}:${maxBytes}`, opts, () =>
      this.blobLimit.run(async () => {
        const refsUrl = `${repo}/info/refs?service=git-upload-pack`;
        preparePackThread();
        this.counters.requests++;
        const head = await httpRequest(this.policy, { method: "GET", url: refsUrl, read: async (res) => advertisedHead(new Uint8Array(await res.arrayBuffer()), refsUrl) });
        if (!head) return { head: null, objects: [] };
        const url = `${repo}/git-upload-pack`;
        this.counters.requests++;
        const objects = await httpRequest(this.policy, {
          method: "POST",
          url,
          headers: { "content-type": "application/x-git-upload-pack-request", accept: "application/x-git-upload-pack-result" },
          body: uploadPackRequest(head),
          timeoutMs: this.blobTimeoutMs * 4,
          read: async (res) => parsePackOffThread(packFromResponse(await readCapped(res, maxBytes, url), url), url),
        });
        for (const o of objects) if (o.type === "blob") this.counters.blobBytes += o.data.length;
        return { head, objects };
      }),
    );
  }

  async latestCommit(path: string, opts?: RequestOptions): Promise<LatestCommit> {
    const url = pathQueryUrl(this.baseUrl, "/api/v1/latest-commit", path);
    return this.shared(`lc:${url}`, opts, () =>
      this.meta({ method: "GET", url, read: async (res) => decodeLatestCommit(url, await readJson(url, res)) }),
    );
  }

  async clFilesList(link: string, opts?: RequestOptions): Promise<ClFile[]> {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(link)) throw FsError.of("EINVAL", `invalid CL link: ${JSON.stringify(link)}`);
    const url = `${this.baseUrl}/api/v1/cl/${encodeQueryValue(link)}/files-list`;
    return this.shared(`cl:${link}`, opts, () =>
      this.meta({ method: "GET", url, read: async (res) => decodeClFiles(url, unwrapCommon(url, await readJson(url, res), res.status)) }),
    );
  }

  async status(opts?: RequestOptions): Promise<string> {
    const url = `${this.baseUrl}/api/v1/status`;
    return this.meta({
      method: "GET",
      url,
      signal: opts?.signal,
      read: async (res) => {
        const body = await readJson(url, res);
        if (typeof body === "string") return body;
        throw new RemoteError({ failure: "protocol", url, message: `${url}: status is not a JSON string` });
      },
    });
  }

  async probe(opts?: RequestOptions): Promise<{ reachable: boolean; status?: number; error?: string }> {
    const url = this.baseUrl + "/";
    try {
      const status = await httpRequest(
        { ...this.policy, maxRetries: 0 },
        { method: "GET", url, timeoutMs: this.connectTimeoutMs, signal: opts?.signal, accept: () => true, read: async (res) => (await res.body?.cancel(), res.status) },
      );
      return { reachable: true, status };
    } catch (err) {
      return { reachable: false, error: (err as Error).message };
    }
  }

  /** A metadata request under the metadata concurrency limit. */
  private meta<T>(req: HttpRequest<T>): Promise<T> {
    return this.metaLimit.run(() => {
      this.counters.requests++;
      return httpRequest(this.policy, req);
    });
  }

  /** Single-flight by key; each caller may stop waiting on its own signal without cancelling the others. */
  private shared<T>(key: string, opts: RequestOptions | undefined, fn: () => Promise<T>): Promise<T> {
    let started = false;
    const p = this.flights.do(key, () => {
      started = true;
      return fn();
    }) as Promise<T>;
    if (!started) this.counters.singleFlightJoins++;
    return raceSignal(p, opts?.signal);
  }
}

/** A response body of at most `maxBytes`; a longer one is cancelled (EFBIG) rather than buffered. */
async function readCapped(res: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > maxBytes) {
      await reader.cancel();
      throw new FsError(Errno.EFBIG, `${url}: pack larger than ${maxBytes} bytes; not fetched`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function contentLength(res: Response): number | null {
  const v = res.headers.get("content-length");
  return v !== null && /^\d+$/.test(v.trim()) ? Number(v.trim()) : null;
}
