/**
 * The LFS batch client against the dev server's LFS endpoints (a real HTTP server over an object
 * directory), plus git-lfs itself as a second client of the same endpoints.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevServer, type DevServer } from "../../src/devserver/index.ts";
import { LfsObjectDir } from "../../src/lfs/object-dir.ts";
import { formatLfsPointer, lfsOidOf, type LfsOid } from "../../src/lfs/pointer.ts";
import { createLfsClient, LfsObjectError, RemoteError, type LfsClient, type LfsDownloadTarget } from "../../src/remote/index.ts";
import { Errno } from "../../src/util/errno.ts";
import { gitAsync, git, makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";

let tmp: string;
let repo: SampleRepo;
let server: DevServer;
let client: LfsClient;

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const spec = (bytes: Uint8Array) => ({ oid: lfsOidOf(bytes), size: bytes.byteLength });

/** A download target over a fresh object directory, so each test sees what it stored. */
function freshTarget(name: string): { dir: LfsObjectDir; target: LfsDownloadTarget } {
  const dir = new LfsObjectDir(join(tmp, name));
  return { dir, target: dir.downloadTarget() };
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "scorpio-lfs-client-"));
  repo = makeSampleRepo(join(tmp, "repo"));
  server = await startDevServer({ repo: repo.path });
  client = createLfsClient({ lfsUrl: `${server.url}/info/lfs`, requestTimeoutMs: 5_000, maxRetries: 1, backoffBaseMs: 5, backoffMaxMs: 20 });
});

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("download", () => {
  test("one batch call for many objects; unknown objects are per-object ENOENT", async () => {
    const a = random(1 << 20);
    const b = new TextEncoder().encode("small object\n");
    await server.lfs.objects.putBytes(a);
    await server.lfs.objects.putBytes(b);
    const missing = spec(random(10));
    server.stats.reset();
    const entries = await client.batch("download", [spec(a), spec(b), missing]);
    expect(server.stats.get("POST", "/info/lfs/objects/batch")).toBe(1);
    expect(entries.map((e) => e.kind)).toEqual(["action", "action", "error"]);
    const err = entries[2]!.kind === "error" ? entries[2]!.error : null;
    expect(err).toBeInstanceOf(LfsObjectError);
    expect(err!.code).toBe(404);
    expect(err!.errno).toBe(Errno.ENOENT);

    const { dir, target } = freshTarget("dl1");
    server.stats.reset();
    const results = await client.download([spec(a), spec(b), missing], target);
    expect(server.stats.get("POST", "/info/lfs/objects/batch")).toBe(1);
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect(new Uint8Array(readFileSync(dir.pathFor(spec(a).oid)))).toEqual(a);
    expect(readFileSync(dir.pathFor(spec(b).oid), "utf8")).toBe("small object\n");
    expect(await dir.has(missing.oid)).toBe(false);
    expect(readdirSync(dir.tmpDir)).toEqual([]);
  });

  test("a corrupt object on the server is refused and nothing is stored", async () => {
    const good = random(4096);
    const s = spec(good);
    await server.lfs.objects.putUnchecked(s.oid, random(4096));
    const { dir, target } = freshTarget("dl-corrupt");
    const before = client.stats().corrupt;
    const [r] = await client.download([s], target);
    expect(r!.ok).toBe(false);
    expect(r!.ok ? 0 : r!.error.errno).toBe(Errno.EIO);
    expect(r!.ok ? "" : r!.error.message).toContain("refusing corrupt data");
    expect(client.stats().corrupt).toBe(before + 1);
    expect(await dir.has(s.oid)).toBe(false);
    expect(readdirSync(dir.tmpDir)).toEqual([]);
  });

  test("a size that does not match the pointer is refused", async () => {
    const bytes = random(2000);
    await server.lfs.objects.putBytes(bytes);
    const { dir, target } = freshTarget("dl-size");
    const [r] = await client.download([{ oid: lfsOidOf(bytes), size: 1000 }], target);
    expect(r!.ok).toBe(false);
    expect(await dir.has(lfsOidOf(bytes))).toBe(false);
  });

  test("concurrent downloads of one object share one transfer", async () => {
    const bytes = random(256 * 1024);
    await server.lfs.objects.putBytes(bytes);
    const s = spec(bytes);
    const { dir, target } = freshTarget("dl-shared");
    server.stats.reset();
    const joins = client.stats().joins;
    const [r1, r2] = await Promise.all([client.download([s], target), client.download([s], target)]);
    expect(r1![0]!.ok && r2![0]!.ok).toBe(true);
    expect(server.stats.get("GET", `/info/lfs/objects/${s.oid}`)).toBe(1);
    expect(client.stats().joins).toBe(joins + 1);
    expect(await dir.has(s.oid, s.size)).toBe(true);
  });

  test("Mega's other prefixes: /api/v1/lfs and <repo>.git/info/lfs", async () => {
    const bytes = random(100);
    await server.lfs.objects.putBytes(bytes);
    for (const lfsUrl of [`${server.url}/api/v1/lfs`, `${server.url}/project/foo.git/info/lfs`]) {
      const c = createLfsClient({ lfsUrl, maxRetries: 0 });
      const [e] = await c.batch("download", [spec(bytes)]);
      expect(e!.kind).toBe("action");
    }
  });
});

describe("upload", () => {
  test("uploads what the server lacks and skips what it has", async () => {
    const local = new LfsObjectDir(join(tmp, "up-local"));
    const x = await local.putBytes(random(3000));
    const y = await local.putBytes(new TextEncoder().encode("y content"));
    const known = random(50);
    await server.lfs.objects.putBytes(known);
    const k = await local.putBytes(known);
    const objs = [x, y, k].map((o) => ({ ...o, path: local.pathFor(o.oid) }));
    server.stats.reset();
    const report = await client.uploadOrThrow(objs);
    expect(server.stats.get("POST", "/info/lfs/objects/batch")).toBe(1);
    expect(report.uploaded.sort()).toEqual([x.oid, y.oid].sort());
    expect(report.skipped).toEqual([k.oid]);
    expect(server.stats.get("PUT", `/info/lfs/objects/${k.oid}`)).toBe(0);
    expect(new Uint8Array(readFileSync(server.lfs.objects.pathFor(x.oid)))).toEqual(new Uint8Array(readFileSync(local.pathFor(x.oid))));
    const again = await client.upload(objs);
    expect(again.uploaded).toEqual([]);
    expect(again.skipped.length).toBe(3);
  });

  test("a file that does not match its pointer fails the upload with a clear error", async () => {
    const local = new LfsObjectDir(join(tmp, "up-bad"));
    const o = await local.putBytes(random(100));
    await expect(client.uploadOrThrow([{ ...o, size: 99, path: local.pathFor(o.oid) }])).rejects.toThrow(/LFS upload failed for 1 of 1 object\(s\).*pointer says 99/);
    expect(await server.lfs.objects.has(o.oid)).toBe(false);
  });
});

describe("the dev server's rules", () => {
  const post = (body: unknown) =>
    fetch(`${server.url}/info/lfs/objects/batch`, { method: "POST", headers: { "content-type": "application/vnd.git-lfs+json" }, body: JSON.stringify(body) });

  test("hrefs use the listen address, or the request's origin when listening on a wildcard address", async () => {
    const bytes = random(5);
    await server.lfs.objects.putBytes(bytes);
    const [e] = await client.batch("download", [spec(bytes)]);
    expect(e!.kind === "action" && e!.action.href).toBe(`${server.url}/info/lfs/objects/${spec(bytes).oid}`);
    const wild = await startDevServer({ repo: repo.path, hostname: "0.0.0.0" });
    try {
      await wild.lfs.objects.putBytes(bytes);
      const c = createLfsClient({ lfsUrl: `http://127.0.0.1:${wild.port}/info/lfs`, maxRetries: 0 });
      const [w] = await c.batch("download", [spec(bytes)]);
      expect(w!.kind === "action" && w!.action.href).toBe(`http://127.0.0.1:${wild.port}/info/lfs/objects/${spec(bytes).oid}`);
    } finally {
      await wild.stop();
    }
  });

  test("a PUT without an upload batch is a 404", async () => {
    const bytes = random(10);
    const res = await fetch(`${server.url}/info/lfs/objects/${lfsOidOf(bytes)}`, { method: "PUT", body: bytes });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toContain("not announced");
  });

  test("a PUT whose body is not the object is refused", async () => {
    const bytes = random(10);
    const oid = lfsOidOf(bytes);
    expect((await post({ operation: "upload", transfers: ["basic"], objects: [{ oid, size: 10 }], hash_algo: "sha256" })).status).toBe(200);
    const res = await fetch(`${server.url}/info/lfs/objects/${oid}`, { method: "PUT", body: random(10) });
    expect(res.status).toBe(422);
    expect(await server.lfs.objects.has(oid)).toBe(false);
  });

  test("every batch field is required (422), bad JSON is a 400", async () => {
    const oid = lfsOidOf(random(1));
    const full = { operation: "download", transfers: ["basic"], objects: [{ oid, size: 1 }], hash_algo: "sha256" };
    for (const drop of ["operation", "transfers", "objects", "hash_algo"]) {
      const body: Record<string, unknown> = { ...full };
      delete body[drop];
      const res = await post(body);
      expect(res.status).toBe(422);
      expect(await res.text()).toContain(drop);
    }
    expect((await post({ ...full, operation: "delete" })).status).toBe(422);
    const bad = await fetch(`${server.url}/info/lfs/objects/batch`, { method: "POST", body: "{nope" });
    expect(bad.status).toBe(400);
    const ok = await post(full);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("application/vnd.git-lfs+json");
    expect(await ok.json()).toEqual({ transfer: "basic", objects: [{ oid, size: 1, error: { code: 404, message: "Not found" } }], hash_algo: "sha256" });
  });
});

describe("endpoint problems", () => {
  test("a wrong lfs_url says so, and probe tells them apart", async () => {
    const wrong = createLfsClient({ lfsUrl: `${server.url}/lfs`, maxRetries: 0 });
    const err = await wrong.batch("download", [spec(random(3))]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).message).toContain("/info/lfs");
    expect((await wrong.probe()).ok).toBe(false);
    expect(await client.probe()).toEqual({ ok: true, status: 200 });
  });

  test("a server that is down is EIO, not a hang", async () => {
    const down = createLfsClient({ lfsUrl: "http://127.0.0.1:1/info/lfs", maxRetries: 0, requestTimeoutMs: 2_000 });
    const { target } = freshTarget("dl-down");
    const s = spec(random(5));
    const [r] = await down.download([s], target);
    expect(r!.ok).toBe(false);
    expect(r!.ok ? 0 : r!.error.errno).toBe(Errno.EIO);
  });

  test("bad object ids never reach a URL", async () => {
    await expect(client.batch("download", [{ oid: "../../etc" as LfsOid, size: 1 }])).rejects.toThrow(/not an LFS object id/);
  });
});

const hasGitLfs = Bun.spawnSync(["git", "lfs", "version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;

describe.if(hasGitLfs)("git-lfs as a client of the dev server", () => {
  test("git lfs push uploads; git lfs smudge downloads what our client uploaded", async () => {
    const work = join(tmp, "gitlfs-work");
    mkdirSync(work);
    const env = { HOME: join(tmp, "gitlfs-home") };
    mkdirSync(env.HOME);
    git(work, ["init", "-q", "-b", "main"], { env });
    git(work, ["lfs", "install", "--local"], { env });
    git(work, ["config", "lfs.url", `${server.url}/info/lfs`], { env });
    git(work, ["config", "lfs.locksverify", "false"], { env });
    writeFileSync(join(work, ".gitattributes"), "*.bin filter=lfs diff=lfs merge=lfs -text\n");
    const content = random(70_000);
    writeFileSync(join(work, "big.bin"), content);
    git(work, ["add", "."], { env });
    git(work, ["commit", "-qm", "lfs"], { env });
    git(work, ["remote", "add", "origin", `${server.url}/.git`], { env });
    await gitAsync(work, ["lfs", "push", "origin", "main"], { env });
    expect(new Uint8Array(readFileSync(server.lfs.objects.pathFor(lfsOidOf(content))))).toEqual(content);

    // The other direction: our client uploads, git-lfs downloads and checks it.
    const local = new LfsObjectDir(join(tmp, "gitlfs-ours"));
    const ours = await local.putBytes(random(5000));
    await client.uploadOrThrow([{ ...ours, path: local.pathFor(ours.oid) }]);
    const p = Bun.spawn(["git", "lfs", "smudge", "x.bin"], { cwd: work, env: { ...process.env, ...env }, stdin: new TextEncoder().encode(formatLfsPointer(ours)), stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(p.stdout).arrayBuffer(), p.exited]);
    expect(code).toBe(0);
    expect(new Uint8Array(out)).toEqual(new Uint8Array(readFileSync(local.pathFor(ours.oid))));
    expect(existsSync(join(work, ".git/lfs/objects", ours.oid.slice(0, 2), ours.oid.slice(2, 4), ours.oid))).toBe(true);
  });
});

describe("failure modes (purpose-built servers)", () => {
  const servers: Array<{ stop(force?: boolean): unknown }> = [];
  afterAll(() => {
    for (const s of servers) s.stop(true);
  });

  /** A server whose batch answers point transfers at `transfer` on itself, recording request headers. */
  function lfsServer(transfer: (req: Request, n: number) => Response | Promise<Response>) {
    const seen: Array<{ path: string; auth: string | null; accept: string | null }> = [];
    let transfers = 0;
    let port = 0;
    const s = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (req): Promise<Response> => {
        const path = new URL(req.url).pathname;
        seen.push({ path, auth: req.headers.get("authorization"), accept: req.headers.get("accept") });
        if (path === "/info/lfs/objects/batch") {
          const body = (await req.json()) as { operation: string; objects: Array<{ oid: string; size: number }> };
          const objects = body.objects.map((o) => ({
            ...o,
            actions: { [body.operation]: { href: `http://127.0.0.1:${port}/obj/${o.oid}`, header: { "X-Ticket": "t-" + o.oid.slice(0, 4) } } },
          }));
          return Response.json({ transfer: "basic", objects, hash_algo: "sha256" });
        }
        return transfer(req, ++transfers);
      },
    });
    port = s.port ?? 0;
    servers.push(s);
    return { url: `http://127.0.0.1:${port}/info/lfs`, seen };
  }

  test("a stalled transfer ends at its deadline (ETIMEDOUT) and stores nothing", async () => {
    const srv = lfsServer(() => new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array(10)); /* never closes */ } })));
    const c = createLfsClient({ lfsUrl: srv.url, requestTimeoutMs: 300, maxRetries: 0, minTransferBytesPerSec: 1 << 30 });
    const { dir, target } = freshTarget("stall");
    const s = spec(random(1000));
    const [r] = await c.download([s], target);
    expect(r!.ok).toBe(false);
    expect(r!.ok ? 0 : r!.error.errno).toBe(Errno.ETIMEDOUT);
    expect(await dir.has(s.oid)).toBe(false);
    expect(readdirSync(dir.tmpDir)).toEqual([]);
  });

  test("a transfer broken once is retried from the start", async () => {
    const bytes = random(50_000);
    const srv = lfsServer((_req, n) => (n === 1 ? new Response("busy", { status: 503 }) : new Response(bytes)));
    const c = createLfsClient({ lfsUrl: srv.url, maxRetries: 2, backoffBaseMs: 5, backoffMaxMs: 10 });
    const { dir, target } = freshTarget("retry");
    const [r] = await c.download([spec(bytes)], target);
    expect(r!.ok).toBe(true);
    expect(new Uint8Array(readFileSync(dir.pathFor(spec(bytes).oid)))).toEqual(bytes);
  });

  test("the action's headers are sent; the token goes to the batch endpoint, not beyond an action's own Authorization", async () => {
    const bytes = random(64);
    const srv = lfsServer((req) => {
      expect(req.headers.get("x-ticket")).toBe("t-" + spec(bytes).oid.slice(0, 4));
      return new Response(bytes);
    });
    const c = createLfsClient({ lfsUrl: srv.url, token: "sekrit", maxRetries: 0 });
    const [r] = await c.download([spec(bytes)], freshTarget("hdr").target);
    expect(r!.ok).toBe(true);
    const batch = srv.seen.find((x) => x.path === "/info/lfs/objects/batch")!;
    expect(batch.auth).toBe("Bearer sekrit");
    expect(batch.accept).toBe("application/vnd.git-lfs+json");
    // Same origin and no Authorization of its own: the token goes along.
    expect(srv.seen.find((x) => x.path.startsWith("/obj/"))!.auth).toBe("Bearer sekrit");
  });

  test("an upload rejected by the server fails with the object named, and the rest still go", async () => {
    const local = new LfsObjectDir(join(tmp, "up-reject"));
    const good = await local.putBytes(random(10));
    const bad = await local.putBytes(random(11));
    const srv = lfsServer((req) => (new URL(req.url).pathname.endsWith(bad.oid) ? new Response("quota", { status: 403 }) : new Response(null)));
    const c = createLfsClient({ lfsUrl: srv.url, maxRetries: 0 });
    const objs = [good, bad].map((o) => ({ ...o, path: local.pathFor(o.oid) }));
    const report = await c.upload(objs);
    expect(report.uploaded).toEqual([good.oid]);
    expect(report.failed.map((f) => f.oid)).toEqual([bad.oid]);
    expect(report.failed[0]!.error.status).toBe(403);
    await expect(c.uploadOrThrow(objs)).rejects.toThrow(new RegExp(`LFS upload failed for 1 of 2 object\\(s\\): ${bad.oid}: .*HTTP 403`));
  });
});
