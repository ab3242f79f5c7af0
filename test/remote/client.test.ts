/**
 * The Mega client against the dev server over a real git repository, plus small purpose-built servers for
 * failure modes (silent socket, flaky 503s, corrupt blobs, no HEAD support).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevServer, type DevServer } from "../../src/devserver/index.ts";
import {
  clEntryRepoPath,
  createMegaClient,
  EMPTY_BLOB_OID,
  expandRenames,
  gitBlobOid,
  RemoteError,
  type MegaClient,
} from "../../src/remote/index.ts";
import { Errno, FsError } from "../../src/util/errno.ts";
import { git, makeSampleRepo, SAMPLE, type SampleRepo } from "../support/sample-repo.ts";

let tmp: string;
let repo: SampleRepo;
let server: DevServer;
let client: MegaClient;
const extraServers: Array<{ stop(force?: boolean): unknown }> = [];

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "scorpio-remote-"));
  repo = makeSampleRepo(join(tmp, "repo"));
  server = await startDevServer({ repo: repo.path });
  client = createMegaClient({ baseUrl: server.url + "/", requestTimeoutMs: 5_000, maxRetries: 2, concurrency: 4, backoffBaseMs: 10 });
});

afterAll(async () => {
  await server?.stop();
  for (const s of extraServers) await s.stop(true);
  rmSync(tmp, { recursive: true, force: true });
});

interface LsEntry {
  mode: string;
  type: string;
  oid: string;
  name: string;
}

function lsTree(rev: string): LsEntry[] {
  const out = git(repo.path, ["ls-tree", "-z", rev]);
  return out
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const [meta, name] = line.split("\t") as [string, string];
      const [mode, type, oid] = meta.split(" ") as [string, string, string];
      return { mode, type, oid, name };
    });
}

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** All directories of HEAD, as repo-relative paths ("" = root). */
function allDirs(): string[] {
  const dirs = git(repo.path, ["ls-tree", "-r", "-t", "-z", "HEAD"])
    .split("\0")
    .filter(Boolean)
    .filter((l) => l.split(" ")[1] === "tree")
    .map((l) => l.slice(l.indexOf("\t") + 1));
  return ["", ...dirs];
}

describe("listings", () => {
  test("every directory's listing equals git ls-tree, in Mega's order", async () => {
    const dirs = allDirs();
    expect(dirs.length).toBeGreaterThan(10);
    for (const d of dirs) {
      const got = await client.listDir("/" + d);
      const want = lsTree(d === "" ? "HEAD" : `HEAD:${d}`)
        .map((e) => ({ name: e.name, oid: e.oid, kind: e.type === "tree" ? "directory" : "file" }))
        .sort((a, b) => (a.kind === b.kind ? byteOrder(a.name, b.name) : a.kind === "directory" ? -1 : 1));
      expect(got).toEqual(want as typeof got);
    }
  });

  test("treeEntries gives git modes: exec, symlink, gitlink", async () => {
    for (const d of allDirs()) {
      const got = await client.treeEntries("/" + d);
      const want = lsTree(d === "" ? "HEAD" : `HEAD:${d}`);
      expect(got.map((e) => [e.name, e.oid, e.mode, e.kind])).toEqual(want.map((e) => [e.name, e.oid, parseInt(e.mode, 8), e.type]));
    }
    const root = await client.treeEntries("/");
    expect(root.find((e) => e.name === SAMPLE.fileLink)?.mode).toBe(0o120000);
    expect(root.find((e) => e.name === SAMPLE.dirLink)?.mode).toBe(0o120000);
    expect((await client.treeEntries("/bin")).find((e) => e.name === "run.sh")?.mode).toBe(0o100755);
    const sub = (await client.treeEntries("/vendor")).find((e) => e.name === "sub");
    expect(sub?.mode).toBe(0o160000);
    expect(sub?.kind).toBe("commit");
  });

  test("missing paths and file paths list as empty", async () => {
    expect(await client.listDir("/no/such/dir")).toEqual([]);
    expect(await client.listDir("/README.md")).toEqual([]);
    expect(await client.treeEntries("/no/such")).toEqual([]);
  });

  test("names with space, +, #, &, %, = and non-ASCII are encoded correctly", async () => {
    for (const p of SAMPLE.weird) {
      const [dir, file] = p.split("/") as [string, string];
      const listing = await client.listDir("/" + dir);
      expect(listing.map((e) => e.name)).toEqual([file]);
      const oid = git(repo.path, ["rev-parse", `HEAD:${p}`]).trim();
      expect<string | null>(listing[0]!.oid).toBe(oid);
      expect(new TextDecoder().decode(await client.fetchBlob(oid))).toBe(`content of ${p}\n`);
      expect<string | null>((await client.latestCommit("/" + p)).oid).toBe(git(repo.path, ["log", "-1", "--format=%H", "--", p]).trim());
    }
  });

  test("dirHash matches the parent's listing; root is hashed from its raw tree; missing is null", async () => {
    const root = await client.listDir("/");
    const src = root.find((e) => e.name === "src")!;
    expect(await client.dirHash("/src")).toBe(src.oid);
    expect<string | null>(await client.dirHash("/")).toBe(repo.revParse("HEAD^{tree}"));
    expect(await client.dirHash("/nope")).toBeNull();
    expect(await client.dirHash("/README.md")).toBeNull();
  });
});

describe("blobs", () => {
  const files = () =>
    git(repo.path, ["ls-tree", "-r", "-z", "HEAD"])
      .split("\0")
      .filter(Boolean)
      .map((l) => l.split("\t")[0]!.split(" "))
      .filter(([, type]) => type === "blob")
      .map(([, , oid]) => oid!);

  test("bytes and sizes equal git's for every blob", async () => {
    for (const oid of files()) {
      const want = Bun.spawnSync(["git", "cat-file", "blob", oid], { cwd: repo.path }).stdout;
      const got = await client.fetchBlobVerified(oid);
      expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
      expect(await client.blobSize(oid)).toBe(want.length);
      expect(gitBlobOid(got) as string).toBe(oid);
    }
  });

  test("the empty blob needs no request", async () => {
    const before = server.stats.total("/api/v1/file/blob/");
    expect((await client.fetchBlob(EMPTY_BLOB_OID)).length).toBe(0);
    expect(await client.blobSize(EMPTY_BLOB_OID)).toBe(0);
    expect(server.stats.total("/api/v1/file/blob/")).toBe(before);
  });

  test("unknown blob is ENOENT with the status and URL; a tree id is not a blob", async () => {
    const missing = "0123456789012345678901234567890123456789";
    const err = await client.fetchBlob(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).errno).toBe(Errno.ENOENT);
    expect((err as RemoteError).status).toBe(404);
    expect((err as RemoteError).message).toContain(`/api/v1/file/blob/${missing}`);
    const tree = repo.revParse("HEAD^{tree}");
    expect(((await client.fetchBlob(tree).catch((e: unknown) => e)) as RemoteError).errno).toBe(Errno.ENOENT);
  });

  test("a malformed oid is EINVAL before any request", async () => {
    const err = await client.fetchBlob("HEAD").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).errno).toBe(Errno.EINVAL);
    // sha1: prefixes (files-list style) are accepted.
    const oid = git(repo.path, ["rev-parse", "HEAD:README.md"]).trim();
    expect(new TextDecoder().decode(await client.fetchBlob("sha1:" + oid))).toBe("# Sample monorepo\n");
  });

  test("single-flight: concurrent fetches of one blob make one request", async () => {
    repo.commitFile("sf/one.txt", "single flight\n");
    const oid = git(repo.path, ["rev-parse", "HEAD:sf/one.txt"]).trim();
    const path = `/api/v1/file/blob/${oid}`;
    const before = server.stats.get("GET", path);
    const results = await Promise.all(Array.from({ length: 20 }, () => client.fetchBlob(oid)));
    for (const r of results) expect(new TextDecoder().decode(r)).toBe("single flight\n");
    expect(server.stats.get("GET", path) - before).toBe(1);
    // Settled flights are not cached: a later call fetches again.
    await client.fetchBlob(oid);
    expect(server.stats.get("GET", path) - before).toBe(2);
  });

  test("single-flight: concurrent listings of one path make one request", async () => {
    const before = server.stats.get("GET", "/api/v1/tree/content-hash");
    const results = await Promise.all(Array.from({ length: 10 }, () => client.listDir("/src")));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(server.stats.get("GET", "/api/v1/tree/content-hash") - before).toBe(1);
  });
});

describe("commits and CLs", () => {
  test("latestCommit follows new upstream commits", async () => {
    const head = repo.revParse("HEAD");
    expect<string | null>((await client.latestCommit("/")).oid).toBe(head);
    const before = await client.latestCommit("/src");
    const c = repo.commitFile("src/new.rs", "// new\n", "Add new.rs\n\nbody");
    const after = await client.latestCommit("/src");
    expect<string | null>(after.oid).toBe(c);
    expect(after.oid).not.toBe(before.oid);
    expect(after.shortMessage).toBe("Add new.rs");
    expect(after.author).toBe("Sample Author");
    expect(after.committer).toBe("Sample Committer");
    expect(after.date).toBe(String(after.time));
    expect(Number.isInteger(after.time)).toBe(true);
    // An untouched path keeps its commit; the new file shows up in listings and dir hashes.
    expect((await client.latestCommit("/project")).oid).not.toBe(c);
    expect((await client.listDir("/src")).map((e) => e.name)).toContain("new.rs");
    expect<string | null>(await client.dirHash("/src")).toBe(repo.revParse("HEAD:src"));
  });

  test("latestCommit of a missing path is ENOENT", async () => {
    const err = await client.latestCommit("/nope/nothing").catch((e: unknown) => e);
    expect((err as RemoteError).errno).toBe(Errno.ENOENT);
  });

  test("clFilesList for a root CL and a sub-path CL", async () => {
    repo.makeCl("ROOTCL01", { "src/main.rs": "fn main() {}\n", "README.md": null, "added/file.txt": "new\n" });
    const files = await client.clFilesList("ROOTCL01");
    const byPath = Object.fromEntries(files.map((f) => [f.path, f]));
    expect(byPath["src/main.rs"]).toMatchObject({ action: "modified", sha: gitBlobOid(new TextEncoder().encode("fn main() {}\n")) });
    expect(byPath["added/file.txt"]).toMatchObject({ action: "new", sha: gitBlobOid(new TextEncoder().encode("new\n")) });
    expect(byPath["README.md"]).toMatchObject({ action: "deleted", sha: git(repo.path, ["rev-parse", "HEAD:README.md"]).trim() });
    expect(files.length).toBe(3);
    for (const f of files) expect(clEntryRepoPath(f.path, "/")).toBe("/" + f.path);

    repo.makeCl("SUBCL001", { "Cargo.toml": "[package]\nname = \"foo2\"\n", "src/lib.rs": null }, { clPath: "/project/foo" });
    const sub = await client.clFilesList("SUBCL001");
    expect(sub.map((f) => [f.path, f.action]).sort()).toEqual([
      ["Cargo.toml", "modified"],
      ["src/lib.rs", "deleted"],
    ]);
    expect(sub.map((f) => clEntryRepoPath(f.path, "/project/foo")).sort()).toEqual(["/project/foo/Cargo.toml", "/project/foo/src/lib.rs"]);
  });

  test("clFilesList of an unknown CL is ENOENT; a malformed link is EINVAL", async () => {
    expect(((await client.clFilesList("NOSUCHCL").catch((e: unknown) => e)) as RemoteError).errno).toBe(Errno.ENOENT);
    expect(((await client.clFilesList("../etc").catch((e: unknown) => e)) as FsError).errno).toBe(Errno.EINVAL);
  });

  test("renames are reported and can be expanded", async () => {
    const content = "a fairly long file so that rename detection has something to compare\n".repeat(5);
    repo.commitFile("ren/old.txt", content);
    repo.makeCl("RENAME01", { "ren/old.txt": null, "ren/new.txt": content });
    const files = await client.clFilesList("RENAME01");
    expect(files).toEqual([{ path: "ren/new.txt", sha: gitBlobOid(new TextEncoder().encode(content)), action: "renamed", oldPath: "ren/old.txt", similarity: 100 }]);
    expect(expandRenames(files).map((f) => [f.path, f.action])).toEqual([
      ["ren/old.txt", "deleted"],
      ["ren/new.txt", "new"],
    ]);
  });
});

describe("misc endpoints", () => {
  test("status and probe", async () => {
    expect(await client.status()).toBe("http ready");
    expect(await client.probe()).toMatchObject({ reachable: true, status: 200 });
  });

  test("base URL validation", () => {
    expect(() => createMegaClient({ baseUrl: "not a url" })).toThrow(FsError);
    expect(() => createMegaClient({ baseUrl: "ftp://x" })).toThrow(/http or https/);
    expect(createMegaClient({ baseUrl: "http://h:1/mega///" }).baseUrl).toBe("http://h:1/mega");
  });

  test("path components . and .. are refused", async () => {
    expect(((await client.listDir("/src/../etc").catch((e: unknown) => e)) as FsError).errno).toBe(Errno.EINVAL);
  });
});

describe("failures", () => {
  test("a stopped server fails fast with EIO (connection refused), no hang", async () => {
    const s = await startDevServer({ repo: repo.path });
    const c = createMegaClient({ baseUrl: s.url, maxRetries: 2, backoffBaseMs: 5, requestTimeoutMs: 5_000 });
    expect(await c.status()).toBe("http ready");
    await s.stop();
    const err = await c.listDir("/").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).errno).toBe(Errno.EIO);
    expect((err as RemoteError).failure).toBe("network");
    expect((err as RemoteError).message).toContain(s.url);
    expect(await c.probe()).toMatchObject({ reachable: false });
  }, 15_000);

  test("a server that never answers hits the deadline: ETIMEDOUT", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, open() {} } });
    extraServers.push(silent);
    const c = createMegaClient({ baseUrl: `http://127.0.0.1:${silent.port}`, requestTimeoutMs: 300, maxRetries: 3 });
    for (const call of [() => c.listDir("/"), () => c.fetchBlob("f".repeat(40)), () => c.blobSize("f".repeat(40))]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as RemoteError).errno).toBe(Errno.ETIMEDOUT);
      expect((err as RemoteError).failure).toBe("timeout");
    }
  }, 15_000);

  test("the caller's own signal stops its wait", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, open() {} } });
    extraServers.push(silent);
    const c = createMegaClient({ baseUrl: `http://127.0.0.1:${silent.port}`, requestTimeoutMs: 10_000 });
    const ac = new AbortController();
    const p = c.listDir("/x", { signal: ac.signal }).catch((e: unknown) => e);
    setTimeout(() => ac.abort(new Error("caller gave up")), 50);
    const err = await p;
    expect(err).toBeInstanceOf(Error);
  }, 15_000);

  test("5xx and 429 are retried; 4xx is not", async () => {
    let calls = 0;
    const flaky = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        calls++;
        const u = new URL(req.url);
        if (u.pathname === "/api/v1/status") return calls <= 2 ? new Response("busy", { status: calls === 1 ? 503 : 429 }) : Response.json("http ready");
        return Response.json({ req_result: false, data: null, err_message: "bad" }, { status: 400 });
      },
    });
    extraServers.push(flaky);
    const c = createMegaClient({ baseUrl: flaky.url.href, maxRetries: 3, backoffBaseMs: 5 });
    expect(await c.status()).toBe("http ready");
    expect(calls).toBe(3);
    calls = 0;
    const err = await c.listDir("/a").catch((e: unknown) => e);
    expect((err as RemoteError).status).toBe(400);
    expect((err as RemoteError).errno).toBe(Errno.EIO);
    expect((err as RemoteError).message).toContain("bad");
    expect(calls).toBe(1);
  });

  test("retries give up after maxRetries with the last error", async () => {
    let calls = 0;
    const down = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (calls++, new Response("no", { status: 502 })) });
    extraServers.push(down);
    const c = createMegaClient({ baseUrl: down.url.href, maxRetries: 2, backoffBaseMs: 5 });
    const err = await c.listDir("/").catch((e: unknown) => e);
    expect((err as RemoteError).status).toBe(502);
    expect(calls).toBe(3);
  });

  test("a corrupt blob is rejected by fetchBlobVerified with EIO", async () => {
    const oid = git(repo.path, ["rev-parse", "HEAD:README.md"]).trim();
    const liar = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("not the readme\n") });
    extraServers.push(liar);
    const c = createMegaClient({ baseUrl: liar.url.href });
    expect(new TextDecoder().decode(await c.fetchBlob(oid))).toBe("not the readme\n");
    const err = await c.fetchBlobVerified(oid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FsError);
    expect((err as FsError).errno).toBe(Errno.EIO);
    expect((err as Error).message).toContain(oid);
  });

  test("garbage JSON is a protocol error, not a crash", async () => {
    const junk = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) =>
        new URL(req.url).pathname.endsWith("content-hash")
          ? Response.json({ req_result: true, data: [{ name: "../x", oid: "0".repeat(40), content_type: "file" }], err_message: "" })
          : new Response("<html>", { status: 200 }),
    });
    extraServers.push(junk);
    const c = createMegaClient({ baseUrl: junk.url.href, maxRetries: 0 });
    expect(((await c.listDir("/").catch((e: unknown) => e)) as RemoteError).failure).toBe("protocol");
    expect(((await c.latestCommit("/").catch((e: unknown) => e)) as RemoteError).failure).toBe("protocol");
    expect(((await c.clFilesList("ABC").catch((e: unknown) => e)) as RemoteError).errno).toBe(Errno.EIO);
  });

  test("blobSize falls back to a ranged GET when HEAD gives no length", async () => {
    const body = "0123456789";
    const noHead = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        if (req.method === "HEAD") return new Response(null, { status: 405 });
        if (req.headers.get("range") === "bytes=0-0") return new Response("0", { status: 206, headers: { "content-range": `bytes 0-0/${body.length}` } });
        return new Response(body);
      },
    });
    extraServers.push(noHead);
    const c = createMegaClient({ baseUrl: noHead.url.href, maxRetries: 0 });
    // HEAD 405 is a 4xx: blobSize reports it rather than guessing.
    const err = await c.blobSize("1".repeat(40)).catch((e: unknown) => e);
    expect((err as RemoteError).status).toBe(405);
  });
});
