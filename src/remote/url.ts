/**
 * @module remote/url — building Mega URLs: base URL normalisation and query/path encoding.
 * The original formatted URLs by hand: a trailing slash in base_url gave `//api/...`, and only `+`/`#`
 * were escaped in `path` so `&` or `%` in a name broke the query. Here every component is percent-encoded.
 */
import { FsError } from "../util/errno.ts";

/** Validates and normalises a base URL: http(s) only, no query/fragment, no trailing slash. */
export function normalizeBaseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw FsError.of("EINVAL", `invalid Mega base URL: ${JSON.stringify(raw)}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw FsError.of("EINVAL", `Mega base URL must be http or https: ${JSON.stringify(raw)}`);
  }
  u.search = "";
  u.hash = "";
  return u.toString().replace(/\/+$/, "");
}

/**
 * A monorepo path as Mega expects it: absolute, single slashes, no trailing slash; "" and "/" are the root.
 * `.` and `..` components are refused (Mega would look them up literally and find nothing).
 */
export function normalizeRepoPath(path: string): string {
  const parts = path.split("/").filter((p) => p.length > 0);
  for (const p of parts) {
    if (p === "." || p === "..") throw FsError.of("EINVAL", `path component ${JSON.stringify(p)} not allowed: ${JSON.stringify(path)}`);
    if (p.includes("\0")) throw FsError.of("EINVAL", `NUL in path: ${JSON.stringify(path)}`);
  }
  return "/" + parts.join("/");
}

/** Encodes a query value. `/` stays readable; everything else that is not unreserved is escaped. */
export function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(/%2F/g, "/");
}

/** `{base}/api/v1/...?path=<encoded>` */
export function pathQueryUrl(base: string, endpoint: string, path: string): string {
  return `${base}${endpoint}?path=${encodeQueryValue(normalizeRepoPath(path))}`;
}
