/**
 * @module remote/remote-error — the one error type of the Mega client. It is an FsError, so the FUSE and
 * HTTP layers turn it into an errno/status without knowing about HTTP; it also names the URL and status.
 */
import { Errno, FsError } from "../util/errno.ts";

/** Why a request failed; stable strings callers may switch on. */
export type RemoteFailure =
  | "not-found" // 404 or a wrapper saying the thing does not exist  -> ENOENT
  | "http" // any other non-success status or req_result:false    -> EIO
  | "timeout" // the request deadline passed                        -> ETIMEDOUT
  | "network" // connection refused/reset, DNS, TLS                 -> EIO
  | "protocol" // a 2xx answer we cannot parse                        -> EIO
  | "aborted"; // the caller's own signal fired                      -> EINTR-like; we use ETIMEDOUT

export class RemoteError extends FsError {
  readonly url: string;
  readonly status: number | undefined;
  readonly failure: RemoteFailure;
  /** Whether another attempt might succeed (network errors, 5xx, 429). */
  readonly retryable: boolean;

  constructor(init: { failure: RemoteFailure; url: string; status?: number; message: string; retryable?: boolean; cause?: unknown }) {
    super(errnoFor(init.failure), init.message, { cause: init.cause });
    this.name = "RemoteError";
    this.url = init.url;
    this.status = init.status;
    this.failure = init.failure;
    this.retryable = init.retryable ?? false;
  }
}

function errnoFor(f: RemoteFailure): number {
  switch (f) {
    case "not-found":
      return Errno.ENOENT;
    case "timeout":
    case "aborted":
      return Errno.ETIMEDOUT;
    default:
      return Errno.EIO;
  }
}
