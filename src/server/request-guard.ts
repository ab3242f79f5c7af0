/**
 * @module server/request-guard — browser-borne request forgery. A web page can make a browser send
 * "simple" requests (form posts, `text/plain` fetches) to a daemon on localhost without a CORS preflight;
 * those carry a non-JSON content type or a foreign `Origin`. The API only takes JSON bodies, so anything
 * else is 415, and a request whose `Origin` is present and not the daemon's own is 403. Without a token, a
 * `Host` that is a DNS name is 403 too (DNS rebinding).
 */
import { isIP } from "node:net";
import type { ErrorBody } from "./http-error.ts";

export interface GuardRefusal {
  status: 403 | 415;
  body: ErrorBody;
}

/** `application/json` or `application/<x>+json`, with any parameters (`; charset=utf-8`). */
function isJsonMediaType(contentType: string): boolean {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

function hasBody(request: Request): boolean {
  const length = request.headers.get("content-length");
  if (length !== null) return length.trim() !== "0";
  return request.headers.has("transfer-encoding");
}

/**
 * DNS rebinding: a page on `evil.example` whose name is re-pointed at 127.0.0.1 makes same-origin requests
 * with `Host: evil.example`. A daemon without a token therefore only answers Host values that are IP
 * literals or `localhost`, which no attacker's DNS name can be.
 */
function hostAllowed(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || host.endsWith(".localhost") || isIP(host) !== 0;
}

/** Undefined when the request may proceed. `tokenless`: the daemon has no `http_token` (check the Host too). */
export function guardRequest(request: Request, opts: { tokenless?: boolean } = {}): GuardRefusal | undefined {
  const url = new URL(request.url);
  if (opts.tokenless && !hostAllowed(url)) {
    return {
      status: 403,
      body: { error: `Host '${url.host}' refused: without http_token the API answers only IP addresses and localhost (DNS rebinding)`, code: "FORBIDDEN_HOST" },
    };
  }
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== url.origin) {
    return {
      status: 403,
      body: { error: `cross-origin request from '${origin}' refused; the API serves only same-origin and non-browser clients`, code: "FORBIDDEN_ORIGIN" },
    };
  }
  const contentType = request.headers.get("content-type");
  if (contentType !== null ? !isJsonMediaType(contentType) : hasBody(request)) {
    return {
      status: 415,
      body: { error: `request bodies must be JSON (Content-Type: application/json), got '${contentType ?? "none"}'`, code: "UNSUPPORTED_MEDIA_TYPE" },
    };
  }
  return undefined;
}
