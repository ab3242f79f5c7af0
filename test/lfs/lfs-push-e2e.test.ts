/**
 * LFS on the commit/push side, end to end through the compiled binary: `scorpio devserver` over a real
 * git repository whose `.gitattributes` makes `*.pak` LFS files (objects in the dev server's LFS store),
 * `scorpio serve` owning job mounts, edits made from this process. The mount shows the LFS object (an edit
 * appends to the copied-up content); a commit stores LFS files as pointers
 * (blob ids equal to what `git add` with git-lfs gives on a clone), `push` uploads exactly the objects
 * the server lacks before the pack, and a failed upload aborts the push and keeps the commit.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { formatLfsPointer, LfsObjectDir, lfsOidOf } from "../../src/lfs/index.ts";
import { objectId } from "../../src/vcs/objects.ts";
import { makeTempDir } from "../support/mount-fixture.ts";
import { git, makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { tearDown, ensureBuilt, SCORPIO, spawnScorpio, startServe, writeServeConfig, type DevServerProc, type ServeProc, type ServeSandbox } from "../support/scorpio.ts";
import { apiClient, type Api } from "../antares/helpers.ts";

const TOKEN = "t0k3n-alice";
const enc = new TextEncoder();
let dir: string;
let repo: SampleRepo;
let dev: DevServerProc;
let sb: ServeSandbox;
let serve: ServeProc;
let api: Api;
/** The dev server's LFS store (`<git dir>/lfs`, where `scorpio devserver --repo` keeps it). */
let serverLfs: LfsObjectDir;

const oldContent = crypto.getRandomValues(new Uint8Array(50_000));
const tail = crypto.getRandomValues(new Uint8Array(250_000));
/** big.pak after the job appends to it: the object's bytes (copied up from the mount's view), then more. */
const newContent = new Uint8Array(Buffer.concat([oldContent, tail]));
const onServer = enc.encode("already on the server\n".repeat(100));
const psd = crypto.getRandomValues(new Uint8Array(70_000));
const subPak = crypto.getRandomValues(new Uint8Array(40_000));
const pointerOf = (bytes: Uint8Array) => enc.encode(formatLfsPointer({ oid: lfsOidOf(bytes), size: bytes.byteLength }));
const blobId = (bytes: Uint8Array) => objectId("blob", bytes);

async function startDev(repoPath: string): Promise<DevServerProc> {
  const p = spawnScorpio(["devserver", "--repo", repoPath, "--addr", "127.0.0.1:0", "--token", `alice=${TOKEN}`]);
  await p.waitFor((o) => /http:\/\/127\.0\.0\.1:\d+/.test(o), 20_000, "the dev server URL");
  return Object.assign(p, { url: /http:\/\/127\.0\.0\.1:\d+/.exec(p.output())![0] });
}

async function cli(args: string[], opts: { cwd?: string; token?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  delete env.SCORPIO_MEGA_TOKEN;
  if (opts.token) env.SCORPIO_MEGA_TOKEN = TOKEN;
  const p = Bun.spawn([SCORPIO, ...args, "-c", sb.configPath], { cwd: opts.cwd ?? dir, stdout: "pipe", stderr: "pipe", stdin: "ignore", env });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

async function createMount(jobId: string, path = "/"): Promise<{ mount_id: string; mountpoint: string }> {
  const r = await api("POST", "/antares/mounts", { job_id: jobId, path });
  if (r.status !== 200) throw new Error(`create → ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

function serverObjects(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(join(d, e.name)) : out.push(e.name);
  };
  walk(serverLfs.objectsDir);
  return out.sort();
}

const clRefs = () => git(repo.path, ["for-each-ref", "--format=%(refname) %(objectname)", "refs/cl/"]).trim();

beforeAll(async () => {
  ensureBuilt();
  dir = makeTempDir("lfs-push-e2e");
  repo = makeSampleRepo(join(dir, "repo"));
  repo.commitFile(".gitattributes", "*.pak filter=lfs diff=lfs merge=lfs -text\n");
  repo.commitFile("assets/big.pak", pointerOf(oldContent));
  serverLfs = new LfsObjectDir(join(repo.path, ".git", "lfs"));
  await serverLfs.putBytes(oldContent);
  await serverLfs.putBytes(onServer);
  dev = await startDev(repo.path);
  sb = writeServeConfig(join(dir, "sb"), dev.url, { antares_dicfuse_reply_ttl_secs: 1, dicfuse_reply_ttl_secs: 1, git_author: "Job Bot", git_email: "bot@example.com" });
  serve = await startServe(sb);
  api = apiClient(serve.httpUrl());
}, 120_000);

afterAll(() => tearDown({ daemon: serve, dev, sb, dir }), 120_000);

/** The same edits, in any directory (the mount: big.pak shows its object there; or a clone with git-lfs). */
function editA(root: string, inMount: boolean): void {
  if (inMount) fs.appendFileSync(join(root, "assets/big.pak"), tail);
  else fs.writeFileSync(join(root, "assets/big.pak"), newContent);
  fs.writeFileSync(join(root, "assets/already.pak"), pointerOf(onServer));
  fs.writeFileSync(join(root, "assets/empty.pak"), "");
  fs.writeFileSync(join(root, "plain.txt"), "not an LFS path\n");
}

describe("commit and push of LFS files from a job mount", () => {
  let m: { mount_id: string; mountpoint: string };

  test("status and diff show LFS files by content, as pointer changes", async () => {
    m = await createMount("lfs-a");
    // The mount shows the LFS object (pointer size on stat, content from the dev server's LFS store).
    expect(fs.statSync(join(m.mountpoint, "assets/big.pak")).size).toBe(oldContent.byteLength);
    expect(new Uint8Array(fs.readFileSync(join(m.mountpoint, "assets/big.pak")))).toEqual(oldContent);
    // A copy-up that changes nothing (metadata only) is not a change: the content still cleans to the base pointer.
    fs.utimesSync(join(m.mountpoint, "assets/big.pak"), new Date(), new Date(2001, 1, 1));
    expect((await cli(["status"], { cwd: m.mountpoint })).stdout.trim()).toEndWith("clean");
    editA(m.mountpoint, true);
    const st = await cli(["status"], { cwd: m.mountpoint });
    expect(st.stderr).toBe("");
    expect(st.stdout.trim().split("\n").slice(1)).toEqual(["A  assets/already.pak", "M  assets/big.pak", "A  assets/empty.pak", "A  plain.txt"]);
    const js = JSON.parse((await cli(["status", "--json"], { cwd: m.mountpoint })).stdout);
    const big = js.changes.find((c: any) => c.path === "assets/big.pak");
    expect(big.old_oid).toBe(blobId(pointerOf(oldContent)));
    expect(big.new_oid).toBe(blobId(pointerOf(newContent)));
    expect(js.changes.find((c: any) => c.path === "assets/already.pak").new_oid).toBe(blobId(pointerOf(onServer)));
    const d = await cli(["diff", "assets/big.pak"], { cwd: m.mountpoint });
    expect(d.code).toBe(0);
    expect(d.stdout).toContain(
      ` version https://git-lfs.github.com/spec/v1\n-oid sha256:${lfsOidOf(oldContent)}\n-size ${oldContent.byteLength}\n+oid sha256:${lfsOidOf(newContent)}\n+size ${newContent.byteLength}\n`,
    );
    // Nothing is stored before a commit.
    expect(fs.readdirSync(join(sb.dir, "antares/upper", `${m.mount_id}.vcs`, "lfs", "objects"))).toEqual([]);
  }, 120_000);

  test("commit stores pointers: the tree equals `git add` with git-lfs on a clone; objects kept locally", async () => {
    const c = await cli(["commit", "-m", "Update the big file", "--json"], { cwd: m.mountpoint });
    expect(c.stderr).toBe("");
    expect(c.code).toBe(0);
    const out = JSON.parse(c.stdout);
    // The same edits in a clone where git-lfs's clean filter runs on `git add`.
    const clone = join(dir, "clone-a");
    const env = { HOME: join(dir, "home"), GIT_LFS_SKIP_SMUDGE: "1" };
    git(dir, ["clone", "-q", "--no-checkout", repo.path, clone], { env });
    git(clone, ["lfs", "install", "--local", "--skip-smudge"], { env });
    git(clone, ["checkout", "-q", "--detach", "main"], { env });
    editA(clone, false);
    git(clone, ["add", "-A"], { env });
    expect(out.tree).toBe(git(clone, ["write-tree"], { env }).trim());
    const local = new LfsObjectDir(join(sb.dir, "antares/upper", `${m.mount_id}.vcs`, "lfs"));
    expect(new Uint8Array(fs.readFileSync(local.pathFor(lfsOidOf(newContent))))).toEqual(newContent);
    expect(await local.has(lfsOidOf(onServer))).toBe(false);
    // The mount itself still shows the content that was written.
    expect(new Uint8Array(fs.readFileSync(join(m.mountpoint, "assets/big.pak")))).toEqual(newContent);
    expect((await cli(["status"], { cwd: m.mountpoint })).stdout).toContain("[1 local commit not pushed] clean");
  }, 120_000);

  test("push uploads exactly the one missing object, then the pack: the CL holds the pointer", async () => {
    const before = serverObjects();
    const p = await cli(["push"], { cwd: m.mountpoint, token: true });
    expect(p.stderr).toBe("");
    expect(p.code).toBe(0);
    expect(p.stdout).toContain("LFS: 1 object(s) uploaded, 1 already on the server");
    const link = /CL ([A-Z0-9]+):/.exec(p.stdout)![1]!;
    expect(serverObjects()).toEqual([...before, lfsOidOf(newContent)].sort());
    expect(new Uint8Array(fs.readFileSync(serverLfs.pathFor(lfsOidOf(newContent))))).toEqual(newContent);
    expect(git(repo.path, ["cat-file", "blob", `refs/cl/${link}:assets/big.pak`])).toBe(formatLfsPointer({ oid: lfsOidOf(newContent), size: newContent.byteLength }));
    expect(git(repo.path, ["cat-file", "blob", `refs/cl/${link}:assets/empty.pak`])).toBe("");
    expect(git(repo.path, ["cat-file", "blob", `refs/cl/${link}:plain.txt`])).toBe("not an LFS path\n");
    git(repo.path, ["fsck", "--no-progress"]);
  }, 120_000);
});

describe("a failed LFS upload", () => {
  test("aborts the push before the pack, names the file and keeps the commit; a retry succeeds", async () => {
    const m = await createMount("lfs-b");
    // Attributes from the upper layer: Mega's .libra_attributes in a new directory.
    fs.mkdirSync(join(m.mountpoint, "media"));
    fs.writeFileSync(join(m.mountpoint, "media/.libra_attributes"), "*.psd filter=lfs -text\n");
    fs.writeFileSync(join(m.mountpoint, "media/pic.psd"), psd);
    fs.writeFileSync(join(m.mountpoint, "media/readme.txt"), "not LFS\n");
    const c = JSON.parse((await cli(["commit", "-m", "Add a picture", "--json"], { cwd: m.mountpoint })).stdout);
    expect(c.changes.find((x: any) => x.path === "media/pic.psd").new_oid).toBe(blobId(pointerOf(psd)));
    expect(c.changes.find((x: any) => x.path === "media/readme.txt").new_oid).toBe(blobId(enc.encode("not LFS\n")));
    // The local object is lost (a disk cleanup, say): the upload cannot happen.
    const local = new LfsObjectDir(join(sb.dir, "antares/upper", `${m.mount_id}.vcs`, "lfs"));
    fs.unlinkSync(local.pathFor(lfsOidOf(psd)));
    const refs = clRefs();
    const failed = await cli(["push"], { cwd: m.mountpoint, token: true });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("push failed");
    expect(failed.stderr).toContain("media/pic.psd");
    expect(failed.stderr).toContain("nothing was pushed");
    expect(failed.stderr).not.toContain(TOKEN);
    expect(clRefs()).toBe(refs);
    expect(await serverLfs.has(lfsOidOf(psd))).toBe(false);
    expect((await cli(["status"], { cwd: m.mountpoint })).stdout).toContain("[1 local commit not pushed] clean");
    // Put the object back: the same commit pushes.
    await local.putBytes(psd);
    const ok = await cli(["push"], { cwd: m.mountpoint, token: true });
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("LFS: 1 object(s) uploaded, 0 already on the server");
    expect(new Uint8Array(fs.readFileSync(serverLfs.pathFor(lfsOidOf(psd))))).toEqual(psd);
    expect(git(repo.path, ["cat-file", "blob", `${c.commit}:media/pic.psd`])).toBe(formatLfsPointer({ oid: lfsOidOf(psd), size: psd.byteLength }));
  }, 120_000);
});

describe("a sub-path mount", () => {
  test("applies the attribute files above its path: commit stores a pointer, push uploads the object", async () => {
    const m = await createMount("lfs-sub", "/assets");
    fs.writeFileSync(join(m.mountpoint, "sub.pak"), subPak);
    const c = JSON.parse((await cli(["commit", "-m", "Add sub.pak", "--json"], { cwd: m.mountpoint })).stdout);
    expect(c.changes.find((x: any) => x.path === "sub.pak").new_oid).toBe(blobId(pointerOf(subPak)));
    const p = await cli(["push"], { cwd: m.mountpoint, token: true });
    expect(p.stderr).toBe("");
    expect(p.code).toBe(0);
    expect(p.stdout).toContain("LFS: 1 object(s) uploaded");
    expect(new Uint8Array(fs.readFileSync(serverLfs.pathFor(lfsOidOf(subPak))))).toEqual(subPak);
  }, 120_000);
});
