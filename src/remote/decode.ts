/**
 * @module remote/decode — per-endpoint decoders: Mega's JSON arrives as `unknown` and leaves as our types.
 * Lenient where the original crashed (unknown content_type is a file, not a panic), strict where a wrong
 * value would corrupt the tree (oids must be 40-hex).
 */
import { RemoteError } from "./remote-error.ts";
import { isOid, type Oid } from "./oid.ts";
import type { ClAction, ClFile, DirEntry, LatestCommit } from "./types.ts";

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bad(url: string, why: string): RemoteError {
  return new RemoteError({ failure: "protocol", url, message: `${url}: unexpected response: ${why}` });
}

/** Unwraps `{req_result, data, err_message}`. req_result:false is ENOENT when the message says "not found". */
export function unwrapCommon(url: string, body: unknown, status: number): unknown {
  if (!isObj(body) || typeof body.req_result !== "boolean") throw bad(url, "missing req_result wrapper");
  if (!body.req_result) {
    const msg = typeof body.err_message === "string" ? body.err_message : "";
    const notFound = status === 404 || /not\s*found|does not exist|no such/i.test(msg);
    throw new RemoteError({ failure: notFound ? "not-found" : "http", url, status, message: `${url}: ${msg || "request failed"}` });
  }
  return body.data;
}

function oidField(url: string, o: Obj, key: string): Oid {
  const v = o[key];
  if (typeof v !== "string") throw bad(url, `${key} is not a string`);
  const s = v.replace(/^sha1:/i, "").toLowerCase();
  if (!isOid(s)) throw bad(url, `${key} is not a git object id: ${JSON.stringify(v)}`);
  return s;
}

function strField(url: string, o: Obj, key: string): string {
  const v = o[key];
  if (typeof v !== "string") throw bad(url, `${key} is not a string`);
  return v;
}

/** content-hash and dir-hash items. */
export function decodeTreeHashItems(url: string, data: unknown): DirEntry[] {
  if (data === null || data === undefined) return [];
  if (!Array.isArray(data)) throw bad(url, "data is not an array");
  return data.map((item, i) => {
    if (!isObj(item)) throw bad(url, `item ${i} is not an object`);
    const name = strField(url, item, "name");
    if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) {
      throw bad(url, `item ${i} has an unusable name ${JSON.stringify(name)}`);
    }
    return { name, oid: oidField(url, item, "oid"), kind: item.content_type === "directory" ? "directory" : "file" };
  });
}

/** latest-commit is not wrapped. Before Oct 2025 author/committer were `{display_name}` objects; accept both. */
export function decodeLatestCommit(url: string, body: unknown): LatestCommit {
  if (!isObj(body)) throw bad(url, "not an object");
  if (body.req_result === false) unwrapCommon(url, body, 200);
  const date = typeof body.date === "number" ? String(body.date) : typeof body.date === "string" ? body.date : "";
  return {
    oid: oidField(url, body, "oid"),
    date,
    time: date === "" ? Number.NaN : Number(date),
    shortMessage: typeof body.short_message === "string" ? body.short_message : "",
    author: person(body.author),
    committer: person(body.committer),
  };
}

function person(v: unknown): string {
  if (typeof v === "string") return v;
  if (isObj(v) && typeof v.display_name === "string") return v.display_name;
  return "";
}

const ACTIONS = new Set<ClAction>(["new", "modified", "deleted", "renamed"]);

/** files-list items. An unknown action is a protocol error (skipping it silently hid changes in the original). */
export function decodeClFiles(url: string, data: unknown): ClFile[] {
  if (data === null || data === undefined) return [];
  if (!Array.isArray(data)) throw bad(url, "data is not an array");
  return data.map((item, i) => {
    if (!isObj(item)) throw bad(url, `item ${i} is not an object`);
    const action = item.action;
    if (typeof action !== "string" || !ACTIONS.has(action as ClAction)) throw bad(url, `item ${i} has unknown action ${JSON.stringify(action)}`);
    const path = strField(url, item, "path");
    const rawSha = typeof item.sha === "string" ? item.sha : "";
    const sha = rawSha === "" ? "" : oidField(url, item, "sha");
    const out: ClFile = { path, sha, action: action as ClAction };
    if (typeof item.old_path === "string") out.oldPath = item.old_path;
    if (typeof item.similarity === "number") out.similarity = item.similarity;
    return out;
  });
}

export async function readJson(url: string, res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw bad(url, `not JSON: ${JSON.stringify(text.slice(0, 100))}`);
  }
}
