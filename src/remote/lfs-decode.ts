/**
 * @module remote/lfs-decode — checks a batch answer and lines it up with the request: each object becomes
 * an action, `present` (upload: the server has it) or a per-object error; an object the server left out
 * is an error for that object only.
 */
import { RemoteError } from "./remote-error.ts";
import { LfsObjectError, type LfsAction, type LfsBatchEntry, type LfsObjectSpec, type LfsOperation } from "./lfs-types.ts";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function decodeAction(url: string, oid: string, v: unknown): LfsAction {
  if (!isObject(v) || typeof v.href !== "string") throw new RemoteError({ failure: "protocol", url, message: `${url}: object ${oid}: action without href` });
  let href: URL;
  try {
    href = new URL(v.href);
  } catch {
    throw new RemoteError({ failure: "protocol", url, message: `${url}: object ${oid}: invalid href ${JSON.stringify(v.href)}` });
  }
  if (href.protocol !== "http:" && href.protocol !== "https:") {
    throw new RemoteError({ failure: "protocol", url, message: `${url}: object ${oid}: href is not http(s): ${JSON.stringify(v.href)}` });
  }
  const header: Record<string, string> = {};
  if (isObject(v.header)) for (const [k, val] of Object.entries(v.header)) if (typeof val === "string") header[k] = val;
  let expiresAt: number | undefined;
  if (typeof v.expires_at === "string" && !Number.isNaN(Date.parse(v.expires_at))) expiresAt = Date.parse(v.expires_at);
  else if (typeof v.expires_in === "number") expiresAt = Date.now() + v.expires_in * 1000;
  return { href: href.toString(), header, expiresAt };
}

/** Checks the batch answer and lines it up with the request; an object the server left out is a per-object error. */
export function decodeBatch(url: string, operation: LfsOperation, requested: readonly LfsObjectSpec[], answer: unknown): LfsBatchEntry[] {
  const bad = (what: string) => new RemoteError({ failure: "protocol", url, message: `${url}: ${what}` });
  if (!isObject(answer) || !Array.isArray(answer.objects)) throw bad("batch answer has no objects array");
  if (answer.transfer !== undefined && answer.transfer !== "basic") throw bad(`server chose transfer ${JSON.stringify(answer.transfer)}, only "basic" is supported`);
  if (answer.hash_algo !== undefined && answer.hash_algo !== "sha256") throw bad(`server uses hash ${JSON.stringify(answer.hash_algo)}, only sha256 is supported`);
  const byOid = new Map<string, Json>();
  for (const o of answer.objects) if (isObject(o) && typeof o.oid === "string") byOid.set(o.oid, o);
  return requested.map((req): LfsBatchEntry => {
    const o = byOid.get(req.oid);
    if (!o) {
      return { ...req, kind: "error", error: new LfsObjectError({ oid: req.oid, url, failure: "protocol", message: `LFS object ${req.oid}: missing from the batch answer` }) };
    }
    if (isObject(o.error)) {
      const code = typeof o.error.code === "number" ? o.error.code : undefined;
      const message = typeof o.error.message === "string" ? o.error.message : "error";
      return { ...req, kind: "error", error: new LfsObjectError({ oid: req.oid, code, url, message: `LFS object ${req.oid}: ${code ?? ""} ${message}`.replace("  ", " ") }) };
    }
    const actions = isObject(o.actions) ? o.actions : undefined;
    const main = actions?.[operation];
    if (main === undefined) {
      if (operation === "upload") return { ...req, kind: "present" };
      return { ...req, kind: "error", error: new LfsObjectError({ oid: req.oid, url, failure: "protocol", message: `LFS object ${req.oid}: no download action in the batch answer` }) };
    }
    const action = decodeAction(url, req.oid, main);
    const verify = actions?.verify !== undefined ? decodeAction(url, req.oid, actions.verify) : undefined;
    return verify ? { ...req, kind: "action", action, verify } : { ...req, kind: "action", action };
  });
}
