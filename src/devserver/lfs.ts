/**
 * @module devserver/lfs — Mega's Git LFS endpoints over an object directory (see docs/devserver.md):
 * `POST {prefix}/objects/batch`, `GET|PUT {prefix}/objects/{oid}` with prefix `/info/lfs` or `/api/v1/lfs`,
 * and any `<path>/info/lfs/...` rewritten to `/info/lfs/...` first (git-lfs derives `{remote}.git/info/lfs`).
 * Rules as Mega: every batch field is required (422 otherwise); an unknown object in a download batch is a
 * per-object 404 inside a 200 answer; an upload batch announces objects, and a PUT of an object that was
 * not announced is a 404. Stricter than Mega on purpose: a PUT whose body does not hash to the oid is
 * refused (422), so client bugs show up in tests.
 */
import { unlink } from "node:fs/promises";
import { open } from "node:fs/promises";
import { LfsObjectDir } from "../lfs/object-dir.ts";
import { isLfsOid } from "../lfs/pointer.ts";

const LFS_JSON = "application/vnd.git-lfs+json";
const PREFIXES = ["/info/lfs", "/api/v1/lfs"];
const DAY_MS = 24 * 3600 * 1000;

function lfsJson(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": LFS_JSON } });
}

/** Mega's LFS error shape. */
function lfsError(status: number, message: string): Response {
  return lfsJson({ message }, status);
}

/** axum's plain-text JSON rejections (what Mega answers for a malformed batch body). */
function rejection(status: number, message: string): Response {
  return new Response(message, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/** The LFS route under one of Mega's prefixes, after Mega's `<anything>/info/lfs/` rewrite; null if not LFS. */
export function lfsRoute(pathname: string): string | null {
  const at = pathname.lastIndexOf("/info/lfs/");
  const p = at > 0 ? pathname.slice(at) : pathname;
  for (const prefix of PREFIXES) {
    if (p === prefix) return "/";
    if (p.startsWith(prefix + "/")) return p.slice(prefix.length);
  }
  return null;
}

interface BatchObject {
  oid: string;
  size: number;
}

export class DevLfs {
  readonly objects: LfsObjectDir;
  /** Oids an upload batch announced (Mega creates their metadata row at batch time). */
  private readonly announced = new Set<string>();

  constructor(
    dir: string,
    /** The URL hrefs start with, for a request (Mega uses its listen address; see server.ts). */
    private readonly baseUrl: (request: Request) => string,
  ) {
    this.objects = new LfsObjectDir(dir);
  }

  /** Answers an LFS request, or null when the path is not an LFS route. */
  async handle(request: Request): Promise<Response | null> {
    const route = lfsRoute(new URL(request.url).pathname);
    if (route === null) return null;
    if (route === "/objects/batch" && request.method === "POST") return this.batch(request, this.baseUrl(request));
    const m = /^\/objects\/([^/]+)$/.exec(route);
    if (m && (request.method === "GET" || request.method === "HEAD")) return this.download(m[1]!, request.method === "GET");
    if (m && request.method === "PUT") return this.upload(m[1]!, request);
    return lfsError(404, "Not found");
  }

  private async batch(request: Request, base: string): Promise<Response> {
    let body: unknown;
    try {
      body = JSON.parse(await request.text());
    } catch (err) {
      return rejection(400, `Failed to parse the request body as JSON: ${(err as Error).message}`);
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) return rejection(422, "Failed to deserialize the JSON body into the target type: expected a map");
    const b = body as Record<string, unknown>;
    for (const field of ["operation", "transfers", "objects", "hash_algo"]) {
      if (!(field in b)) return rejection(422, `Failed to deserialize the JSON body into the target type: missing field \`${field}\``);
    }
    if (b.operation !== "download" && b.operation !== "upload") {
      return rejection(422, `Failed to deserialize the JSON body into the target type: operation: unknown variant \`${String(b.operation)}\`, expected \`download\` or \`upload\``);
    }
    if (!Array.isArray(b.transfers) || !b.transfers.every((t) => typeof t === "string") || typeof b.hash_algo !== "string") {
      return rejection(422, "Failed to deserialize the JSON body into the target type: transfers: invalid type");
    }
    if (!Array.isArray(b.objects) || !b.objects.every((o) => isBatchObject(o))) {
      return rejection(422, "Failed to deserialize the JSON body into the target type: objects: invalid type");
    }
    const expires_at = new Date(Date.now() + DAY_MS).toISOString();
    const action = (oid: string) => ({ href: `${base}/info/lfs/objects/${oid}`, header: { Accept: "application/vnd.git-lfs" }, expires_at });
    const objects = await Promise.all(
      (b.objects as BatchObject[]).map(async ({ oid, size }) => {
        if (!isLfsOid(oid)) return { oid, size, error: { code: 422, message: "Invalid oid" } };
        const stored = await this.objects.size(oid);
        if (b.operation === "download") {
          if (stored === null) return { oid, size, error: { code: 404, message: "Not found" } };
          return { oid, size: stored, authenticated: true, actions: { download: action(oid) } };
        }
        if (stored !== null) return { oid, size: stored, authenticated: true };
        this.announced.add(oid);
        return { oid, size, authenticated: true, actions: { upload: action(oid) } };
      }),
    );
    return lfsJson({ transfer: "basic", objects, hash_algo: "sha256" });
  }

  private async download(oid: string, withBody: boolean): Promise<Response> {
    if (!isLfsOid(oid)) return lfsError(404, "Not found");
    const size = await this.objects.size(oid);
    if (size === null) return lfsError(404, "Not found");
    const headers = { "content-type": "application/octet-stream", "content-length": String(size) };
    return new Response(withBody ? Bun.file(this.objects.pathFor(oid)) : null, { headers });
  }

  private async upload(oid: string, request: Request): Promise<Response> {
    if (!isLfsOid(oid) || !this.announced.has(oid)) return lfsError(404, `Object ${oid} was not announced by an upload batch`);
    const tmp = this.objects.tempPath("upload");
    const hasher = new Bun.CryptoHasher("sha256");
    const fh = await open(tmp, "wx", 0o444);
    try {
      if (request.body) {
        for await (const chunk of request.body) {
          hasher.update(chunk);
          await fh.write(chunk);
        }
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    const got = hasher.digest("hex");
    if (got !== oid) {
      await unlink(tmp).catch(() => {});
      return lfsError(422, `content hashes to ${got}, not ${oid}`);
    }
    await this.objects.adopt(tmp, oid);
    this.announced.delete(oid);
    return new Response(null, { status: 200, headers: { "content-type": LFS_JSON } });
  }
}

function isBatchObject(o: unknown): o is BatchObject {
  if (typeof o !== "object" || o === null) return false;
  const r = o as Record<string, unknown>;
  return typeof r.oid === "string" && typeof r.size === "number" && Number.isInteger(r.size) && r.size >= 0;
}
