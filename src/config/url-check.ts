/**
 * @module config/url-check — the original's three URL checks (parsable, http/https, non-empty host) with its
 * messages. The WHATWG parser gives no reason on failure, so the common reasons the original's `url` crate
 * reported are reconstructed here.
 */
import { rustDebugString } from "./rust-debug.ts";

function parseFailureReason(value: string): string {
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(value)) return "relative URL without a base";
  const authority = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/*([^/?#]*)/.exec(value)?.[1] ?? "";
  const hostPort = authority.includes("@") ? authority.slice(authority.lastIndexOf("@") + 1) : authority;
  if (hostPort === "" || hostPort.startsWith(":")) return "empty host";
  const port = /:([^:\]]*)$/.exec(hostPort)?.[1];
  if (port !== undefined && (!/^[0-9]*$/.test(port) || Number(port) > 65535)) return "invalid port number";
  return "invalid domain character";
}

/** Returns the problem with `value` as the URL of `field`, or undefined when it is usable. */
export function urlProblem(field: string, value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `Invalid URL for '${field}': ${rustDebugString(value)} (${parseFailureReason(value)})`;
  }
  const scheme = url.protocol.replace(/:$/, "");
  if (scheme !== "http" && scheme !== "https") {
    return `Invalid URL scheme for '${field}': expected http/https, got ${rustDebugString(scheme)} in ${rustDebugString(value)}`;
  }
  if (url.hostname === "") return `Invalid URL for '${field}': missing host in ${rustDebugString(value)}`;
  return undefined;
}

/**
 * Drops trailing slashes. The original concatenated `{base_url}/api/...` and produced `//api` for a URL
 * ending in `/`; normalising once here fixes every caller.
 */
export function trimTrailingSlashes(value: string): string {
  let v = value;
  while (v.endsWith("/") && !v.endsWith("://")) v = v.slice(0, -1);
  return v;
}

/** lfs_url when none is set: where Mega serves the LFS batch API for a server at `baseUrl`. */
export function defaultLfsUrl(baseUrl: string): string {
  return `${trimTrailingSlashes(baseUrl)}/info/lfs`;
}
