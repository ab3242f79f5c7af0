/**
 * The dev server over raw HTTP: Mega's exact shapes, query decoding, binary endpoints, bad input, refs,
 * CLs, and git smart HTTP (clone of the root and of a sub-path, push creating a CL).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAddr, startDevServer, type DevServer } from "../../src/devserver/index.ts";
import { git, gitAsync, makeLargeRepo, makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";

let tmp: string;
let repo: SampleRepo;
let server: DevServer;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "scorpio-devserver-"));
  repo = makeSampleRepo(join(tmp, "repo"));
  server = await startDevServer({ repo: repo.path });
});

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const get = (path: string, init?: RequestInit) => fetch(server.url + path, init);
async function json(path: string): Promise<{ status: number; body: any }> {
  const r = await get(path);
  return { status: r.status, body: await r.json() };
}

describe("tree endpoints", () => {
  test("content-hash: wrapper, directories first, byte order, file/directory only", async () => {
    const { status, body } = await json("/api/v1/tree/content-hash?path=/");
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(["data", "err_message", "req_result"]);
    expect(body.req_result).toBe(true);
    expect(body.err_message).toBe("");
    const kinds = body.data.map((e: any) => e.content_type);
    expect(kinds.indexOf("file")).toBeGreaterThan(kinds.lastIndexOf("directory"));
    expect(new Set(kinds)).toEqual(new Set(["directory", "file"]));
    const names = body.data.filter((e: any) => e.content_type === "file").map((e: any) => e.name);
    expect(names).toEqual([...names].sort((a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    // Symlinks are files, as Mega reports every non-tree entry.
    expect(body.data.find((e: any) => e.name === "link-to-src").content_type).toBe("file");
    for (const e of body.data) expect(Object.keys(e).sort()).toEqual(["content_type", "name", "oid"]);
  });

  test("missing path, file path, and dot components give 200 []", async () => {
    for (const p of ["/nope", "/README.md", "/src/../src", "/src/./lib"]) {
      expect(await json(`/api/v1/tree/content-hash?path=${encodeURIComponent(p)}`)).toEqual({
        status: 200,
        body: { req_result: true, data: [], err_message: "" },
      });
    }
  });

  test("path defaults to / and redundant slashes are ignored", async () => {
    const a = await json("/api/v1/tree/content-hash");
    const b = await json("/api/v1/tree/content-hash?path=/");
    expect(a).toEqual(b);
    expect((await json("/api/v1/tree/content-hash?path=//src//lib/")).body.data.map((e: any) => e.name)).toEqual(["mod.rs", "util.rs"]);
  });

  test("query decoding: + is a space, %2B is a plus, %23 and %26 are literal", async () => {
    expect((await json("/api/v1/tree/content-hash?path=/dir+with+space")).body.data.map((e: any) => e.name)).toEqual(["a b.txt"]);
    expect((await json("/api/v1/tree/content-hash?path=/plus+dir")).body.data).toEqual([]);
    expect((await json("/api/v1/tree/content-hash?path=/plus%2Bdir")).body.data.map((e: any) => e.name)).toEqual(["x+y.txt"]);
    expect((await json("/api/v1/tree/content-hash?path=/hash%23dir")).body.data.map((e: any) => e.name)).toEqual(["a#b.txt"]);
    expect((await json("/api/v1/tree/content-hash?path=/amp%26dir")).body.data.map((e: any) => e.name)).toEqual(["a&b=c.txt"]);
    expect((await json("/api/v1/tree/content-hash?path=/pct%25dir")).body.data.map((e: any) => e.name)).toEqual(["50%.txt"]);
    expect((await json(`/api/v1/tree/content-hash?path=${encodeURIComponent("/ünïcødé")}`)).body.data.map((e: any) => e.name)).toEqual(["日本.txt"]);
    // Broken percent-encoding is not a crash.
    expect((await get("/api/v1/tree/content-hash?path=/%E0%A4%A")).status).toBe(200);
  });

  test("dir-hash: one item equal to the parent's listing; [] for / and for files", async () => {
    const root = (await json("/api/v1/tree/content-hash?path=/")).body.data;
    const { body } = await json("/api/v1/tree/dir-hash?path=/src");
    expect(body.data).toEqual([{ name: "src", content_type: "directory", oid: root.find((e: any) => e.name === "src").oid }]);
    expect((await json("/api/v1/tree/dir-hash?path=/")).body.data).toEqual([]);
    expect((await json("/api/v1/tree/dir-hash?path=/README.md")).body.data).toEqual([]);
    expect((await json("/api/v1/tree/dir-hash?path=/nope")).body.data).toEqual([]);
  });

  test("/api/v1/tree: tree_items with paths and file_tree for each proper ancestor", async () => {
    const { body } = await json("/api/v1/tree?path=/src/lib");
    expect(body.data.tree_items).toEqual([
      { name: "mod.rs", path: "/src/lib/mod.rs", content_type: "file" },
      { name: "util.rs", path: "/src/lib/util.rs", content_type: "file" },
    ]);
    expect(Object.keys(body.data.file_tree)).toEqual(["/", "/src"]);
    expect(body.data.file_tree["/src"].total_count).toBe(body.data.file_tree["/src"].tree_items.length);
    expect((await json("/api/v1/tree?path=/")).body.data.file_tree).toEqual({});
  });

  test("file/tree: raw git tree bytes; empty body for missing path or oid mismatch", async () => {
    const r = await get("/api/v1/file/tree?path=/src");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/octet-stream");
    const want = Bun.spawnSync(["git", "cat-file", "tree", "HEAD:src"], { cwd: repo.path }).stdout;
    expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.from(want))).toBe(true);
    const treeOid = git(repo.path, ["rev-parse", "HEAD:src"]).trim();
    expect((await (await get(`/api/v1/file/tree?path=/src&oid=${treeOid}`)).arrayBuffer()).byteLength).toBe(want.length);
    for (const q of ["path=/nope", "path=/README.md", `path=/src&oid=${"0".repeat(40)}`]) {
      const x = await get(`/api/v1/file/tree?${q}`);
      expect(x.status).toBe(200);
      expect((await x.arrayBuffer()).byteLength).toBe(0);
    }
  });
});

describe("blob endpoint", () => {
  const oidOf = (p: string) => git(repo.path, ["rev-parse", `HEAD:${p}`]).trim();

  test("GET returns exact bytes with Mega's headers; HEAD gives Content-Length", async () => {
    const oid = oidOf("assets/blob.bin");
    const want = Bun.spawnSync(["git", "cat-file", "blob", oid], { cwd: repo.path }).stdout;
    const r = await get(`/api/v1/file/blob/${oid}`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-disposition")).toBe(`inline; filename="${oid}"`);
    expect(Buffer.from(await r.arrayBuffer()).equals(Buffer.from(want))).toBe(true);
    const h = await get(`/api/v1/file/blob/${oid}`, { method: "HEAD" });
    expect(h.status).toBe(200);
    expect(h.headers.get("content-length")).toBe(String(want.length));
  });

  test("Range: 206 with Content-Range, suffix ranges, 416 past the end", async () => {
    const oid = oidOf("README.md");
    const r = await get(`/api/v1/file/blob/${oid}`, { headers: { range: "bytes=0-0" } });
    expect(r.status).toBe(206);
    expect(r.headers.get("content-range")).toBe("bytes 0-0/18");
    expect(await r.text()).toBe("#");
    const tail = await get(`/api/v1/file/blob/${oid}`, { headers: { range: "bytes=-5" } });
    expect(await tail.text()).toBe("repo\n");
    expect((await get(`/api/v1/file/blob/${oid}`, { headers: { range: "bytes=100-" } })).status).toBe(416);
    expect((await get(`/api/v1/file/blob/${oid}`, { headers: { range: "lines=1-2" } })).status).toBe(200);
  });

  test("unknown oid 404, non-blob 404, malformed 400, all wrapped", async () => {
    const cases: Array<[string, number]> = [
      ["0123456789012345678901234567890123456789", 404],
      [git(repo.path, ["rev-parse", "HEAD^{tree}"]).trim(), 404],
      [git(repo.path, ["rev-parse", "HEAD"]).trim(), 404],
      ["HEAD", 400],
      ["abc", 400],
      ["%00", 400],
    ];
    for (const [oid, status] of cases) {
      const r = await get(`/api/v1/file/blob/${oid}`);
      expect(r.status).toBe(status);
      const body = (await r.json()) as any;
      expect(body.req_result).toBe(false);
      expect(body.data).toBeNull();
      expect(typeof body.err_message).toBe("string");
    }
  });

  test("large blobs and many concurrent requests stay byte-exact", async () => {
    const big = new Uint8Array(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
    repo.commitFile("big/large.bin", big);
    const bigOid = oidOf("big/large.bin");
    const small = ["README.md", "src/main.rs", "src/lib/util.rs", "bin/run.sh"].map(oidOf);
    const jobs = [bigOid, ...small, bigOid, ...small].map(async (oid) => Buffer.from(await (await get(`/api/v1/file/blob/${oid}`)).arrayBuffer()));
    const bodies = await Promise.all(jobs);
    expect(bodies[0]!.equals(Buffer.from(big))).toBe(true);
    expect(bodies[5]!.equals(Buffer.from(big))).toBe(true);
    expect(bodies[1]!.toString()).toBe("# Sample monorepo\n");
    expect(bodies[6]!.toString()).toBe("# Sample monorepo\n");
  });

  test("/api/v1/blob returns text or null", async () => {
    expect((await json("/api/v1/blob?path=/README.md")).body).toEqual({ req_result: true, data: "# Sample monorepo\n", err_message: "" });
    expect((await json("/api/v1/blob?path=/nope")).body.data).toBeNull();
  });
});

describe("commits, refs and CLs", () => {
  test("latest-commit is unwrapped with string fields; 404 wrapper when missing", async () => {
    const { status, body } = await json("/api/v1/latest-commit?path=/");
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(["author", "committer", "date", "oid", "short_message", "status"]);
    expect(body.oid).toBe(git(repo.path, ["rev-parse", "HEAD"]).trim());
    expect(body.short_message).toBe(git(repo.path, ["log", "-1", "--format=%s"]).trim());
    expect((await json("/api/v1/latest-commit?path=/src/lib")).body.short_message).toBe("Initial sample monorepo");
    expect(body.status).toBe("success");
    expect(typeof body.date).toBe("string");
    expect(await json("/api/v1/latest-commit?path=/nope")).toEqual({ status: 404, body: { req_result: false, data: null, err_message: "File not found" } });
  });

  test("new commits become visible; refs selects an older commit or a tag; bad refs is 400", async () => {
    const first = git(repo.path, ["rev-parse", "HEAD"]).trim();
    git(repo.path, ["tag", "v1", first]);
    const second = repo.commitFile("fresh/new.txt", "fresh\n");
    expect((await json("/api/v1/latest-commit?path=/fresh")).body.oid).toBe(second);
    expect((await json("/api/v1/tree/content-hash?path=/fresh")).body.data.map((e: any) => e.name)).toEqual(["new.txt"]);
    expect((await json(`/api/v1/tree/content-hash?path=/fresh&refs=${first}`)).body.data).toEqual([]);
    expect((await json("/api/v1/tree/content-hash?path=/fresh&refs=v1")).body.data).toEqual([]);
    const bad = await json("/api/v1/tree/content-hash?path=/&refs=no-such-tag");
    expect(bad.status).toBe(400);
    expect(bad.body.req_result).toBe(false);
    expect((await json("/api/v1/tree/content-hash?path=/&refs=a..b")).status).toBe(400);
  });

  test("files-list: root CL (repo-relative paths) and sub-path CL (relative to the CL path)", async () => {
    repo.makeCl("CLROOT01", { "src/main.rs": "x\n", "README.md": null, "n/new.txt": "n\n" });
    const { body } = await json("/api/v1/cl/CLROOT01/files-list");
    expect(body.req_result).toBe(true);
    const sorted = body.data.sort((a: any, b: any) => (a.path < b.path ? -1 : 1));
    expect(sorted.map((f: any) => [f.path, f.action])).toEqual([
      ["README.md", "deleted"],
      ["n/new.txt", "new"],
      ["src/main.rs", "modified"],
    ]);
    expect(sorted[0].sha).toBe(git(repo.path, ["rev-parse", "HEAD:README.md"]).trim());
    // The old /mr/ name answers the same.
    expect((await json("/api/v1/mr/CLROOT01/files-list")).body).toEqual(body);

    repo.makeCl("CLSUB001", { "src/lib.rs": "changed\n" }, { clPath: "/project/foo" });
    expect((await json("/api/v1/cl/CLSUB001/files-list")).body.data.map((f: any) => [f.path, f.action])).toEqual([["src/lib.rs", "modified"]]);
    expect((await json("/api/v1/cl/CLSUB001/detail")).body.data.path).toBe("/project/foo");
  });

  test("files-list: unknown CL 404, malformed link 400", async () => {
    expect((await json("/api/v1/cl/NOSUCHCL/files-list")).status).toBe(404);
    expect((await get("/api/v1/cl/bad.link/files-list")).status).toBe(400);
  });
});

describe("misc and bad input", () => {
  test("status, root, unknown routes", async () => {
    expect(await (await get("/api/v1/status")).json()).toBe("http ready");
    expect((await get("/")).status).toBe(200);
    const r = await get("/whatever/else");
    expect(r.status).toBe(404);
    expect(await r.text()).toBe("Operation not supported");
    expect((await get("/api/v1/tree/content-hash", { method: "POST" })).status).toBe(404);
  });

  test("request counters see each request", async () => {
    const before = server.stats.get("GET", "/api/v1/status");
    await get("/api/v1/status");
    expect(server.stats.get("GET", "/api/v1/status")).toBe(before + 1);
  });

  test("parseAddr", () => {
    expect(parseAddr("127.0.0.1:8000")).toEqual({ hostname: "127.0.0.1", port: 8000 });
    expect(parseAddr("[::1]:0")).toEqual({ hostname: "::1", port: 0 });
    expect(parseAddr(":9")).toEqual({ hostname: "127.0.0.1", port: 9 });
    expect(() => parseAddr("nope")).toThrow(/host:port/);
    expect(() => parseAddr("h:99999")).toThrow();
  });

  test("a directory that is not a repository is refused at start", async () => {
    await expect(startDevServer({ repo: tmpdir() + "/definitely-not-a-repo-" + Date.now() })).rejects.toThrow(/not a git repository/);
  });

  test("a bare repository is served too", async () => {
    const bare = makeLargeRepo(join(tmp, "bare"), { files: 250, filesPerDir: 50, dirsPerDir: 2 });
    const s = await startDevServer({ repo: bare });
    try {
      const r = await fetch(`${s.url}/api/v1/tree/content-hash?path=/d1/d0`);
      expect(((await r.json()) as any).data.length).toBe(50);
    } finally {
      await s.stop();
    }
  });
});

describe("git smart HTTP", () => {
  const gitEnv = { GIT_TERMINAL_PROMPT: "0" };

  test("git clone of the whole monorepo from /.git", async () => {
    const dest = join(tmp, "clone-root");
    await gitAsync(tmp, ["clone", "-q", `${server.url}/.git`, dest], { env: gitEnv });
    expect(git(dest, ["rev-parse", "HEAD"]).trim()).toBe(git(repo.path, ["rev-parse", "main"]).trim());
    expect(readFileSync(join(dest, "dir with space/a b.txt"), "utf8")).toBe("content of dir with space/a b.txt\n");
    // Bookkeeping namespaces are not advertised.
    expect(await gitAsync(dest, ["ls-remote", `${server.url}/.git`])).not.toContain("refs/namespaces");
  });

  test("git clone of a sub-path gives a one-commit repo rooted at the subtree", async () => {
    const dest = join(tmp, "clone-sub");
    await gitAsync(tmp, ["clone", "-q", `${server.url}/project/foo.git`, dest], { env: gitEnv });
    expect(existsSync(join(dest, "Cargo.toml"))).toBe(true);
    expect(git(dest, ["rev-list", "--count", "HEAD"]).trim()).toBe("1");
    expect(git(dest, ["rev-parse", "HEAD^{tree}"]).trim()).toBe(git(repo.path, ["rev-parse", "main:project/foo"]).trim());
    // Stable across requests while the subtree does not change.
    const again = (await gitAsync(tmp, ["ls-remote", `${server.url}/project/foo.git`, "refs/heads/main"])).split("\t")[0];
    expect(again).toBe(git(dest, ["rev-parse", "HEAD"]).trim());
  });

  test("a missing service parameter is 400, not a crash", async () => {
    expect((await get("/.git/info/refs")).status).toBe(400);
  });

  test("push creates a CL and never moves main; two commits are refused", async () => {
    const dest = join(tmp, "clone-push");
    await gitAsync(tmp, ["clone", "-q", `${server.url}/.git`, dest], { env: gitEnv });
    const mainBefore = git(repo.path, ["rev-parse", "main"]).trim();
    writeFileSync(join(dest, "pushed.txt"), "pushed\n");
    git(dest, ["add", "pushed.txt"]);
    git(dest, ["commit", "-q", "-m", "one commit"]);
    await gitAsync(dest, ["push", "-q", "origin", "HEAD:refs/heads/main"], { env: gitEnv });
    expect(git(repo.path, ["rev-parse", "main"]).trim()).toBe(mainBefore);
    const cls = git(repo.path, ["for-each-ref", "--format=%(refname) %(objectname)", "refs/cl/"]);
    const pushed = git(dest, ["rev-parse", "HEAD"]).trim();
    expect(cls).toContain(pushed);
    const link = cls.split("\n").find((l) => l.endsWith(pushed))!.split(" ")[0]!.replace("refs/cl/", "");
    expect((await json(`/api/v1/cl/${link}/files-list`)).body.data).toEqual([
      { path: "pushed.txt", sha: git(dest, ["rev-parse", "HEAD:pushed.txt"]).trim(), action: "new" },
    ]);

    writeFileSync(join(dest, "a.txt"), "a\n");
    git(dest, ["add", "a.txt"]);
    git(dest, ["commit", "-q", "-m", "two"]);
    writeFileSync(join(dest, "b.txt"), "b\n");
    git(dest, ["add", "b.txt"]);
    git(dest, ["commit", "-q", "-m", "three"]);
    // Server main is still the clone's base, so this push carries three commits (pushed, two, three).
    await expect(gitAsync(dest, ["push", "-q", "origin", "HEAD:refs/heads/main"], { env: gitEnv })).rejects.toThrow(/single commit/);
    expect(git(repo.path, ["rev-parse", "main"]).trim()).toBe(mainBefore);
  });

  test("a push token is enforced when configured", async () => {
    const s = await startDevServer({ repo: repo.path, pushToken: "s3cret" });
    try {
      const r = await fetch(`${s.url}/.git/info/refs?service=git-receive-pack`);
      expect(r.status).toBe(401);
      expect(r.headers.get("www-authenticate")).toContain("Bearer");
      expect(await r.text()).toBe("Login first");
      const ok = await fetch(`${s.url}/.git/info/refs?service=git-receive-pack`, { headers: { authorization: "Bearer s3cret" } });
      expect(ok.status).toBe(200);
      const basic = await fetch(`${s.url}/.git/info/refs?service=git-receive-pack`, { headers: { authorization: "Basic " + btoa("anyone:s3cret") } });
      expect(basic.status).toBe(200);
      // Reads stay anonymous.
      expect((await fetch(`${s.url}/.git/info/refs?service=git-upload-pack`)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});
