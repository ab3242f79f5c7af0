/**
 * @module remote/http — one HTTP exchange with a deadline and retries. Transient failures (network errors,
 * 5xx, 429) are retried with exponential backoff and full jitter; 4xx and deadlines are not (a deadline is
 * the caller's whole budget). Connections are reused by Bun's fetch keep-alive pool.
 * Knows nothing of Mega's endpoints: callers say which statuses are acceptable and read the body.
 */
import { logger } from "../util/log.ts";
import { VERSION } from "../version.ts";
import { RemoteError } from "./remote-error.ts";

const log = logger("remote");

export interface HttpPolicy {
  /** Deadline for one attempt: headers and body. */
  requestTimeoutMs: number;
  /** Extra attempts after the first on transient failures. */
  maxRetries: number;
  /** Base of the exponential backoff (attempt n waits up to base * 2^n, capped). */
  backoffBaseMs: number;
  backoffMaxMs: number;
  token?: string;
}

export interface HttpRequest<T> {
  method: "GET" | "HEAD" | "POST";
  url: string;
  headers?: Record<string, string>;
  /** Request body (POST). */
  body?: Uint8Array;
  /** Statuses handed to `read` rather than turned into errors; default: 2xx. */
  accept?: (status: number) => boolean;
  /** Reads the response (body included) within the same deadline. Throw RemoteError("protocol") on garbage. */
  read: (res: Response) => Promise<T>;
  /** Per-call override of the policy's timeout. */
  timeoutMs?: number;
  /** The caller's own cancellation (e.g. a FUSE request deadline). */
  signal?: AbortSignal;
}

const defaultAccept = (s: number) => s >= 200 && s < 300;

export async function httpRequest<T>(policy: HttpPolicy, req: HttpRequest<T>): Promise<T> {
  const accept = req.accept ?? defaultAccept;
  for (let attempt = 0; ; attempt++) {
    try {
      return await attemptOnce(policy, req, accept);
    } catch (err) {
      const e = toRemoteError(err, req.url);
      if (!e.retryable || attempt >= policy.maxRetries || req.signal?.aborted) throw e;
      const delay = backoff(policy, attempt, e);
      log.debug("retrying", { url: req.url, attempt: attempt + 1, delayMs: delay, reason: e.message });
      await sleep(delay, req.signal).catch((cause: unknown) => {
        throw new RemoteError({ failure: "aborted", url: req.url, message: `${req.url}: cancelled`, cause });
      });
    }
  }
}

async function attemptOnce<T>(policy: HttpPolicy, req: HttpRequest<T>, accept: (s: number) => boolean): Promise<T> {
  const timeout = AbortSignal.timeout(req.timeoutMs ?? policy.requestTimeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
  const headers: Record<string, string> = { "user-agent": `scorpio/${VERSION}`, ...req.headers };
  if (policy.token) headers.authorization = `Bearer ${policy.token}`;
  let res: Response;
  try {
    res = await fetch(req.url, { method: req.method, headers, signal, redirect: "follow", ...(req.body ? { body: req.body } : {}) });
  } catch (err) {
    throw classifyThrown(err, req.url, timeout, req.signal);
  }
  if (!accept(res.status)) {
    const detail = await errorDetail(res, signal);
    const status = res.status;
    throw new RemoteError({
      failure: status === 404 ? "not-found" : "http",
      url: req.url,
      status,
      retryable: status >= 500 || status === 429,
      message: `${req.method} ${req.url}: HTTP ${status}${detail ? `: ${detail}` : ""}`,
      cause: status === 429 ? { retryAfter: res.headers.get("retry-after") } : undefined,
    });
  }
  try {
    return await req.read(res);
  } catch (err) {
    if (err instanceof RemoteError) throw err;
    throw classifyThrown(err, req.url, timeout, req.signal);
  }
}

/** The server's own words on an error (Mega's wrapper `err_message`, or the text), bounded. */
async function errorDetail(res: Response, signal: AbortSignal): Promise<string> {
  if (signal.aborted) return "";
  try {
    const text = (await res.text()).slice(0, 500);
    try {
      const j = JSON.parse(text) as { err_message?: unknown; message?: unknown };
      if (typeof j.err_message === "string" && j.err_message) return j.err_message;
      if (typeof j.message === "string" && j.message) return j.message;
    } catch {
      /* not JSON */
    }
    return text.trim();
  } catch {
    return "";
  }
}

function classifyThrown(err: unknown, url: string, timeout: AbortSignal, callerSignal?: AbortSignal): RemoteError {
  if (err instanceof RemoteError) return err;
  const name = (err as { name?: unknown } | null)?.name;
  if (timeout.aborted && (name === "TimeoutError" || name === "AbortError")) {
    return new RemoteError({ failure: "timeout", url, message: `${url}: deadline exceeded`, cause: err });
  }
  if (callerSignal?.aborted) {
    return new RemoteError({ failure: "aborted", url, message: `${url}: cancelled`, cause: err });
  }
  const code = (err as { code?: unknown } | null)?.code;
  const what = typeof code === "string" ? code : err instanceof Error ? err.message : String(err);
  return new RemoteError({ failure: "network", url, retryable: true, message: `${url}: ${what}`, cause: err });
}

function toRemoteError(err: unknown, url: string): RemoteError {
  if (err instanceof RemoteError) return err;
  return new RemoteError({ failure: "protocol", url, message: `${url}: ${err instanceof Error ? err.message : String(err)}`, cause: err });
}

function backoff(policy: HttpPolicy, attempt: number, e: RemoteError): number {
  const cap = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** attempt);
  // Honour a short Retry-After on 429; never wait longer than the cap allows.
  const ra = (e.cause as { retryAfter?: string | null } | undefined)?.retryAfter;
  if (ra && /^\d+$/.test(ra)) return Math.min(policy.backoffMaxMs, Number(ra) * 1000);
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
