/**
 * Hermetic job mounts on both engines, through the compiled daemon over a real git repository: a job
 * is pinned at the monorepo commit of its creation (an upstream commit made afterwards never shows in
 * it, while the following workspace view and a new job do see it); `refresh` moves one job to the
 * newest commit and its recorded base with it, keeping the upper layer; jobs at different commits
 * coexist; recovery after `kill -9` reopens the same commit; a pinned view (its FUSE mount on the
 * kernel engine, its tree store on both) goes with its last job, and gc removes a pinned store left
 * behind.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { join } from "node:path";
import { isMounted, makeTempDir, removeDir } from "../support/mount-fixture.ts";
import { makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { tearDown, ensureBuilt, startDevServerProcess, startServe, writeServeConfig, type DevServerProc, type ServeProc, type ServeSandbox } from "../support/scorpio.ts";
import { apiClient, createMount, waitSettled, type Api } from "./helpers.ts";

const P = "/antares";
const ENGINES = ["kernel-overlayfs", "fuse-overlay"] as const;
/** Short watcher intervals: a following view sees an upstream commit within about a second. */
const FAST_WATCH = { dicfuse_watch_interval_secs: 1, dicfuse_dir_sync_ttl_secs: 1, antares_dicfuse_dir_sync_ttl_secs: 1 };

let dir: string;
let repo: SampleRepo;
let dev: DevServerProc;

beforeAll(async () => {
  ensureBuilt();
  dir = makeTempDir("antares-pin");
  repo = makeSampleRepo(join(dir, "repo"));
  dev = await startDevServerProcess(repo.path);
}, 120_000);

afterAll(async () => {
  await dev?.stop();
  removeDir(dir);
}, 60_000);

const hash16 = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);
const head = () => repo.revParse("main");

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

const read = (p: string) => fs.readFileSync(p, "utf8");

for (const engine of ENGINES) {
  describe(engine, () => {
    let sb: ServeSandbox;
    let serve: ServeProc;
    let api: Api;
    const create = (body: Record<string, unknown>) => createMount(api, P, body);
    const status = async (id: string) => (await api("GET", `${P}/mounts/${id}`)).json;
    const remove = async (id: string) => expect((await api("DELETE", `${P}/mounts/${id}?purge=true`)).status).toBe(200);
    const restart = async () => {
      serve = await startServe(sb);
      api = apiClient(serve.httpUrl());
    };
    /** The shared FUSE mount of the view of (path, commit), kernel engine. */
    const viewDir = (path: string, commit: string) => join(sb.dir, "antares/mnt/.views", hash16(`${path}@${commit}`));
    /** The tree store of the pinned view of (path, commit), both engines. */
    const treeDir = (path: string, commit: string) => join(sb.storePath, "dicfuse", hash16(`${path}@${commit}`));

    beforeAll(async () => {
      sb = writeServeConfig(join(dir, `sb-${engine}`), dev.url, { antares_overlay_engine: engine, ...FAST_WATCH });
      await restart();
    }, 60_000);

    afterAll(() => tearDown({ daemon: serve, sb }), 60_000);

    test("a job does not see an upstream commit made after its creation (the workspace and a new job do); refresh moves it", async () => {
      const c1 = head();
      const root = await create({ job_id: `pin-root-${engine}`, path: "/" });
      const sub = await create({ job_id: `pin-sub-${engine}`, path: "/src" });
      expect(await status(root.mount_id)).toMatchObject({ pinned: true, pinned_commit: c1, base_commit: c1, base_tree: repo.revParse("main^{tree}") });
      const subSt = await status(sub.mount_id);
      expect(subSt).toMatchObject({ pinned: true, pinned_commit: c1, base_tree: repo.revParse("main:src") });
      expect(subSt.base_commit).not.toBeNull();
      fs.writeFileSync(join(root.mountpoint, "mine.txt"), "job output\n");
      const mainBefore = read(join(repo.path, "src/main.rs"));

      const name = `upstream-${engine}.txt`;
      repo.commitFile(name, "new upstream\n");
      const c2 = repo.commitFile("src/main.rs", `changed upstream (${engine})\n`);
      // Proof that the change reaches a following view (so the checks below can fail): the workspace
      // shows it after a watcher round.
      await until("the workspace to show the upstream commit", () => fs.existsSync(join(sb.workspace, name)) && read(join(sb.workspace, "src/main.rs")) !== mainBefore);
      await Bun.sleep(2_500); // two more watcher intervals

      expect(fs.existsSync(join(root.mountpoint, name))).toBe(false);
      expect(fs.readdirSync(root.mountpoint)).not.toContain(name);
      expect(read(join(root.mountpoint, "src/main.rs"))).toBe(mainBefore);
      expect(read(join(sub.mountpoint, "main.rs"))).toBe(mainBefore);
      expect((await status(root.mount_id)).pinned_commit).toBe(c1);

      // A job created now is at the new commit; the two coexist with different content.
      const later = await create({ job_id: `pin-later-${engine}`, path: "/" });
      expect(await status(later.mount_id)).toMatchObject({ pinned: true, pinned_commit: c2, base_commit: c2 });
      expect(read(join(later.mountpoint, name))).toBe("new upstream\n");
      expect(read(join(later.mountpoint, "src/main.rs"))).toBe(`changed upstream (${engine})\n`);
      expect(read(join(root.mountpoint, "src/main.rs"))).toBe(mainBefore);
      if (engine === "kernel-overlayfs") {
        expect(isMounted(viewDir("/", c1))).toBe(true);
        expect(isMounted(viewDir("/", c2))).toBe(true);
      }

      // refresh: the old job moves to c2, keeps its upper, and its base moves with it.
      const r = await api("POST", `${P}/mounts/${root.mount_id}/refresh`);
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ pinned: true, pinned_commit: c2, base_commit: c2, base_tree: repo.revParse("main^{tree}"), layers: { engine } });
      expect((await waitSettled(api, P, root.mount_id)).state).toBe("Ready");
      expect(read(join(root.mountpoint, name))).toBe("new upstream\n");
      expect(read(join(root.mountpoint, "src/main.rs"))).toBe(`changed upstream (${engine})\n`);
      expect(read(join(root.mountpoint, "mine.txt"))).toBe("job output\n");
      // VCS status is against the new base: only the job's own file is a change.
      const st = await api("GET", `${P}/mounts/${root.mount_id}/status`);
      expect(st.status).toBe(200);
      expect(st.json.base_commit).toBe(c2);
      expect(st.json.changes.map((c: { status: string; path: string }) => `${c.status} ${c.path}`)).toEqual(["added mine.txt"]);
      // Nothing holds c1 at the root any more: its view went (mount and tree store).
      await until("the c1 view to go", () => !fs.existsSync(treeDir("/", c1)));
      if (engine === "kernel-overlayfs") expect(isMounted(viewDir("/", c1))).toBe(false);

      // The sub-path job is untouched by the other job's refresh, and refreshes on its own.
      expect(read(join(sub.mountpoint, "main.rs"))).toBe(mainBefore);
      const rs = await api("POST", `${P}/mounts/${sub.mount_id}/refresh`);
      expect(rs.status).toBe(200);
      expect(rs.json).toMatchObject({ pinned_commit: c2, base_tree: repo.revParse("main:src") });
      expect(read(join(sub.mountpoint, "main.rs"))).toBe(`changed upstream (${engine})\n`);
      for (const m of [root, sub, later]) await remove(m.mount_id);
    }, 120_000);

    test("refresh is refused while the mount has local commits (their trees are on the old base)", async () => {
      const job = await create({ job_id: `pin-commits-${engine}`, path: "/" });
      fs.writeFileSync(join(job.mountpoint, "committed.txt"), "x\n");
      const c = await api("POST", `${P}/mounts/${job.mount_id}/commit`, { message: "local" });
      expect(c.status).toBe(200);
      const before = (await status(job.mount_id)).pinned_commit;
      repo.commitFile(`after-commit-${engine}.txt`, "y\n");
      const r = await api("POST", `${P}/mounts/${job.mount_id}/refresh`);
      expect(r.status).toBe(409);
      expect(r.json.code).toBe("LOCAL_COMMITS");
      expect(await status(job.mount_id)).toMatchObject({ state: "Ready", pinned_commit: before });
      await remove(job.mount_id);
    }, 60_000);

    test("recovery after kill -9 reopens the job's pinned commit over the same upper", async () => {
      const c1 = head();
      const job = await create({ job_id: `pin-kill-${engine}`, path: "/" });
      fs.writeFileSync(join(job.mountpoint, "out.o"), "object\n");
      const name = `after-kill-${engine}.txt`;
      repo.commitFile(name, "upstream after the job started\n");
      serve.proc.kill("SIGKILL");
      await serve.proc.exited;
      fs.rmSync(sb.stateFile, { force: true }); // the dead daemon's record; the new one writes its own
      await restart();
      expect((await waitSettled(api, P, job.mount_id)).state).toBe("Ready");
      expect(await status(job.mount_id)).toMatchObject({ pinned: true, pinned_commit: c1, base_commit: c1 });
      expect(read(join(job.mountpoint, "out.o"))).toBe("object\n");
      expect(fs.existsSync(join(job.mountpoint, name))).toBe(false);
      expect(read(join(job.mountpoint, "README.md"))).toBe(read(join(repo.path, "README.md")));
      await until("the workspace to show the upstream commit", () => fs.existsSync(join(sb.workspace, name)));
      expect(fs.existsSync(join(job.mountpoint, name))).toBe(false);
      if (engine === "kernel-overlayfs") expect(isMounted(viewDir("/", c1))).toBe(true);
      await remove(job.mount_id);
    }, 120_000);

    test("jobs at one commit share one view; it is unmounted and closed when the last of them is deleted", async () => {
      const c = head();
      const a = await create({ job_id: `pin-share-a-${engine}`, path: "/" });
      const b = await create({ job_id: `pin-share-b-${engine}`, path: "/" });
      expect((await status(a.mount_id)).layers.dicfuse).toBe(treeDir("/", c));
      expect((await status(b.mount_id)).layers.dicfuse).toBe(treeDir("/", c));
      const views = () => fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.split(" ")[4]?.startsWith(join(sb.dir, "antares/mnt/.views/")));
      if (engine === "kernel-overlayfs") {
        expect(isMounted(viewDir("/", c))).toBe(true);
        expect(views().length).toBe(1);
      } else {
        expect(views().length).toBe(0);
      }
      await remove(a.mount_id);
      expect(fs.existsSync(treeDir("/", c))).toBe(true);
      expect(read(join(b.mountpoint, "README.md"))).toBe(read(join(repo.path, "README.md")));
      if (engine === "kernel-overlayfs") expect(isMounted(viewDir("/", c))).toBe(true);
      await remove(b.mount_id);
      expect(fs.existsSync(treeDir("/", c))).toBe(false);
      expect(isMounted(viewDir("/", c))).toBe(false);
      expect(views().length).toBe(0);
      // A new job at the same commit opens it again.
      const again = await create({ job_id: `pin-share-c-${engine}`, path: "/" });
      expect(read(join(again.mountpoint, "README.md"))).toBe(read(join(repo.path, "README.md")));
      await remove(again.mount_id);
    }, 60_000);

    test("POST /antares/gc removes a pinned view store no job uses, and keeps those in use and following views' stores", async () => {
      const job = await create({ job_id: `pin-gc-${engine}`, path: "/" });
      const inUse = (await status(job.mount_id)).layers.dicfuse as string;
      expect(fs.existsSync(join(inUse, "pinned-view"))).toBe(true);
      const orphan = join(sb.storePath, "dicfuse", "0123456789abcdef");
      fs.mkdirSync(orphan, { recursive: true });
      fs.writeFileSync(join(orphan, "pinned-view"), "/@0000000000000000000000000000000000000000\n");
      const following = join(sb.storePath, "dicfuse", "fedcba9876543210");
      fs.mkdirSync(following, { recursive: true });
      const r = await api("POST", `${P}/gc`);
      expect(r.status).toBe(200);
      expect(r.json.removed).toEqual([orphan]);
      expect(fs.existsSync(inUse)).toBe(true);
      expect(fs.existsSync(following)).toBe(true);
      expect(read(join(job.mountpoint, "README.md"))).toBe(read(join(repo.path, "README.md")));
      fs.rmSync(following, { recursive: true });
      await remove(job.mount_id);
    }, 60_000);

    // Last in the describe: the old view stays mounted a while after this job is deleted.
    if (engine === "kernel-overlayfs") {
      test("refresh while a job process is inside the mount: that process keeps its old tree, and the old view is still served", async () => {
        const c1 = head();
        const job = await create({ job_id: `pin-busy-${engine}`, path: "/" });
        const before = read(join(job.mountpoint, "src/main.rs"));
        const sleeper = Bun.spawn(["sleep", "120"], { cwd: job.mountpoint });
        try {
          const c2 = repo.commitFile("src/main.rs", `busy refresh (${engine})\n`);
          const r = await api("POST", `${P}/mounts/${job.mount_id}/refresh`);
          expect(r.status).toBe(200);
          expect(r.json.pinned_commit).toBe(c2);
          expect(read(join(job.mountpoint, "src/main.rs"))).toBe(`busy refresh (${engine})\n`);
          // The busy overlay was detached, not unmounted: through the sleeper's cwd it still shows c1,
          // read from the c1 view, which is still mounted and served.
          expect(isMounted(viewDir("/", c1))).toBe(true);
          const cwd = `/proc/${sleeper.pid}/cwd`;
          expect(read(join(cwd, "src/main.rs"))).toBe(before);
          expect(read(join(cwd, "README.md"))).toBe(read(join(repo.path, "README.md")));
        } finally {
          sleeper.kill();
          await sleeper.exited;
        }
        await remove(job.mount_id);
      }, 60_000);
    }
  });
}
