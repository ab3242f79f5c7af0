/**
 * @module vcs/mega-base — what Mega says a mount's base is: the head commit of the per-path repository
 * `{P}.git` (the commit a push must name as its old id) and the tree at P, read consistently (the head is
 * read again after the tree; a race with a push to main is retried). Also fetches raw tree objects by id
 * for the base-tree listing. Every request has a deadline.
 */
import { httpRequest, type HttpPolicy } from "../remote/http.ts";
import { gitTreeOid } from "../remote/oid.ts";
import { RemoteError } from "../remote/remote-error.ts";
import { encodeName } from "../util/names.ts";
import { parseAdvertisement, repoUrlPath } from "./push.ts";

export interface MegaEndpoint {
  baseUrl: string;
  timeoutMs?: number;
}

export interface MountBase {
  base_commit: string;
  base_tree: string;
  /**
   * For a sub-path: the monorepo root's head read together with base_commit, so base trees can still be
   * listed (`refs=<root commit>`) after main moved on. Equal to base_commit for the root.
   */
  base_root_commit?: string;
}

const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

function policy(ep: MegaEndpoint): HttpPolicy {
  return { requestTimeoutMs: ep.timeoutMs ?? 15_000, maxRetries: 2, backoffBaseMs: 100, backoffMaxMs: 1_000 };
}

/** `{base}/{P}.git` (`/.git` for the root). */
export function repoUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, "") + repoUrlPath(path);
}

/** A monorepo path as a query value, byte-exact: escaped names (util/names) are sent as their own bytes. */
function queryPath(path: string): string {
  const bytes = encodeName("/" + path.split("/").filter(Boolean).join("/"));
  let out = "";
  for (const b of bytes) out += /[A-Za-z0-9\-._~/]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

/** The refs `{P}.git` advertises for upload-pack (anonymous on Mega). */
export async function fetchUploadPackRefs(ep: MegaEndpoint, path: string): Promise<Map<string, string>> {
  const url = `${repoUrl(ep.baseUrl, path)}/info/refs?service=git-upload-pack`;
  return httpRequest(policy(ep), {
    method: "GET",
    url,
    read: async (res) => {
      const body = new Uint8Array(await res.arrayBuffer());
      try {
        return parseAdvertisement(body, "git-upload-pack").refs;
      } catch (err) {
        throw new RemoteError({ failure: "protocol", url, message: `${url}: ${(err as Error).message}` });
      }
    },
  });
}

/** The head of `{P}.git` (`refs/heads/main`, else HEAD), or null when the path has no commits. */
export async function fetchHeadCommit(ep: MegaEndpoint, path: string): Promise<string | null> {
  const refs = await fetchUploadPackRefs(ep, path);
  return refs.get("refs/heads/main") ?? refs.get("HEAD") ?? null;
}

/**
 * The raw tree payload at monorepo path `path`: with `oid`, only if that is still the tree there; with
 * `refs`, as of that commit. Returns null when the server has no such tree (Mega answers an empty body).
 */
export async function fetchTreeBody(ep: MegaEndpoint, path: string, opts: { oid?: string; refs?: string } = {}): Promise<Uint8Array | null> {
  let url = `${ep.baseUrl.replace(/\/+$/, "")}/api/v1/file/tree?path=${queryPath(path)}`;
  if (opts.oid) url += `&oid=${opts.oid}`;
  if (opts.refs) url += `&refs=${opts.refs}`;
  const body = await httpRequest(policy(ep), { method: "GET", url, read: async (res) => new Uint8Array(await res.arrayBuffer()) });
  if (body.length === 0 && opts.oid !== EMPTY_TREE) return null;
  if (opts.oid && gitTreeOid(body) !== opts.oid) return null;
  return body;
}

/** Head commit and tree of `path` (and the root's head), read so that they belong together. */
export async function resolveMountBase(ep: MegaEndpoint, path: string): Promise<MountBase | null> {
  const isRoot = path.split("/").filter(Boolean).length === 0;
  for (let attempt = 0; attempt < 3; attempt++) {
    const root = isRoot ? null : await fetchHeadCommit(ep, "/");
    const commit = await fetchHeadCommit(ep, path);
    if (commit === null) return null;
    const body = await fetchTreeBody(ep, path, root ? { refs: root } : {});
    const again = await fetchHeadCommit(ep, path);
    if (again !== commit) continue;
    const base: MountBase = { base_commit: commit, base_tree: body === null ? EMPTY_TREE : gitTreeOid(body) };
    if (root) base.base_root_commit = root;
    return base;
  }
  return null;
}
