/**
 * @module devserver/api-routes — the `/api/v1` JSON and binary endpoints scorpio uses, answered from a
 * GitStore with Mega's exact shapes (see docs/devserver.md). Query strings are read with URLSearchParams so
 * `+` means a space, as with Mega's serde_urlencoded.
 */
import { Elysia } from "elysia";
import { MergeError, mergeCl } from "./cl-merge.ts";
import type { ClStore } from "./cl-store.ts";
import { GitStore, parseTree, splitRepoPath, EMPTY_TREE } from "./git-store.ts";
import type { RepoLock } from "./repo-lock.ts";
import { fail, ok } from "./wrapper.ts";

const HEX40 = /^[0-9a-f]{40}$/;
const LINK = /^[A-Za-z0-9_-]{1,64}$/;

interface TreeHashItem {
  name: string;
  content_type: "file" | "directory";
  oid: string;
}

function query(request: Request): URLSearchParams {
  return new URL(request.url).searchParams;
}

/** Byte order of UTF-8 names, as Mega's Rust `String` ordering. */
function byteCompare(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

export function apiRoutes(store: GitStore, cls: ClStore, lock: RepoLock) {
  /** Lists the tree at `path` of the requested ref; null when it is missing or not a tree. */
  async function listTree(path: string, refs: string) {
    const commit = await store.resolveCommit(refs);
    const parts = splitRepoPath(path);
    if (!commit || !parts) return null;
    const obj = await store.objectAt(commit, parts, true);
    return obj && obj.type === "tree" ? { obj, parts, commit } : null;
  }

  // Unnamed on purpose: a named plugin is deduplicated, and each server instance needs its own store.
  return new Elysia()
    .get("/api/v1/status", () => Response.json("http ready"))
    .get("/api/v1/tree/content-hash", async ({ request }) => {
      const q = query(request);
      const hit = await listTree(q.get("path") ?? "/", q.get("refs") ?? "");
      if (!hit) return ok([]);
      const items: TreeHashItem[] = parseTree(hit.obj.data).map((e) => ({
        name: e.name,
        content_type: e.mode === "40000" ? "directory" : "file",
        oid: e.oid,
      }));
      // Mega sorts by content_type ("directory" < "file"), then by name bytes.
      items.sort((a, b) => (a.content_type === b.content_type ? byteCompare(a.name, b.name) : a.content_type < b.content_type ? -1 : 1));
      return ok(items);
    })
    .get("/api/v1/tree/dir-hash", async ({ request }) => {
      const q = query(request);
      const parts = splitRepoPath(q.get("path") ?? "/");
      // Mega lists the parent and keeps the tree entry of that name, so "/" (no parent) is always [].
      if (!parts || parts.length === 0) return ok([]);
      const commit = await store.resolveCommit(q.get("refs") ?? "");
      if (!commit) return ok([]);
      const obj = await store.objectAt(commit, parts, false);
      if (!obj || obj.type !== "tree") return ok([]);
      return ok([{ name: parts[parts.length - 1]!, content_type: "directory", oid: obj.oid } satisfies TreeHashItem]);
    })
    .get("/api/v1/tree", async ({ request }) => {
      const q = query(request);
      const path = q.get("path") ?? "/";
      const refs = q.get("refs") ?? "";
      const parts = splitRepoPath(path) ?? [];
      const join = (ps: string[], name: string) => "/" + [...ps, name].join("/");
      const brief = async (ps: string[]) => {
        const hit = await listTree("/" + ps.join("/"), refs);
        return hit ? parseTree(hit.obj.data).map((e) => ({ name: e.name, path: join(ps, e.name), content_type: e.mode === "40000" ? "directory" : "file" })) : [];
      };
      const fileTree: Record<string, { tree_items: unknown[]; total_count: number }> = {};
      for (let i = 0; i < parts.length; i++) {
        const anc = parts.slice(0, i);
        const items = await brief(anc);
        fileTree["/" + anc.join("/")] = { tree_items: items, total_count: items.length };
      }
      return ok({ file_tree: fileTree, tree_items: await brief(parts) });
    })
    .get("/api/v1/file/tree", async ({ request }) => {
      const q = query(request);
      const hit = await listTree(q.get("path") ?? "/", q.get("refs") ?? "");
      const want = q.get("oid");
      // Missing path or an oid that is not the tree at path: 200 with an empty body, as Mega.
      const body = hit && (!want || want === hit.obj.oid) ? hit.obj.data : new Uint8Array(0);
      return new Response(body, { headers: { "content-type": "application/octet-stream", "content-disposition": 'inline; filename=""' } });
    })
    .get("/api/v1/file/blob/:oid", ({ params, request }) => blob(store, params.oid, request, true))
    .head("/api/v1/file/blob/:oid", ({ params, request }) => blob(store, params.oid, request, false))
    .get("/api/v1/blob", async ({ request }) => {
      const q = query(request);
      const commit = await store.resolveCommit(q.get("refs") ?? "");
      const parts = splitRepoPath(q.get("path") ?? "/");
      if (!commit || !parts || parts.length === 0) return ok(null);
      const obj = await store.objectAt(commit, parts, true);
      if (!obj || obj.type !== "blob") return ok(null);
      return ok(new TextDecoder().decode(obj.data));
    })
    .get("/api/v1/latest-commit", async ({ request }) => {
      const q = query(request);
      const commit = await store.resolveCommit(q.get("refs") ?? "");
      const parts = splitRepoPath(q.get("path") ?? "/");
      if (!commit || !parts) return fail(404, "File not found");
      if (parts.length > 0 && !(await store.objectAt(commit, parts, false))) return fail(404, "File not found");
      const info = await store.latestCommit(commit, parts);
      if (!info) return fail(404, "File not found");
      // Not wrapped, author/committer are names only (Mega since Oct 2025).
      return Response.json({
        oid: info.oid,
        date: String(info.time),
        short_message: info.shortMessage,
        author: info.author,
        committer: info.committer,
        status: "success",
      });
    })
    .get("/api/v1/cl/:link/files-list", ({ params }) => filesList(store, params.link))
    // The pre-Oct-2025 name of the same endpoint.
    .get("/api/v1/mr/:link/files-list", ({ params }) => filesList(store, params.link))
    .get("/api/v1/cl/:link/detail", async ({ params }) => {
      if (!LINK.test(params.link)) return fail(400, `invalid CL link: ${params.link}`);
      const tip = await store.clTip(params.link);
      if (!tip) return fail(404, "CL not found");
      const rec = await cls.get(params.link);
      const info = await store.latestCommit(tip, []);
      return ok({
        id: rec?.id ?? 0,
        link: params.link,
        title: rec?.title || info?.shortMessage || "",
        status: rec?.status === "merged" ? "Merged" : "Open",
        open_timestamp: rec?.created || info?.time || 0,
        merge_timestamp: rec?.merged ?? null,
        conversations: [],
        labels: [],
        assignees: [],
        path: rec?.path ?? (await store.clPath(params.link)),
      });
    })
    .post("/api/v1/cl/list", async ({ body }) => {
      const q = parseListQuery(body);
      if (typeof q === "string") return fail(400, q);
      const all = [...(await cls.all()).values()].filter((c) => (q.status === "open" ? c.status === "open" : q.status === "closed" ? c.status === "merged" : true) && (q.author === undefined || c.user === q.author));
      all.sort((a, b) => b.id - a.id || b.created - a.created);
      const items = all.slice((q.page - 1) * q.perPage, q.page * q.perPage).map((c) => ({
        id: c.id,
        link: c.link,
        title: c.title,
        status: c.status === "merged" ? "Merged" : "Open",
        author: c.user,
        open_timestamp: c.created,
        closed_at: null,
        merge_timestamp: c.merged,
        updated_at: c.updated,
        labels: [],
        assignees: [],
        comment_num: 0,
      }));
      return ok({ total: all.length, items });
    })
    .post("/api/v1/cl/:link/merge-no-auth", ({ params }) => merge(store, cls, lock, params.link))
    // Mega wants a browser session for this one; the dev server has no sessions and treats it like merge-no-auth.
    .post("/api/v1/cl/:link/merge", ({ params }) => merge(store, cls, lock, params.link));
}

interface ListQuery {
  page: number;
  perPage: number;
  status: string;
  author?: string;
}

/** Mega's list body: `{pagination: {page, per_page}, additional: {status, author?, …}}`; a message when malformed. */
function parseListQuery(body: unknown): ListQuery | string {
  const b = (body ?? {}) as { pagination?: { page?: unknown; per_page?: unknown }; additional?: { status?: unknown; author?: unknown } };
  if (typeof b !== "object" || Array.isArray(b)) return "expected a JSON object";
  const page = b.pagination?.page ?? 1;
  const perPage = b.pagination?.per_page ?? 10;
  if (!Number.isInteger(page) || (page as number) < 1 || !Number.isInteger(perPage) || (perPage as number) < 1 || (perPage as number) > 1000) {
    return "pagination.page must be >= 1 and pagination.per_page in 1..1000";
  }
  const status = b.additional?.status ?? "";
  const author = b.additional?.author;
  if (typeof status !== "string" || (author !== undefined && author !== null && typeof author !== "string")) return "additional.status and additional.author must be strings";
  return { page: page as number, perPage: perPage as number, status, author: typeof author === "string" && author !== "" ? author : undefined };
}

/** Merges an open CL into main (fast-forward or three-way), then marks it Merged. */
function merge(store: GitStore, cls: ClStore, lock: RepoLock, link: string): Promise<Response> {
  if (!LINK.test(link)) return Promise.resolve(fail(400, `invalid CL link: ${link}`));
  return lock.run(async () => {
    const tip = await store.clTip(link);
    if (!tip) return fail(404, "CL not found");
    const rec = await cls.get(link);
    if (rec?.status === "merged") return fail(409, `CL ${link} is already merged`);
    const parts = splitRepoPath(rec?.path ?? (await store.clPath(link)));
    if (!parts) return fail(400, `CL ${link} has an invalid path`);
    try {
      await mergeCl(store, { parts, tip });
    } catch (err) {
      if (err instanceof MergeError) return fail(err.status, err.message);
      throw err;
    }
    await cls.markMerged(link);
    return ok("Merge completed successfully");
  });
}

async function blob(store: GitStore, oidParam: string, request: Request, withBody: boolean): Promise<Response> {
  const oid = oidParam.toLowerCase();
  if (!HEX40.test(oid)) return fail(400, `invalid object id: ${oidParam}`);
  const head = await store.header(oid);
  if (!head || head.type !== "blob") return fail(404, "Blob not found");
  const headers: Record<string, string> = {
    "content-type": "application/octet-stream",
    "content-disposition": `inline; filename="${oid}"`,
    "accept-ranges": "bytes",
  };
  const range = parseRange(request.headers.get("range"), head.size);
  if (!withBody) {
    // HEAD: the length a GET would send. Bun keeps an explicit Content-Length on a bodiless response.
    return new Response(null, { status: 200, headers: { ...headers, "content-length": String(head.size) } });
  }
  const obj = await store.object(oid);
  if (!obj) return fail(404, "Blob not found");
  if (range === "unsatisfiable") {
    return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${head.size}` } });
  }
  if (range) {
    const [start, end] = range;
    return new Response(obj.data.subarray(start, end + 1), {
      status: 206,
      headers: { ...headers, "content-range": `bytes ${start}-${end}/${head.size}` },
    });
  }
  return new Response(obj.data, { status: 200, headers });
}

/** A single `bytes=a-b` / `a-` / `-n` range; anything else is ignored (full body), as RFC 9110 allows. */
function parseRange(h: string | null, size: number): [number, number] | "unsatisfiable" | null {
  if (!h) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "unsatisfiable";
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== "" && Number(m[2]) < start) return null;
  }
  if (start >= size) return "unsatisfiable";
  return [start, end];
}

async function filesList(store: GitStore, link: string): Promise<Response> {
  if (!LINK.test(link)) return fail(400, `invalid CL link: ${link}`);
  const tip = await store.clTip(link);
  if (!tip) return fail(404, "CL not found");
  const base = (await store.firstParent(tip)) ?? EMPTY_TREE;
  return ok(await store.diff(base, tip));
}
