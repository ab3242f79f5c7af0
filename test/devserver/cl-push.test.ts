/**
 * Push → CL → merge against the real dev server, with scorpio's push client (src/vcs/push.ts) and with the
 * git CLI: a push creates or updates the open CL of (path, pusher) under refs/cl/<LINK> without moving main,
 * files-list and detail describe it, merge-no-auth moves main (fast-forward or three-way), tokens decide
 * who pushes, and the server's repository stays fsck-clean.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevServer, type DevServer } from "../../src/devserver/index.ts";
import { pushCommit, PushError, type PushResult } from "../../src/vcs/push.ts";
import { git, gitAsync, makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";

const ALICE = "alice-token-1";
const BOB = "bob-token-2";

let tmp: string;
let repo: SampleRepo;
let server: DevServer;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "scorpio-cl-push-"));
  repo = makeSampleRepo(join(tmp, "repo"));
  server = await startDevServer({ repo: repo.path, tokens: { [ALICE]: "alice", [BOB]: "bob" } });
});

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

let localCount = 0;
/**
 * A local object store like a mount's: only the new objects are in it; the server's objects are reachable
 * through git alternates so the git CLI can build trees on top of them, but they are not in `objects/`.
 */
function localStore(): { dir: string; objects: string } {
  const dir = join(tmp, `local-${localCount++}`);
  git(tmp, ["init", "-q", "--bare", dir]);
  writeFileSync(join(dir, "objects", "info", "alternates"), join(repo.path, ".git", "objects") + "\n");
  return { dir, objects: join(dir, "objects") };
}

/** The commit a mount of `path` would push: `changes` applied to `baseTree`, parent `parent`. */
function buildCommit(store: { dir: string }, parent: string | null, baseTree: string | null, changes: Record<string, string | null>, message: string): string {
  // update-index wants a work tree even for index-only edits; an empty one is never read.
  const env = { GIT_INDEX_FILE: join(store.dir, `index-${localCount++}`), GIT_WORK_TREE: mkdtempSync(join(tmp, "wt-")) };
  if (baseTree) git(store.dir, ["read-tree", baseTree], { env });
  else git(store.dir, ["read-tree", "--empty"], { env });
  for (const [p, content] of Object.entries(changes)) {
    if (content === null) git(store.dir, ["update-index", "--force-remove", "--", p], { env });
    else {
      const oid = git(store.dir, ["hash-object", "-w", "--stdin"], { stdin: content }).trim();
      git(store.dir, ["update-index", "--add", "--cacheinfo", `100644,${oid},${p}`], { env });
    }
  }
  const tree = git(store.dir, ["write-tree"], { env }).trim();
  return git(store.dir, ["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", message]).trim();
}

/** P's current main on the server (the path commit for a sub-path) and its tree, read over smart HTTP. */
async function pathMain(path: string): Promise<{ commit: string; tree: string } | null> {
  const url = `${server.url}${path === "/" ? "/" : path}.git`;
  const line = (await gitAsync(tmp, ["ls-remote", url, "refs/heads/main"])).trim();
  if (!line) return null;
  const commit = line.split("\t")[0]!;
  return { commit, tree: git(repo.path, ["rev-parse", `${commit}^{tree}`]).trim() };
}

async function pushChanges(path: string, changes: Record<string, string | null>, opts: { token?: string; message?: string } = {}) {
  const base = await pathMain(path);
  const store = localStore();
  const commit = buildCommit(store, base?.commit ?? null, base?.tree ?? null, changes, opts.message ?? `change ${path}`);
  const result = await pushCommit({ baseUrl: server.url, path, objectsDir: store.objects, commit, token: opts.token ?? ALICE, timeoutMs: 30_000 });
  return { commit, result, base };
}

async function api(path: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const r = await fetch(server.url + path, init);
  return { status: r.status, body: await r.json() };
}

const blobOf = (content: string) => git(repo.path, ["hash-object", "--stdin"], { stdin: content }).trim();
const main = () => repo.revParse("main");

function expectFsckClean(): void {
  const r = Bun.spawnSync(["git", "--git-dir", join(repo.path, ".git"), "fsck", "--no-dangling", "--no-progress"], { stderr: "pipe", stdout: "pipe" });
  expect(r.stderr.toString() + r.stdout.toString()).toBe("");
  expect(r.exitCode).toBe(0);
}

describe("push with scorpio's client", () => {
  let rootCl: PushResult;

  test("a push to / creates an open CL, never moves main, and the repository is fsck-clean", async () => {
    const before = main();
    const { commit, result } = await pushChanges("/", { "pushed.txt": "pushed\n", "src/main.rs": "fn main() {}\n", "empty.txt": null }, { message: "First push\n\nbody" });
    rootCl = result;
    expect(result.link).toMatch(/^[A-Z0-9]{8}$/);
    expect(result.url).toBe(`${server.url}/cl/${result.link}`);
    expect(result.oldId).toBe(before);
    expect(main()).toBe(before);
    expect(repo.revParse(`refs/cl/${result.link}`)).toBe(commit);
    const files = (await api(`/api/v1/cl/${result.link}/files-list`)).body;
    expect(files.req_result).toBe(true);
    const byPath = Object.fromEntries(files.data.map((f: any) => [f.path, f]));
    expect(Object.keys(byPath).sort()).toEqual(["empty.txt", "pushed.txt", "src/main.rs"]);
    expect(byPath["pushed.txt"]).toEqual({ path: "pushed.txt", sha: blobOf("pushed\n"), action: "new" });
    expect(byPath["src/main.rs"]).toEqual({ path: "src/main.rs", sha: blobOf("fn main() {}\n"), action: "modified" });
    expect(byPath["empty.txt"]).toEqual({ path: "empty.txt", sha: blobOf(""), action: "deleted" });
    const detail = (await api(`/api/v1/cl/${result.link}/detail`)).body;
    expect(detail).toMatchObject({ req_result: true, err_message: "" });
    expect(detail.data).toMatchObject({ link: result.link, title: "First push", status: "Open", merge_timestamp: null, path: "/" });
    expect(detail.data.id).toBeGreaterThan(0);
    expect(detail.data.open_timestamp).toBeGreaterThan(0);
    expectFsckClean();
  });

  test("a second push from the same (path, user) updates the same CL; another user gets another CL", async () => {
    const { commit, result } = await pushChanges("/", { "pushed.txt": "pushed again\n" }, { message: "Second push" });
    expect(result.link).toBe(rootCl.link);
    expect(repo.revParse(`refs/cl/${result.link}`)).toBe(commit);
    expect((await api(`/api/v1/cl/${result.link}/files-list`)).body.data).toEqual([{ path: "pushed.txt", sha: blobOf("pushed again\n"), action: "new" }]);
    const bob = await pushChanges("/", { "bob.txt": "bob\n" }, { token: BOB });
    expect(bob.result.link).not.toBe(rootCl.link);
    // The root advertises both CLs.
    const refs = await gitAsync(tmp, ["ls-remote", `${server.url}/.git`, "refs/cl/*"]);
    expect(refs).toContain(`${commit}\trefs/cl/${rootCl.link}`);
    expect(refs).toContain(`${bob.commit}\trefs/cl/${bob.result.link}`);
  });

  test("a sub-path push: the commit's tree is P's tree, files-list is relative to P, {P}.git advertises the CL", async () => {
    const before = main();
    const { commit, result, base } = await pushChanges("/project/foo", { "src/lib.rs": "// foo v2\n", "NEW.md": "new\n" }, { message: "Foo change" });
    expect(base!.tree).toBe(repo.revParse("main:project/foo"));
    expect(result.link).not.toBe(rootCl.link);
    expect(result.oldId).toBe(base!.commit);
    expect(main()).toBe(before);
    const files = (await api(`/api/v1/cl/${result.link}/files-list`)).body.data;
    expect(files.sort((a: any, b: any) => a.path.localeCompare(b.path))).toEqual([
      { path: "NEW.md", sha: blobOf("new\n"), action: "new" },
      { path: "src/lib.rs", sha: blobOf("// foo v2\n"), action: "modified" },
    ]);
    expect((await api(`/api/v1/cl/${result.link}/detail`)).body.data.path).toBe("/project/foo");
    expect(await gitAsync(tmp, ["ls-remote", `${server.url}/project/foo.git`])).toContain(`${commit}\trefs/cl/${result.link}`);
    expectFsckClean();
  });

  test("merge-no-auth of a sub-path CL puts P's new tree into main and marks the CL Merged", async () => {
    const { result, commit } = await pushChanges("/project/foo", { "src/lib.rs": "// foo v3\n", "NEW.md": "new\n" }, { message: "Foo change 2" });
    const before = main();
    const statusBefore = git(repo.path, ["status", "--porcelain"]);
    const r = await api(`/api/v1/cl/${result.link}/merge-no-auth`, { method: "POST" });
    expect(r).toEqual({ status: 200, body: { req_result: true, data: "Merge completed successfully", err_message: "" } });
    const after = main();
    expect(after).not.toBe(before);
    expect(repo.revParse(`${after}^`)).toBe(before);
    expect(repo.revParse("main:project/foo")).toBe(repo.revParse(`${commit}^{tree}`));
    // Everything outside P is untouched.
    expect(repo.revParse("main:src")).toBe(repo.revParse(`${before}:src`));
    expect(git(repo.path, ["log", "-1", "--format=%an <%ae>%n%s", "main"]).trim()).toBe("mega <admin@mega.org>\ncl merge generated commit");
    // The checked-out work tree follows main, so later upstream commits build on the merge.
    expect(readFileSync(join(repo.path, "project/foo/NEW.md"), "utf8")).toBe("new\n");
    expect(git(repo.path, ["status", "--porcelain"])).toBe(statusBefore);
    const content = (await api("/api/v1/tree/content-hash?path=/project/foo")).body.data;
    expect(content.find((e: any) => e.name === "NEW.md").oid).toBe(blobOf("new\n"));
    const detail = (await api(`/api/v1/cl/${result.link}/detail`)).body.data;
    expect(detail.status).toBe("Merged");
    expect(detail.merge_timestamp).toBeGreaterThan(0);
    expect((await api(`/api/v1/cl/${result.link}/merge-no-auth`, { method: "POST" })).status).toBe(409);
    // P's own history continues from the CL commit, and a new push opens a new CL.
    const next = await pathMain("/project/foo");
    expect(repo.revParse(`${next!.commit}^`)).toBe(commit);
    const again = await pushChanges("/project/foo", { "NEW.md": "newer\n" });
    expect(again.result.link).not.toBe(result.link);
    expect((await api(`/api/v1/cl/${again.result.link}/files-list`)).body.data).toEqual([{ path: "NEW.md", sha: blobOf("newer\n"), action: "modified" }]);
    expectFsckClean();
  });

  test("merge when main moved since the push is a three-way merge; a conflict is a 409", async () => {
    const clean = await pushChanges("/", { "merge-a.txt": "a\n" }, { token: BOB, message: "bob adds a" });
    repo.commitFile("upstream-b.txt", "b\n");
    const upstream = main();
    expect((await api(`/api/v1/cl/${clean.result.link}/merge-no-auth`, { method: "POST" })).status).toBe(200);
    expect(git(repo.path, ["show", "main:merge-a.txt"])).toBe("a\n");
    expect(git(repo.path, ["show", "main:upstream-b.txt"])).toBe("b\n");
    expect(git(repo.path, ["rev-list", "--parents", "-1", "main"]).trim().split(" ").slice(1)).toEqual([upstream, clean.commit]);

    const conflicting = await pushChanges("/", { "README.md": "mine\n" }, { token: BOB });
    repo.commitFile("README.md", "theirs\n");
    const before = main();
    const r = await api(`/api/v1/cl/${conflicting.result.link}/merge-no-auth`, { method: "POST" });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ req_result: false, data: null, err_message: "Merge conflict on files: README.md" });
    expect(main()).toBe(before);
    expect((await api(`/api/v1/cl/${conflicting.result.link}/detail`)).body.data.status).toBe("Open");
    expectFsckClean();
  });

  test("a push to a new path bootstraps it: the CL diffs against nothing and the merge creates the directory", async () => {
    const { result } = await pushChanges("/project/brand-new", { "hello.txt": "hello\n" });
    expect(result.oldId).toBe("0".repeat(40));
    expect((await api(`/api/v1/cl/${result.link}/files-list`)).body.data).toEqual([{ path: "hello.txt", sha: blobOf("hello\n"), action: "new" }]);
    expect((await api(`/api/v1/cl/${result.link}/merge-no-auth`, { method: "POST" })).status).toBe(200);
    expect(git(repo.path, ["show", "main:project/brand-new/hello.txt"])).toBe("hello\n");
    expectFsckClean();
  });

  test("unknown or missing tokens are 401 → unauthorized, and nothing changes", async () => {
    const before = git(repo.path, ["for-each-ref", "refs/cl/"]);
    for (const token of ["wrong-token", ""]) {
      const err = await pushChanges("/", { "x.txt": "x\n" }, { token }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PushError);
      expect((err as PushError).code).toBe("unauthorized");
      expect((err as PushError).status).toBe(401);
      expect((err as PushError).message).not.toContain("wrong-token");
    }
    expect(git(repo.path, ["for-each-ref", "refs/cl/"])).toBe(before);
  });

  test("two local commits in one push are refused with `ng` and Mega's message; no CL appears", async () => {
    const base = (await pathMain("/"))!;
    const store = localStore();
    const first = buildCommit(store, base.commit, base.tree, { "one.txt": "1\n" }, "one");
    const second = buildCommit(store, first, repo.revParse(`${base.commit}^{tree}`), { "one.txt": "1\n", "two.txt": "2\n" }, "two");
    const cls = git(repo.path, ["for-each-ref", "refs/cl/"]);
    const err = await pushCommit({ baseUrl: server.url, path: "/", objectsDir: store.objects, commit: second, token: ALICE }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PushError);
    expect((err as PushError).code).toBe("rejected");
    expect((err as PushError).message).toContain("only single commit support in each push");
    expect((err as PushError).serverReport).toContain("ng refs/heads/main");
    expect(git(repo.path, ["for-each-ref", "refs/cl/"])).toBe(cls);
  });

  test("a server that is down is a network error", async () => {
    const store = localStore();
    const commit = buildCommit(store, null, null, { "a.txt": "a\n" }, "x");
    const err = await pushCommit({ baseUrl: "http://127.0.0.1:1", path: "/", objectsDir: store.objects, commit, timeoutMs: 5000 }).catch((e: unknown) => e);
    expect((err as PushError).code).toBe("network");
  });
});

describe("push with the git CLI", () => {
  test("git push to {P}.git creates a CL at P, advertised at {P}.git, without moving main", async () => {
    const dest = join(tmp, "clone-bar");
    const auth = ["-c", `http.extraHeader=Authorization: Bearer ${ALICE}`];
    await gitAsync(tmp, [...auth, "clone", "-q", `${server.url}/project/bar.git`, dest]);
    writeFileSync(join(dest, "git-cli.txt"), "via git\n");
    git(dest, ["add", "git-cli.txt"]);
    git(dest, ["commit", "-q", "-m", "from the git CLI"]);
    const before = main();
    await gitAsync(dest, [...auth, "push", "-q", "origin", "HEAD:refs/heads/main"]);
    expect(main()).toBe(before);
    const head = git(dest, ["rev-parse", "HEAD"]).trim();
    const adv = await gitAsync(tmp, ["ls-remote", `${server.url}/project/bar.git`, "refs/cl/*"]);
    const line = adv.split("\n").find((l) => l.startsWith(head + "\t"));
    expect(line).toBeDefined();
    const link = line!.split("refs/cl/")[1]!;
    expect((await api(`/api/v1/cl/${link}/files-list`)).body.data).toEqual([{ path: "git-cli.txt", sha: blobOf("via git\n"), action: "new" }]);
    expect((await api(`/api/v1/cl/${link}/detail`)).body.data).toMatchObject({ path: "/project/bar", title: "from the git CLI", status: "Open" });
    // Without a token git gets 401.
    await expect(gitAsync(dest, ["push", "-q", "origin", "HEAD:refs/heads/main"])).rejects.toThrow(/401|Authentication|could not read/i);
    expectFsckClean();
  });
});

describe("anonymous pushes", () => {
  test("allowed when auth is not required; one open CL per path for the anonymous user", async () => {
    const s = await startDevServer({ repo: repo.path, tokens: { [ALICE]: "alice" }, requireAuth: false });
    try {
      const base = (await pathMain("/"))!;
      const push = async (content: string) => {
        const store = localStore();
        const commit = buildCommit(store, base.commit, base.tree, { "anon.txt": content }, "anon");
        return pushCommit({ baseUrl: s.url, path: "/", objectsDir: store.objects, commit });
      };
      const a = await push("1\n");
      const b = await push("2\n");
      expect(b.link).toBe(a.link);
      // A wrong token is still refused.
      const store = localStore();
      const commit = buildCommit(store, base.commit, base.tree, { "anon.txt": "3\n" }, "anon");
      const err = await pushCommit({ baseUrl: s.url, path: "/", objectsDir: store.objects, commit, token: "nope" }).catch((e: unknown) => e);
      expect((err as PushError).code).toBe("unauthorized");
    } finally {
      await s.stop();
    }
  });
});

describe("after the pushes above", () => {
  test("a commit on a base that main has since left is accepted; files-list shows only its own changes", async () => {
    const base = (await pathMain("/"))!;
    repo.commitFile("moved-upstream.txt", "upstream\n");
    const store = localStore();
    const commit = buildCommit(store, base.commit, base.tree, { "late.txt": "late\n" }, "late push");
    const result = await pushCommit({ baseUrl: server.url, path: "/", objectsDir: store.objects, commit, token: BOB });
    expect(result.oldId).toBe(main());
    expect((await api(`/api/v1/cl/${result.link}/files-list`)).body.data).toEqual([{ path: "late.txt", sha: blobOf("late\n"), action: "new" }]);
  });

  test("POST /api/v1/cl/list: Mega's shape, status and author filters, pagination; bad bodies are 400", async () => {
    const list = async (body: unknown) => api("/api/v1/cl/list", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const all = (await list({ pagination: { page: 1, per_page: 100 }, additional: { status: "all" } })).body.data;
    expect(all.total).toBe(all.items.length);
    expect(Object.keys(all.items[0]).sort()).toEqual(
      ["assignees", "author", "closed_at", "comment_num", "id", "labels", "link", "merge_timestamp", "open_timestamp", "status", "title", "updated_at"].sort(),
    );
    const open = (await list({ pagination: { page: 1, per_page: 100 }, additional: { status: "open", author: "alice" } })).body.data.items;
    expect(open.length).toBeGreaterThan(0);
    for (const c of open) expect([c.status, c.author]).toEqual(["Open", "alice"]);
    const merged = (await list({ pagination: { page: 1, per_page: 100 }, additional: { status: "closed" } })).body.data.items;
    expect(merged.length).toBeGreaterThanOrEqual(3);
    for (const c of merged) expect(c.status).toBe("Merged");
    const page = (await list({ pagination: { page: 2, per_page: 1 }, additional: { status: "all" } })).body.data;
    expect(page.items).toEqual([all.items[1]]);
    expect((await list({ pagination: { page: 0, per_page: 1 }, additional: {} })).status).toBe(400);
    expect((await list({ additional: { status: 3 } })).status).toBe(400);
  });

  test("merge and detail of unknown or malformed links", async () => {
    expect((await api("/api/v1/cl/NOPE0000/merge-no-auth", { method: "POST" })).status).toBe(404);
    expect((await api("/api/v1/cl/bad%20link/merge-no-auth", { method: "POST" })).status).toBe(400);
    expect((await api("/api/v1/cl/NOPE0000/detail")).status).toBe(404);
  });
});
