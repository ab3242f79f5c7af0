/**
 * Antares job mounts end to end through the compiled binary: `scorpio devserver` over a real git
 * repository, `scorpio serve` owning the mounts, every call over HTTP (and the CLI), every file
 * access from this process into mounts served by the daemon child. One suite, run once per engine
 * (antares.kernel.test.ts, antares.fuse.test.ts) with `antares_overlay_engine` forced.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { join } from "node:path";
import { isMounted, makeTempDir, removeDir } from "../support/mount-fixture.ts";
import { makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { cleanupServeMounts, ensureBuilt, spawnScorpio, startDevServerProcess, startServe, writeServeConfig, SCORPIO, type DevServerProc, type ServeProc, type ServeSandbox } from "../support/scorpio.ts";
import { apiClient, waitSettled, type Api } from "./helpers.ts";

export type Engine = "kernel-overlayfs" | "fuse-overlay";

export function antaresSuite(engine: Engine): void {

  let dir: string;
  let repo: SampleRepo;
  let dev: DevServerProc;
  let sb: ServeSandbox;
  let serve: ServeProc;
  let api: Api;
  const P = "/antares";

  async function create(body: Record<string, unknown>): Promise<{ mount_id: string; mountpoint: string }> {
    const r = await api("POST", `${P}/mounts`, body);
    if (r.status !== 200) throw new Error(`create ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }

  beforeAll(async () => {
    ensureBuilt();
    dir = makeTempDir("antares");
    repo = makeSampleRepo(join(dir, "repo"));
    repo.makeCl("CLAAAA01", { "README.md": "cl one\n", "src/main.rs": null, "newdir/f.txt": "f\n" });
    repo.makeCl("CLAAAA02", { "README.md": "cl two\n", "project/foo/Cargo.toml": null });
    repo.makeCl("CLAAAA03", { "Cargo.toml": "[package]\nname = \"foo-cl\"\n", "src/extra.rs": "// extra\n" }, { clPath: "/project/foo" });
    dev = await startDevServerProcess(repo.path);
    sb = writeServeConfig(join(dir, "sb"), dev.url, { antares_dicfuse_reply_ttl_secs: 1, dicfuse_reply_ttl_secs: 1, antares_overlay_engine: engine });
    serve = await startServe(sb);
    api = apiClient(serve.httpUrl());
  }, 120_000);

  afterAll(async () => {
    await serve?.stop();
    await dev?.stop();
    if (sb) cleanupServeMounts(sb);
    removeDir(dir);
  }, 120_000);

  describe("job mounts", () => {
    test("two jobs on the same path are isolated; copy-up and whiteouts land in each job's upper", async () => {
      const a = await create({ job_id: "iso-a", path: "/" });
      const b = await create({ job_id: "iso-b", path: "/" });
      expect(a.mount_id).not.toBe(b.mount_id);
      expect(a.mountpoint).toBe(join(sb.dir, "antares/mnt", a.mount_id));
      expect((await api("GET", `${P}/mounts/${a.mount_id}/ready`)).json).toEqual({ mount_id: a.mount_id, ready: true, state: "Ready" });

      fs.writeFileSync(join(a.mountpoint, "README.md"), "edited in a\n");
      fs.writeFileSync(join(a.mountpoint, "src/new.rs"), "// new\n");
      fs.unlinkSync(join(a.mountpoint, "src/main.rs"));

      expect(fs.readFileSync(join(a.mountpoint, "README.md"), "utf8")).toBe("edited in a\n");
      expect(fs.readdirSync(join(a.mountpoint, "src")).sort()).toEqual(["lib", "new.rs"]);
      expect(fs.readFileSync(join(b.mountpoint, "README.md"), "utf8")).toBe("# Sample monorepo\n");
      expect(fs.readdirSync(join(b.mountpoint, "src")).sort()).toEqual(["lib", "main.rs"]);
      expect(fs.existsSync(join(b.mountpoint, "src/new.rs"))).toBe(false);

      const upper = join(sb.dir, "antares/upper", a.mount_id);
      expect(fs.readFileSync(join(upper, "README.md"), "utf8")).toBe("edited in a\n");
      expect(fs.readFileSync(join(upper, "src/new.rs"), "utf8")).toBe("// new\n");
      // The deletion is recorded in the upper layer (as a whiteout), never in the lower view.
      expect(fs.readdirSync(join(upper, "src")).some((n) => n.includes("main.rs"))).toBe(true);
      expect(fs.readdirSync(join(sb.dir, "antares/upper", b.mount_id))).toEqual([]);

      const st = await api("GET", `${P}/mounts/${a.mount_id}`);
      expect(st.json.layers.engine).toBe(engine);
      expect(Object.keys(st.json)).toEqual(["mount_id", "job_id", "path", "cl", "mountpoint", "layers", "state", "created_at_epoch_ms", "last_seen_epoch_ms", "labels", "readonly", "base_commit", "base_tree", "cl_link", "pinned", "pinned_commit"]);
      expect(st.json.base_commit).toBe(repo.revParse("main"));
      expect(st.json).toMatchObject({ pinned: true, pinned_commit: repo.revParse("main") });
      expect(st.json.base_tree).toBe(repo.revParse("main^{tree}"));
      expect(st.json).toMatchObject({ job_id: "iso-a", path: "/", cl: null, state: "Ready", layers: { upper, cl: null, dicfuse: join(sb.storePath, "dicfuse", createHash("sha256").update(`/@${repo.revParse("main")}`).digest("hex").slice(0, 16)) } });
      expect((await api("GET", `${P}/mounts/by-job/iso-b`)).json.mount_id).toBe(b.mount_id);

      for (const m of [a, b]) {
        const d = await api("DELETE", `${P}/mounts/${m.mount_id}`);
        expect(d.status).toBe(200);
        expect(d.json.state).toBe("Unmounted");
        expect(isMounted(m.mountpoint)).toBe(false);
      }
      // Data is kept unless purged.
      expect(fs.existsSync(upper)).toBe(true);
      expect((await api("GET", `${P}/mounts/${a.mount_id}`)).status).toBe(404);
    }, 60_000);

    test("create is idempotent per job id, also for concurrent requests", async () => {
      const first = await create({ job_id: "idem", path: "/project" });
      const again = await create({ job_id: "idem", path: "project/" });
      expect(again).toEqual(first);
      const other = await api("POST", `${P}/mounts`, { job_id: "idem", path: "/src" });
      expect(other.status).toBe(400);
      expect(other.json).toEqual({ error: "job_id/build_id 'idem' already mounted with different path/cl", code: "INVALID_REQUEST" });
      expect((await api("DELETE", `${P}/mounts/by-job/idem?purge=true`)).status).toBe(200);
      expect(fs.existsSync(join(sb.dir, "antares/upper", first.mount_id))).toBe(false);

      const results = await Promise.all(Array.from({ length: 5 }, () => api("POST", `${P}/mounts`, { build_id: "idem-conc", path: "/" })));
      for (const r of results) expect(r.status).toBe(200);
      expect(new Set(results.map((r) => r.json.mount_id)).size).toBe(1);
      const listed = (await api("GET", `${P}/mounts`)).json.mounts.filter((m: any) => m.job_id === "idem-conc");
      expect(listed.length).toBe(1);
      expect((await api("DELETE", `${P}/mounts/by-job/idem-conc`)).status).toBe(200);
    }, 60_000);

    test("20 concurrent creates for distinct jobs all succeed", async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => api("POST", `${P}/mounts`, { job_id: `many-${i}`, path: i % 2 ? "/" : "/src" })));
      for (const r of results) expect(r.status).toBe(200);
      const ids = results.map((r) => r.json.mount_id as string);
      expect(new Set(ids).size).toBe(20);
      for (const [i, r] of results.entries()) {
        expect(fs.readdirSync(r.json.mountpoint)).toContain(i % 2 ? "README.md" : "main.rs");
      }
      const health = await api("GET", "/health");
      expect(health.json.mount_count).toBeGreaterThanOrEqual(21);
      const dels = await Promise.all(ids.map((id) => api("DELETE", `${P}/mounts/${id}?purge=true`)));
      for (const d of dels) expect(d.status).toBe(200);
    }, 120_000);

    test("a sub-path mount shows that path at its root, with its own view", async () => {
      const m = await create({ job_id: "sub", path: "/project/foo" });
      expect(fs.readdirSync(m.mountpoint).sort()).toEqual(["Cargo.toml", "src"]);
      const st = (await api("GET", `${P}/mounts/${m.mount_id}`)).json;
      expect(st.layers.dicfuse).toContain(join(sb.storePath, "dicfuse"));
      expect((await api("DELETE", `${P}/mounts/${m.mount_id}`)).status).toBe(200);
    }, 60_000);
  });

  describe("CL layers", () => {
    test("build at create, rebuild and clear keep the job's upper", async () => {
      const m = await create({ job_id: "cl-job", path: "/", cl: "CLAAAA01" });
      const rd = (p: string) => fs.readFileSync(join(m.mountpoint, p), "utf8");
      expect(rd("README.md")).toBe("cl one\n");
      expect(rd("newdir/f.txt")).toBe("f\n");
      expect(fs.readdirSync(join(m.mountpoint, "src"))).not.toContain("main.rs");
      fs.writeFileSync(join(m.mountpoint, "mine.txt"), "mine\n");

      const rebuilt = await api("POST", `${P}/mounts/${m.mount_id}/cl`, { cl: "CLAAAA02" });
      expect(rebuilt.status).toBe(200);
      expect(rebuilt.json).toMatchObject({ cl: "CLAAAA02", state: "Ready", layers: { cl: join(sb.dir, "antares/cl", m.mount_id) } });
      expect(rd("README.md")).toBe("cl two\n");
      expect(fs.existsSync(join(m.mountpoint, "newdir"))).toBe(false);
      expect(fs.readdirSync(join(m.mountpoint, "src")).sort()).toEqual(["lib", "main.rs"]);
      expect(fs.readdirSync(join(m.mountpoint, "project/foo"))).not.toContain("Cargo.toml");
      expect(rd("mine.txt")).toBe("mine\n");

      const cleared = await api("DELETE", `${P}/mounts/${m.mount_id}/cl`);
      expect(cleared.status).toBe(200);
      expect(cleared.json).toMatchObject({ cl: null, state: "Ready", layers: { cl: null } });
      expect(rd("README.md")).toBe("# Sample monorepo\n");
      expect(fs.readdirSync(join(m.mountpoint, "project/foo")).sort()).toEqual(["Cargo.toml", "src"]);
      expect(rd("mine.txt")).toBe("mine\n");
      expect((await api("DELETE", `${P}/mounts/${m.mount_id}/cl`)).json).toEqual({ error: "mount has no CL layer to clear", code: "INVALID_REQUEST" });
      expect((await api("POST", `${P}/mounts/${m.mount_id}/cl`, { cl: "" })).json).toEqual({ error: "cl link cannot be empty", code: "INVALID_REQUEST" });
      const missing = await api("POST", `${P}/mounts/${m.mount_id}/cl`, { cl: "NOSUCHCL" });
      expect(missing.status).toBeGreaterThanOrEqual(400);
      expect(missing.status).toBeLessThan(500);
      expect((await api("GET", `${P}/mounts/${m.mount_id}/ready`)).json.ready).toBe(true);
      expect(rd("mine.txt")).toBe("mine\n");
      expect((await api("DELETE", `${P}/mounts/${m.mount_id}`)).status).toBe(200);
    }, 60_000);

    test("a sub-path CL (files-list relative to the CL path) applies at the mount root", async () => {
      const m = await create({ job_id: "cl-sub", path: "/project/foo", cl: "CLAAAA03" });
      expect(fs.readFileSync(join(m.mountpoint, "Cargo.toml"), "utf8")).toBe('[package]\nname = "foo-cl"\n');
      expect(fs.readdirSync(join(m.mountpoint, "src")).sort()).toEqual(["extra.rs", "lib.rs"]);
      expect((await api("DELETE", `${P}/mounts/${m.mount_id}`)).status).toBe(200);
    }, 60_000);

    test("a create with an unknown CL fails cleanly and leaves nothing behind", async () => {
      const r = await api("POST", `${P}/mounts`, { job_id: "cl-bad", path: "/", cl: "NOSUCHCL" });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(typeof r.json.error).toBe("string");
      expect((await api("GET", `${P}/mounts/by-job/cl-bad`)).status).toBe(404);
    }, 30_000);
  });

  describe("malformed requests get 4xx JSON", () => {
    const uuid = "123e4567-e89b-12d3-a456-426614174000";
    const cases: Array<[string, string, string, { body?: string; contentType?: string }?]> = [
      ["malformed JSON", "POST", "/mounts", { body: "{nope", contentType: "application/json" }],
      ["path of the wrong type", "POST", "/mounts", { body: '{"path":5}', contentType: "application/json" }],
      ["missing path", "POST", "/mounts", { body: '{"job_id":"x"}', contentType: "application/json" }],
      ["array body", "POST", "/mounts", { body: "[]", contentType: "application/json" }],
      ["empty path", "POST", "/mounts", { body: '{"path":"  "}', contentType: "application/json" }],
      ["dot-dot path", "POST", "/mounts", { body: '{"path":"/src/../.."}', contentType: "application/json" }],
      ["NUL in path", "POST", "/mounts", { body: '{"path":"/src\\u0000x"}', contentType: "application/json" }],
      ["dot segment", "POST", "/mounts", { body: '{"path":"./src"}', contentType: "application/json" }],
      ["path that does not exist", "POST", "/mounts", { body: '{"path":"/no/such/dir","job_id":"nx"}', contentType: "application/json" }],
      ["job id of the wrong type", "POST", "/mounts", { body: '{"path":"/","job_id":7}', contentType: "application/json" }],
      ["empty cl", "POST", "/mounts", { body: '{"path":"/","cl":""}', contentType: "application/json" }],
      ["text body", "POST", "/mounts", { body: "path=/", contentType: "text/plain" }],
      ["no body", "POST", "/mounts"],
      ["non-uuid mount id", "GET", "/mounts/not-a-uuid"],
      ["by-job without id", "GET", "/mounts/by-job"],
      ["unknown mount", "GET", `/mounts/${uuid}`],
      ["unknown mount ready", "GET", `/mounts/${uuid}/ready`],
      ["unknown mount delete", "DELETE", `/mounts/${uuid}`],
      ["unknown job", "DELETE", "/mounts/by-job/nobody"],
      ["bad purge flag", "DELETE", `/mounts/${uuid}?purge=maybe`],
      ["cl body missing cl", "POST", `/mounts/${uuid}/cl`, { body: "{}", contentType: "application/json" }],
      ["cl on unknown mount", "POST", `/mounts/${uuid}/cl`, { body: '{"cl":"CLAAAA01"}', contentType: "application/json" }],
      ["unknown route", "GET", "/nothing-here"],
    ];
    for (const [name, method, path, raw] of cases) {
      test(name, async () => {
        const r = await api(method, P + path, undefined, raw ?? {});
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(typeof r.json.error).toBe("string");
        expect(typeof r.json.code).toBe("string");
      }, 30_000);
    }
    test("the daemon is still healthy afterwards", async () => {
      expect((await api("GET", "/health")).status).toBe(200);
    });
  });

  describe("unmount under load", () => {
    test("DELETE while a reader loops over the mount does not hang", async () => {
      const m = await create({ job_id: "load", path: "/" });
      const script = `const fs=require("fs");const p=process.argv[1];for(;;){try{fs.readdirSync(p+"/src");fs.readFileSync(p+"/README.md");fs.statSync(p+"/project/foo/Cargo.toml")}catch{}}`;
      const reader = Bun.spawn([process.execPath, "-e", script, m.mountpoint], { stdout: "ignore", stderr: "ignore" });
      try {
        await Bun.sleep(300);
        const d = await api("DELETE", `${P}/mounts/${m.mount_id}`);
        expect(d.status).toBe(200);
        expect(d.json.state).toBe("Unmounted");
      } finally {
        reader.kill("SIGKILL");
        await reader.exited;
      }
      expect(isMounted(m.mountpoint)).toBe(false);
    }, 60_000);
  });

  describe("CLI and legacy API", () => {
    test("scorpio mount / list / umount go through the daemon", async () => {
      const run = async (args: string[]) => {
        const p = spawnScorpio([...args, "-c", sb.configPath]);
        const code = await p.proc.exited;
        await Bun.sleep(20);
        return { code, out: p.output() };
      };
      const m = await run(["mount", "cli-job"]);
      expect(m.code).toBe(0);
      expect(m.out).toContain("mounted job cli-job at ");
      const l = await run(["list"]);
      expect(l.code).toBe(0);
      expect(l.out).toContain("cli-job");
      const u = await run(["umount", "cli-job"]);
      expect(u.code).toBe(0);
      expect((await api("GET", `${P}/mounts/by-job/cli-job`)).status).toBe(404);
      expect(SCORPIO).toContain("dist/scorpio");
    }, 60_000);

    test("legacy checkout round trip with Deprecation headers; edits are kept", async () => {
      const mount = await api("POST", "/api/fs/mount", { path: "/project/" });
      expect(mount.headers.get("deprecation")).toBe("true");
      expect(mount.json).toMatchObject({ status: "Success", message: "Mount task completed" });
      const sel = await api("GET", `/api/fs/select/${mount.json.request_id}`);
      expect(sel.json).toMatchObject({ status: "Success", task_status: "finished", message: "Task found", mount: { path: "project" } });
      expect((await api("GET", `/api/fs/select/${mount.json.request_id}`)).json.task_status).toBe("not_found");
      const mp = await api("GET", "/api/fs/mpoint");
      expect(mp.json.mounts.map((m: any) => m.path)).toEqual(["project"]);
      const again = await api("POST", "/api/fs/mount", { path: "project/foo" });
      expect(again.json).toMatchObject({ status: "Fail", message: "please unmount" });

      const checkout = `${sb.workspace}.checkouts/project`;
      expect(fs.readdirSync(checkout).sort()).toEqual(["bar", "foo"]);
      fs.writeFileSync(join(checkout, "foo/edit.txt"), "legacy edit\n");
      const hash = mp.json.mounts[0].hash as string;
      expect(fs.readFileSync(join(sb.storePath, hash, "upper/foo/edit.txt"), "utf8")).toBe("legacy edit\n");

      const bad = await api("POST", "/api/fs/mount", undefined, { body: "{", contentType: "application/json" });
      expect(bad.status).toBe(400);
      expect(bad.headers.get("deprecation")).toBe("true");
      expect((await api("POST", "/api/fs/unmount", {})).json).toEqual({ status: "Fail", message: "Need a inode or path." });
      const un = await api("POST", "/api/fs/unmount", { path: "project" });
      expect(un.json).toEqual({ status: "Success", message: "Directory unmounted successfully" });
      expect(isMounted(checkout)).toBe(false);
      expect(fs.existsSync(join(sb.storePath, hash, "upper/foo/edit.txt"))).toBe(true);
      const cfg = await api("GET", "/api/config");
      expect(cfg.json).toEqual({ status: "Success", config: { mega_url: dev.url, mount_path: sb.workspace, store_path: sb.storePath } });
      expect((await api("GET", "/health")).headers.get("deprecation")).toBeNull();
      const spec = await api("GET", "/openapi.json");
      expect(spec.status).toBe(200);
      expect(Object.keys(spec.json.paths)).toContain("/antares/mounts");
    }, 60_000);
  });

  describe("restart recovery", () => {
    test("upper edits survive a restart; a mount whose upper vanished becomes Failed", async () => {
      const keep = await create({ job_id: "survivor", path: "/", cl: "CLAAAA01" });
      const lost = await create({ job_id: "lost", path: "/src" });
      fs.writeFileSync(join(keep.mountpoint, "work.txt"), "in progress\n");
      const legacy = await api("POST", "/api/fs/mount", { path: "src" });
      expect(legacy.json.status).toBe("Success");
      fs.writeFileSync(`${sb.workspace}.checkouts/src/legacy.txt`, "legacy\n");

      expect(await serve.stop()).toBe(0);
      expect(isMounted(keep.mountpoint)).toBe(false);
      const state = fs.readFileSync(join(sb.dir, "antares/state.toml"), "utf8");
      expect(state).toContain(keep.mount_id);
      fs.rmSync(join(sb.dir, "antares/upper", lost.mount_id), { recursive: true, force: true });

      serve = await startServe(sb);
      api = apiClient(serve.httpUrl());
      const ready = await waitSettled(api, P, keep.mount_id);
      expect(ready).toEqual({ mount_id: keep.mount_id, ready: true, state: "Ready" });
      expect(fs.readFileSync(join(keep.mountpoint, "work.txt"), "utf8")).toBe("in progress\n");
      expect(fs.readFileSync(join(keep.mountpoint, "README.md"), "utf8")).toBe("cl one\n");
      expect((await api("GET", `${P}/mounts/by-job/survivor`)).json).toMatchObject({ mount_id: keep.mount_id, cl: "CLAAAA01", state: "Ready" });

      const failedState = (await waitSettled(api, P, lost.mount_id)).state;
      expect(failedState.Failed.reason).toContain("upper directory");
      const retry = await api("POST", `${P}/mounts`, { job_id: "lost", path: "/src" });
      expect(retry.status).toBe(400);
      expect(retry.json.error).toContain("is currently in state Failed");
      expect((await api("DELETE", `${P}/mounts/${lost.mount_id}`)).status).toBe(200);

      const deadline = Date.now() + 20_000;
      while (!isMounted(`${sb.workspace}.checkouts/src`) && Date.now() < deadline) await Bun.sleep(50);
      expect(fs.readFileSync(`${sb.workspace}.checkouts/src/legacy.txt`, "utf8")).toBe("legacy\n");
      expect((await api("POST", "/api/fs/unmount", { path: "src" })).json.status).toBe("Success");
      expect((await api("DELETE", `${P}/mounts/${keep.mount_id}`)).status).toBe(200);
    }, 120_000);
  });
}
