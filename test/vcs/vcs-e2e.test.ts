/**
 * Version control from a mount, end to end through the compiled binary: `scorpio devserver` over a
 * real git repository (pushes need alice's token), `scorpio serve` owning the mounts, edits made from
 * this process inside mounts served by the daemon child, `scorpio status/diff/commit/push` run as
 * the user would (cwd inside the mount, or `--mount`). Every result is checked against the git CLI on
 * a plain clone of the same repository.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../support/mount-fixture.ts";
import { git, makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { tearDown, ensureBuilt, SCORPIO, spawnScorpio, startServe, writeServeConfig, type DevServerProc, type ServeProc, type ServeSandbox } from "../support/scorpio.ts";
import { apiClient, type Api } from "../antares/helpers.ts";

const TOKEN = "t0k3n-alice";
let dir: string;
let repo: SampleRepo;
let dev: DevServerProc;
let sb: ServeSandbox;
let serve: ServeProc;
let api: Api;

async function startDev(repoPath: string): Promise<DevServerProc> {
  const p = spawnScorpio(["devserver", "--repo", repoPath, "--addr", "127.0.0.1:0", "--token", `alice=${TOKEN}`]);
  await p.waitFor((o) => /http:\/\/127\.0\.0\.1:\d+/.test(o), 20_000, "the dev server URL");
  return Object.assign(p, { url: /http:\/\/127\.0\.0\.1:\d+/.exec(p.output())![0] });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs dist/scorpio with the sandbox's config; async, since the daemon child serves the mounts. */
async function cli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), ...opts.env };
  if (!opts.env?.SCORPIO_MEGA_TOKEN) delete env.SCORPIO_MEGA_TOKEN;
  const p = Bun.spawn([SCORPIO, ...args, "-c", sb.configPath], { cwd: opts.cwd ?? dir, stdout: "pipe", stderr: "pipe", stdin: "ignore", env });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

async function createMount(body: Record<string, unknown>): Promise<{ mount_id: string; mountpoint: string }> {
  const r = await api("POST", "/antares/mounts", body);
  if (r.status !== 200) throw new Error(`create → ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** A plain clone of the dev repository checked out at `rev` (a commit whose tree is what the mount shows). */
function cloneAt(name: string, rev: string): string {
  const c = join(dir, name);
  git(dir, ["clone", "-q", "--no-checkout", repo.path, c]);
  git(c, ["config", "core.symlinks", "true"]);
  git(c, ["fetch", "-q", "origin", "+refs/cl/*:refs/remotes/cl/*"]);
  git(c, ["checkout", "-q", "--detach", rev]);
  return c;
}

/** The tree git computes for a work tree (everything not ignored, as `git add -A` takes it). */
function gitTree(clone: string): string {
  git(clone, ["add", "-A"]);
  return git(clone, ["write-tree"]).trim();
}

/** The same edits, applied to any directory (the mount or a clone). */
function editRoot(root: string): void {
  fs.writeFileSync(join(root, "README.md"), "# Sample monorepo\n\nEdited from a job mount.\n");
  fs.writeFileSync(join(root, "src/new.rs"), "// brand new\n");
  fs.unlinkSync(join(root, "src/lib/util.rs"));
  fs.renameSync(join(root, "project/foo/src/lib.rs"), join(root, "project/foo/src/renamed.rs"));
  fs.chmodSync(join(root, "src/main.rs"), 0o755);
  fs.symlinkSync("src/main.rs", join(root, "new-link"));
  fs.unlinkSync(join(root, "link-to-readme"));
  fs.symlinkSync("src/main.rs", join(root, "link-to-readme"));
  fs.writeFileSync(join(root, ".gitignore"), "*.log\n/build/\n!keep.log\n");
  fs.mkdirSync(join(root, "build"));
  fs.writeFileSync(join(root, "build/out.o"), "object\n");
  fs.writeFileSync(join(root, "debug.log"), "noise\n");
  fs.writeFileSync(join(root, "keep.log"), "kept\n");
  fs.mkdirSync(join(root, "empty-dir"));
}

const EXPECTED_ROOT = [
  "A  .gitignore",
  "M  README.md",
  "A  keep.log",
  "M  link-to-readme",
  "A  new-link",
  "R  project/foo/src/lib.rs -> project/foo/src/renamed.rs",
  "D  src/lib/util.rs",
  "M  src/main.rs",
  "A  src/new.rs",
];

beforeAll(async () => {
  ensureBuilt();
  dir = makeTempDir("vcs-e2e");
  repo = makeSampleRepo(join(dir, "repo"));
  repo.makeCl("CLFOO001", { "Cargo.toml": '[package]\nname = "foo-cl"\n', "src/extra.rs": "// extra\n" }, { clPath: "/project/foo" });
  dev = await startDev(repo.path);
  sb = writeServeConfig(join(dir, "sb"), dev.url, { antares_dicfuse_reply_ttl_secs: 1, dicfuse_reply_ttl_secs: 1, dicfuse_dir_sync_ttl_secs: 1, dicfuse_watch_interval_secs: 1, git_author: "Job Bot", git_email: "bot@example.com" });
  serve = await startServe(sb);
  api = apiClient(serve.httpUrl());
}, 120_000);

afterAll(() => tearDown({ daemon: serve, dev, sb, dir }), 120_000);

describe("a job mount of the monorepo root", () => {
  let m: { mount_id: string; mountpoint: string };
  let commit: string;
  let link: string;

  test("status lists exactly the edits (ignored files left out), from inside the mount", async () => {
    m = await createMount({ job_id: "vcs-root", path: "/" });
    const clean = await cli(["status"], { cwd: m.mountpoint });
    expect(clean.code).toBe(0);
    expect(clean.stdout.trim()).toBe(`## job mount vcs-root (/) base ${repo.revParse("main").slice(0, 7)} clean`);
    editRoot(m.mountpoint);
    const st = await cli(["status"], { cwd: join(m.mountpoint, "src") });
    expect(st.stderr).toBe("");
    const lines = st.stdout.trim().split("\n");
    expect(lines[0]).toStartWith("## job mount vcs-root (/) base ");
    expect(lines.slice(1)).toEqual(EXPECTED_ROOT);
    const js = JSON.parse((await cli(["status", "--json", "--mount", "vcs-root"])).stdout);
    expect(js.clean).toBe(false);
    const main = js.changes.find((c: any) => c.path === "src/main.rs");
    expect(main).toMatchObject({ status: "modified", old_mode: "100644", new_mode: "100755" });
    expect(main.old_oid).toBe(main.new_oid);
    expect(js.changes.find((c: any) => c.path === "new-link")).toMatchObject({ status: "added", new_mode: "120000" });
    expect(js.changes.find((c: any) => c.status === "renamed")).toMatchObject({ old_path: "project/foo/src/lib.rs", similarity: 100 });
  }, 120_000);

  test("diff is a patch git applies to a plain clone, giving the same tree as the same edits made there", async () => {
    const d = await cli(["diff"], { cwd: m.mountpoint });
    expect(d.code).toBe(0);
    expect(d.stdout).toContain("diff --git a/src/main.rs b/src/main.rs\nold mode 100644\nnew mode 100755\n");
    expect(d.stdout).toContain("rename from project/foo/src/lib.rs\nrename to project/foo/src/renamed.rs\n");
    const applied = cloneAt("apply-root", "main");
    fs.writeFileSync(join(dir, "root.patch"), d.stdout);
    git(applied, ["apply", "--index", join(dir, "root.patch")]);
    const replica = cloneAt("replica-root", "main");
    editRoot(replica);
    const expected = gitTree(replica);
    expect(git(applied, ["write-tree"]).trim()).toBe(expected);
    const stat = await cli(["diff", "--stat", "src"], { cwd: m.mountpoint });
    expect(stat.stdout).toContain("src/new.rs");
    expect(stat.stdout).not.toContain("README.md");
    expect(stat.stdout).toMatch(/3 files changed/);
  }, 120_000);

  test("commit builds git's objects: tree equal to git's, parent = base; then nothing to commit (exit 1)", async () => {
    const c = await cli(["commit", "-m", "Edit from a job mount\n\nBody.", "--json"], { cwd: m.mountpoint });
    expect(c.stderr).toBe("");
    expect(c.code).toBe(0);
    const out = JSON.parse(c.stdout);
    commit = out.commit;
    expect(out.parent).toBe(repo.revParse("main"));
    expect(out.tree).toBe(gitTree(join(dir, "replica-root")));
    // Byte-exact: git reads the loose objects of the mount's store and agrees on every id.
    const objects = join(sb.dir, "antares/upper", `${m.mount_id}.vcs`, "objects");
    const alt = { GIT_ALTERNATE_OBJECT_DIRECTORIES: objects };
    const replica = join(dir, "replica-root");
    expect(git(replica, ["cat-file", "-t", commit], { env: alt }).trim()).toBe("commit");
    const body = git(replica, ["cat-file", "commit", commit], { env: alt });
    expect(body).toContain("author Job Bot <bot@example.com> ");
    expect(body).toEndWith("\n\nEdit from a job mount\n\nBody.\n");
    const again = await cli(["commit", "-m", "again"], { cwd: m.mountpoint });
    expect(again.code).toBe(1);
    expect(again.stdout).toContain("nothing to commit, working tree clean");
    const st = await cli(["status"], { cwd: m.mountpoint });
    expect(st.stdout.trim()).toMatch(/HEAD [0-9a-f]{7} \[1 local commit not pushed\] clean$/);
  }, 120_000);

  test("push without a token fails clearly and loses nothing; with one it opens a CL git agrees with", async () => {
    const denied = await cli(["push"], { cwd: m.mountpoint });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain("push failed");
    expect(denied.stderr).not.toContain(TOKEN);
    expect((await cli(["status"], { cwd: m.mountpoint })).stdout).toContain("[1 local commit not pushed]");

    const p = await cli(["push"], { cwd: m.mountpoint, env: { SCORPIO_MEGA_TOKEN: TOKEN } });
    expect(p.stderr).toBe("");
    expect(p.code).toBe(0);
    expect(p.stdout).not.toContain(TOKEN);
    const mm = /CL ([A-Z0-9]+): (\S+)/.exec(p.stdout);
    expect(mm).not.toBeNull();
    link = mm![1]!;
    expect(mm![2]).toBe(`${dev.url}/cl/${link}`);
    expect(repo.revParse(`refs/cl/${link}`)).toBe(commit);
    git(repo.path, ["fsck", "--no-progress"]);
    const files = (await (await fetch(`${dev.url}/api/v1/cl/${link}/files-list`)).json()) as { data: Array<{ action: string; path: string }> };
    const got = (files.data as any[]).map((f) => `${f.action}:${f.path}`).sort();
    const want = git(repo.path, ["diff", "--name-status", "-M", "main", `refs/cl/${link}`]).trim().split("\n").length;
    expect(got.length).toBe(want);
    expect(got).toContain("new:src/new.rs");
    expect(got).toContain("deleted:src/lib/util.rs");
    const st = await cli(["status"], { cwd: m.mountpoint });
    expect(st.stdout.trim()).toEndWith(`[CL ${link} ${dev.url}/cl/${link}] clean`);
    expect((await api("GET", `/antares/mounts/${m.mount_id}`)).json.cl_link).toBe(link);
    // The edits are still there.
    expect(fs.readFileSync(join(m.mountpoint, "src/new.rs"), "utf8")).toBe("// brand new\n");
  }, 120_000);

  test("a second commit and push update the same CL with one squashed commit on the base", async () => {
    fs.writeFileSync(join(m.mountpoint, "src/new.rs"), "// brand new, second edit\n");
    expect((await cli(["commit", "-m", "Second edit"], { cwd: m.mountpoint })).code).toBe(0);
    expect((await cli(["status"], { cwd: m.mountpoint })).stdout).toContain(`[1 local commit not pushed] [CL ${link} `);
    const p = await cli(["push", "--json"], { cwd: m.mountpoint, env: { SCORPIO_MEGA_TOKEN: TOKEN } });
    expect(p.code).toBe(0);
    const out = JSON.parse(p.stdout);
    expect(out.link).toBe(link);
    const tip = repo.revParse(`refs/cl/${link}`);
    expect(tip).toBe(out.commit);
    expect(git(repo.path, ["rev-list", "--parents", "-n", "1", tip]).trim().split(" ")).toEqual([tip, repo.revParse("main")]);
    expect(git(repo.path, ["show", `${tip}:src/new.rs`])).toBe("// brand new, second edit\n");
  }, 120_000);

  test("merge on the server: the workspace shows the change after the watcher runs", async () => {
    const r = await fetch(`${dev.url}/api/v1/cl/${link}/merge-no-auth`, { method: "POST" });
    expect(r.status).toBe(200);
    const until = Date.now() + 30_000;
    let seen = "";
    while (Date.now() < until) {
      seen = await Bun.file(join(sb.workspace, "src/new.rs")).text().catch(() => "");
      if (seen === "// brand new, second edit\n") break;
      await Bun.sleep(250);
    }
    expect(seen).toBe("// brand new, second edit\n");
  }, 60_000);
});

describe("a CL-layered sub-path mount and a legacy checkout", () => {
  test("CL changes and edits are both listed; the commit tree equals git's", async () => {
    // main has moved since the CL was made (the merge above): the mount shows today's main plus the CL.
    const m = await createMount({ job_id: "vcs-cl", path: "/project/foo", cl: "CLFOO001" });
    fs.writeFileSync(join(m.mountpoint, "src/renamed.rs"), "// foo, edited\n");
    fs.writeFileSync(join(m.mountpoint, "NEW.md"), "new\n");
    const st = await cli(["status", "--mount", m.mountpoint]);
    expect(st.stdout.trim().split("\n").slice(1)).toEqual(["M  Cargo.toml", "A  NEW.md", "A  src/extra.rs", "M  src/renamed.rs"]);
    const c = JSON.parse((await cli(["commit", "-m", "CL plus edits", "--json", "--mount", "vcs-cl"])).stdout);
    const replica = cloneAt("replica-cl", "origin/main");
    const foo = join(replica, "project/foo");
    fs.writeFileSync(join(foo, "Cargo.toml"), '[package]\nname = "foo-cl"\n');
    fs.writeFileSync(join(foo, "src/extra.rs"), "// extra\n");
    fs.writeFileSync(join(foo, "src/renamed.rs"), "// foo, edited\n");
    fs.writeFileSync(join(foo, "NEW.md"), "new\n");
    gitTree(replica);
    expect(c.tree).toBe(git(replica, ["write-tree", "--prefix=project/foo/"]).trim());
    const p = await cli(["push", "--mount", "vcs-cl", "--token", TOKEN]);
    expect(p.stderr).toBe("");
    expect(p.code).toBe(0);
    const link = /CL ([A-Z0-9]+):/.exec(p.stdout)![1]!;
    expect(repo.revParse(`refs/cl/${link}^{tree}`)).toBe(c.tree);
    const files = (await (await fetch(`${dev.url}/api/v1/cl/${link}/files-list`)).json()) as { data: Array<{ action: string; path: string }> };
    expect((files.data as any[]).map((f) => `${f.action}:${f.path}`).sort()).toEqual(["modified:Cargo.toml", "modified:src/renamed.rs", "new:NEW.md", "new:src/extra.rs"]);
  }, 120_000);

  test("a legacy checkout: status, commit (tree equals git's subtree)", async () => {
    const r = await api("POST", "/api/fs/mount", { path: "/project/bar" });
    expect(r.json.status).toBe("Success");
    const checkout = `${sb.workspace}.checkouts/project/bar`;
    fs.writeFileSync(join(checkout, "deep/a/b/c/leaf.txt"), "leaf, edited\n");
    fs.writeFileSync(join(checkout, "top.txt"), "top\n");
    const st = await cli(["status"], { cwd: checkout });
    expect(st.stdout.trim().split("\n").slice(1)).toEqual(["M  deep/a/b/c/leaf.txt", "A  top.txt"]);
    const c = JSON.parse((await cli(["commit", "-m", "checkout edit", "--json"], { cwd: checkout })).stdout);
    const replica = cloneAt("replica-bar", "origin/main");
    fs.writeFileSync(join(replica, "project/bar/deep/a/b/c/leaf.txt"), "leaf, edited\n");
    fs.writeFileSync(join(replica, "project/bar/top.txt"), "top\n");
    gitTree(replica);
    expect(c.tree).toBe(git(replica, ["write-tree", "--prefix=project/bar/"]).trim());
    const p = await cli(["push", "--json"], { cwd: checkout, env: { SCORPIO_MEGA_TOKEN: TOKEN } });
    expect(p.stderr).toBe("");
    const pushed = JSON.parse(p.stdout);
    expect(repo.revParse(`refs/cl/${pushed.link}^{tree}`)).toBe(c.tree);
    expect((await cli(["status"], { cwd: checkout })).stdout).toContain(`[CL ${pushed.link} `);
    expect((await api("POST", "/api/fs/unmount", { path: "project/bar" })).json.status).toBe("Success");
  }, 120_000);
});

describe("HTTP API, bad input, names Mega refuses, daemon restart", () => {
  test("status/diff/commit/push over HTTP with {error, code} errors and OpenAPI entries", async () => {
    const m = await createMount({ job_id: "vcs-http", path: "/src" });
    const P = `/antares/mounts/${m.mount_id}`;
    expect((await api("GET", `${P}/status`)).json).toMatchObject({ path: "/src", clean: true, changes: [], ahead: 0, pushed: null, cl_link: null });
    const nothing = await api("POST", `${P}/commit`, { message: "x" });
    expect(nothing.status).toBe(409);
    expect(nothing.json).toEqual({ error: "nothing to commit, working tree clean", code: "NOTHING_TO_COMMIT" });
    expect((await api("POST", `${P}/push`, {})).json.code).toBe("NOTHING_TO_PUSH");
    fs.writeFileSync(join(m.mountpoint, "main.rs"), "fn main() {}\n");
    const d = await api("GET", `${P}/diff`);
    expect(d.json.files).toEqual([{ path: "main.rs", old_path: null, status: "modified", added: 1, removed: 1, binary: false }]);
    expect(d.json.patch).toContain("-fn main() { println!(\"hi\"); }\n+fn main() {}\n");
    expect((await api("GET", `${P}/diff?format=stat`)).json).toContain("1 file changed, 1 insertion(+), 1 deletion(-)");
    expect((await api("POST", `${P}/commit`, { message: "m", author: "no email" })).json.code).toBe("BAD_AUTHOR");
    expect((await api("POST", `${P}/commit`, {})).status).toBe(400);
    expect((await api("POST", `${P}/commit`, { message: "   \n" })).json.code).toBe("EMPTY_MESSAGE");
    const c = await api("POST", `${P}/commit`, { message: "HTTP commit", author: "Dee Dev <dee@example.com>" });
    expect(c.status).toBe(200);
    const amended = await api("POST", `${P}/commit`, { message: "HTTP commit, reworded", amend: true });
    expect(amended.json.parent).toBe(c.json.parent);
    expect(amended.json.commit).not.toBe(c.json.commit);
    const bad = await api("POST", `${P}/push`, { token: "wrong" });
    expect(bad.status).toBe(401);
    expect(bad.json.code).toBe("PUSH_UNAUTHORIZED");
    const ok = await api("POST", `${P}/push`, { token: TOKEN });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ squashed: 1, commit: amended.json.commit });
    expect((await api("GET", `${P}/status`)).json).toMatchObject({ clean: true, cl_link: ok.json.link, pushed: { link: ok.json.link } });
    expect((await api("GET", "/antares/mounts/00000000-0000-0000-0000-000000000000/status")).json.code).toBe("NOT_FOUND");
    const spec = (await api("GET", "/openapi.json")).json;
    for (const op of ["status", "diff"]) expect(spec.paths[`/antares/mounts/{mount_id}/${op}`]?.get).toBeDefined();
    for (const op of ["commit", "push"]) expect(spec.paths[`/antares/mounts/{mount_id}/${op}`]?.post).toBeDefined();
  }, 120_000);

  test("a name Mega cannot store is committed byte-exact but refused before pushing", async () => {
    const m = await createMount({ job_id: "vcs-names", path: "/src" });
    const name = Buffer.concat([Buffer.from("caf"), Buffer.from([0xe9]), Buffer.from(".txt")]);
    fs.writeFileSync(Buffer.concat([Buffer.from(m.mountpoint + "/"), name]), "latin1\n");
    const st = await cli(["status", "--mount", "vcs-names"]);
    expect(st.stdout).toContain('A  "caf\\351.txt"');
    const c = JSON.parse((await cli(["commit", "-m", "odd name", "--json", "--mount", "vcs-names"])).stdout);
    const replica = cloneAt("replica-names", "origin/main");
    fs.writeFileSync(Buffer.concat([Buffer.from(replica + "/src/"), name]), "latin1\n");
    gitTree(replica);
    expect(c.tree).toBe(git(replica, ["write-tree", "--prefix=src/"]).trim());
    const p = await cli(["push", "--mount", "vcs-names", "--token", TOKEN]);
    expect(p.code).not.toBe(0);
    expect(p.stderr).toContain("REFUSED_PATHS");
    expect(p.stderr).toContain("not valid UTF-8");
  }, 120_000);

  test("commits, base and CL link survive a daemon restart", async () => {
    const before = (await api("GET", "/antares/mounts/by-job/vcs-root")).json;
    const st1 = JSON.parse((await cli(["status", "--json", "--mount", "vcs-root"])).stdout);
    await serve.stop();
    serve = await startServe(sb);
    api = apiClient(serve.httpUrl());
    const until = Date.now() + 30_000;
    while ((await api("GET", `/antares/mounts/${before.mount_id}`)).json.state !== "Ready" && Date.now() < until) await Bun.sleep(100);
    const after = (await api("GET", `/antares/mounts/${before.mount_id}`)).json;
    expect(after).toMatchObject({ base_commit: before.base_commit, base_tree: before.base_tree, cl_link: before.cl_link });
    const st2 = JSON.parse((await cli(["status", "--json", "--mount", "vcs-root"])).stdout);
    expect(st2).toEqual(st1);
  }, 120_000);

  test("a sub-path mount keeps committing against its base after main moved upstream", async () => {
    const m = await createMount({ job_id: "vcs-moved", path: "/project/bar" });
    const base = (await api("GET", `/antares/mounts/${m.mount_id}`)).json;
    const oldMain = repo.revParse("main");
    repo.commitFile("project/bar/deep/a/b/c/leaf.txt", "moved upstream\n");
    fs.writeFileSync(join(m.mountpoint, "deep/a/b/c/new.txt"), "made in the mount\n");
    const st = await cli(["status", "--mount", "vcs-moved"]);
    expect(st.stderr).toBe("");
    expect(st.stdout.trim().split("\n").slice(1)).toEqual(["A  deep/a/b/c/new.txt"]);
    const c = JSON.parse((await cli(["commit", "-m", "on the old base", "--json", "--mount", "vcs-moved"])).stdout);
    expect(c.parent).toBe(base.base_commit);
    const replica = cloneAt("replica-moved", oldMain);
    fs.writeFileSync(join(replica, "project/bar/deep/a/b/c/new.txt"), "made in the mount\n");
    gitTree(replica);
    expect(c.tree).toBe(git(replica, ["write-tree", "--prefix=project/bar/"]).trim());
    const p = await cli(["push", "--mount", "vcs-moved", "--token", TOKEN]);
    expect(p.stderr).toBe("");
    const link = /CL ([A-Z0-9]+):/.exec(p.stdout)![1]!;
    expect(repo.revParse(`refs/cl/${link}`)).toBe(c.commit);
  }, 120_000);
});
