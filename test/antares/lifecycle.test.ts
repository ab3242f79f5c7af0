/**
 * Job-mount lifecycle on both engines, through the compiled daemon: labels and read-only mounts,
 * recovery after `kill -9` of the daemon (every closed file of a running job is kept), removal of
 * orphaned directories (at start and with POST /antares/gc), and disk-pressure admission (a small
 * tmpfs as the upper root: 507 above the limit, /health degraded above the warn level).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { isMounted, makeTempDir, removeDir } from "../support/mount-fixture.ts";
import { makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { cleanupServeMounts, tearDown, ensureBuilt, spawnScorpio, startDevServerProcess, startServe, writeServeConfig, type DevServerProc, type ServeProc, type ServeSandbox } from "../support/scorpio.ts";
import { apiClient, createMount, waitSettled, type Api } from "./helpers.ts";

const P = "/antares";
const ENGINES = ["kernel-overlayfs", "fuse-overlay"] as const;

let dir: string;
let repo: SampleRepo;
let dev: DevServerProc;

beforeAll(async () => {
  ensureBuilt();
  dir = makeTempDir("antares-life");
  repo = makeSampleRepo(join(dir, "repo"));
  repo.makeCl("CLRO0001", { "README.md": "cl ro\n" });
  dev = await startDevServerProcess(repo.path);
}, 120_000);

afterAll(async () => {
  await dev?.stop();
  removeDir(dir);
}, 60_000);

const repoFile = (p: string) => fs.readFileSync(join(repo.path, p), "utf8");

function errnoCode(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code;
  }
}

for (const engine of ENGINES) {
  describe(engine, () => {
    let sb: ServeSandbox;
    let serve: ServeProc;
    let api: Api;
    const create = (body: Record<string, unknown>) => createMount(api, P, body);
    const restart = async () => {
      serve = await startServe(sb);
      api = apiClient(serve.httpUrl());
    };

    beforeAll(async () => {
      sb = writeServeConfig(join(dir, `sb-${engine}`), dev.url, { antares_overlay_engine: engine });
      await restart();
    }, 60_000);

    afterAll(() => tearDown({ daemon: serve, sb }), 60_000);

    test("labels are stored, returned, filtered on and survive a restart", async () => {
      const a = await create({ job_id: "lab-a", path: "/", labels: ["ci", "team:core"] });
      const b = await create({ job_id: "lab-b", path: "/", labels: ["nightly"] });
      expect((await api("GET", `${P}/mounts/${a.mount_id}`)).json).toMatchObject({ labels: ["ci", "team:core"], readonly: false });
      const ci = (await api("GET", `${P}/mounts?label=ci`)).json.mounts.map((m: { mount_id: string }) => m.mount_id);
      expect(ci).toEqual([a.mount_id]);
      expect((await api("GET", `${P}/mounts?label=none`)).json.mounts).toEqual([]);
      const bad = await api("POST", `${P}/mounts`, { job_id: "lab-bad", path: "/", labels: ["has space"] });
      expect(bad.status).toBe(400);
      expect(bad.json.code).toBe("BAD_PAYLOAD");

      expect(await serve.stop()).toBe(0);
      await restart();
      expect((await waitSettled(api, P, a.mount_id)).state).toBe("Ready");
      expect((await api("GET", `${P}/mounts?label=nightly`)).json.mounts.map((m: { mount_id: string }) => m.mount_id)).toEqual([b.mount_id]);
      for (const id of [a.mount_id, b.mount_id]) expect((await api("DELETE", `${P}/mounts/${id}?purge=true`)).status).toBe(200);
    }, 120_000);

    test("a readonly mount shows the lower view (and CL) alone, refuses writes and has no upper", async () => {
      const ro = await create({ job_id: "ro", path: "/", readonly: true });
      const st = (await api("GET", `${P}/mounts/${ro.mount_id}`)).json;
      expect(st).toMatchObject({ readonly: true, layers: { upper: "", engine } });
      expect(fs.readFileSync(join(ro.mountpoint, "README.md"), "utf8")).toBe(repoFile("README.md"));
      expect(errnoCode(() => fs.writeFileSync(join(ro.mountpoint, "new.txt"), "x"))).toBe("EROFS");
      expect(errnoCode(() => fs.unlinkSync(join(ro.mountpoint, "README.md")))).toBe("EROFS");
      expect(fs.existsSync(join(sb.dir, "antares/upper", ro.mount_id))).toBe(false);
      const dup = await api("POST", `${P}/mounts`, { job_id: "ro", path: "/" });
      expect(dup.status).toBe(400);
      expect(dup.json.error).toContain("readonly = true");

      const withCl = await create({ job_id: "ro-cl", path: "/", readonly: true, cl: "CLRO0001" });
      expect(fs.readFileSync(join(withCl.mountpoint, "README.md"), "utf8")).toBe("cl ro\n");
      expect(errnoCode(() => fs.writeFileSync(join(withCl.mountpoint, "README.md"), "x"))).toBe("EROFS");
      for (const id of [ro.mount_id, withCl.mount_id]) expect((await api("DELETE", `${P}/mounts/${id}?purge=true`)).status).toBe(200);
    }, 60_000);

    test("after kill -9 of the daemon, the restarted one remounts the job over the same upper with every closed file", async () => {
      const job = await create({ job_id: "killed", path: "/" });
      const files = Array.from({ length: 50 }, (_, i) => `out/obj-${i}.o`);
      fs.mkdirSync(join(job.mountpoint, "out"));
      for (const f of files) fs.writeFileSync(join(job.mountpoint, f), `object ${f}\n`);
      fs.writeFileSync(join(job.mountpoint, "README.md"), "edited by the job\n");
      fs.unlinkSync(join(job.mountpoint, "src/lib/mod.rs"));
      // A file the job still holds open at the crash: its closed predecessors must all be there.
      const open = fs.openSync(join(job.mountpoint, "still-open.log"), "w");
      fs.writeSync(open, "partial\n");

      serve.proc.kill("SIGKILL");
      await serve.proc.exited;
      fs.closeSync(open);
      fs.rmSync(sb.stateFile, { force: true }); // the dead daemon's record; the new one writes its own
      await restart();
      expect(await waitSettled(api, P, job.mount_id)).toEqual({ mount_id: job.mount_id, ready: true, state: "Ready" });
      expect(isMounted(job.mountpoint)).toBe(true);
      for (const f of files) expect(fs.readFileSync(join(job.mountpoint, f), "utf8")).toBe(`object ${f}\n`);
      expect(fs.readFileSync(join(job.mountpoint, "README.md"), "utf8")).toBe("edited by the job\n");
      expect(fs.existsSync(join(job.mountpoint, "src/lib/mod.rs"))).toBe(false);
      expect(fs.readFileSync(join(job.mountpoint, "still-open.log"), "utf8")).toBe("partial\n");
      // The lower view answers again through the recovered mount.
      expect(fs.readFileSync(join(job.mountpoint, "src/main.rs"), "utf8")).toBe(repoFile("src/main.rs"));
      expect((await api("GET", `${P}/mounts/${job.mount_id}`)).json.layers.engine).toBe(engine);
      expect((await api("DELETE", `${P}/mounts/${job.mount_id}?purge=true`)).status).toBe(200);
    }, 120_000);

    test("refresh moves the job to the newest commit now and keeps its upper layer (API and CLI)", async () => {
      const job = await create({ job_id: `refresh-${engine}`, path: "/" });
      const name = `upstream-${engine}.txt`;
      fs.writeFileSync(join(job.mountpoint, "mine.txt"), "job output\n");
      expect(fs.readdirSync(job.mountpoint)).not.toContain(name);
      repo.commitFile(name, "new upstream\n");
      const r = await api("POST", `${P}/mounts/${job.mount_id}/refresh`);
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ mount_id: job.mount_id, layers: { engine } });
      expect((await waitSettled(api, P, job.mount_id)).state).toBe("Ready");
      expect(fs.readFileSync(join(job.mountpoint, name), "utf8")).toBe("new upstream\n");
      expect(fs.readFileSync(join(job.mountpoint, "mine.txt"), "utf8")).toBe("job output\n");

      const second = `upstream-cli-${engine}.txt`;
      repo.commitFile(second, "second\n");
      const cli = spawnScorpio(["refresh", `refresh-${engine}`, "-c", sb.configPath]);
      expect(await cli.proc.exited).toBe(0);
      await Bun.sleep(20);
      expect(cli.output()).toContain(`refreshed job refresh-${engine}`);
      expect((await waitSettled(api, P, job.mount_id)).state).toBe("Ready");
      expect(fs.readFileSync(join(job.mountpoint, second), "utf8")).toBe("second\n");
      const unknown = spawnScorpio(["refresh", "no-such-job", "-c", sb.configPath]);
      expect(await unknown.proc.exited).toBe(3);
      expect((await api("POST", `${P}/mounts/00000000-0000-4000-8000-000000000000/refresh`)).status).toBe(404);
      expect((await api("DELETE", `${P}/mounts/${job.mount_id}?purge=true`)).status).toBe(200);
    }, 60_000);

    test("orphaned directories are removed at start and by POST /antares/gc; owned ones are kept", async () => {
      const live = await create({ job_id: "gc-live", path: "/" });
      fs.writeFileSync(join(live.mountpoint, "keep.txt"), "keep\n");
      const roots = { upper: join(sb.dir, "antares/upper"), cl: join(sb.dir, "antares/cl"), mnt: join(sb.dir, "antares/mnt"), work: join(sb.dir, "antares/upper/.work") };
      const plant = () => {
        const id = randomUUID();
        const dirs = [join(roots.upper, id), join(roots.work, id), join(roots.cl, id), join(roots.mnt, id), join(roots.cl, `${live.mount_id}.staging-0badc0de`)];
        for (const d of dirs) fs.mkdirSync(join(d, "sub"), { recursive: true });
        return dirs;
      };
      const foreign = join(roots.upper, "not-a-mount-id");
      fs.mkdirSync(foreign, { recursive: true });

      const planted = plant();
      const r = await api("POST", `${P}/gc`);
      expect(r.status).toBe(200);
      expect([...r.json.removed].sort()).toEqual([...planted].sort());
      for (const d of planted) expect(fs.existsSync(d)).toBe(false);
      expect(fs.existsSync(foreign)).toBe(true);
      expect(fs.readFileSync(join(live.mountpoint, "keep.txt"), "utf8")).toBe("keep\n");
      expect(fs.existsSync(join(roots.upper, live.mount_id, "keep.txt"))).toBe(true);

      expect(await serve.stop()).toBe(0);
      const atStart = plant();
      await restart();
      expect((await waitSettled(api, P, live.mount_id)).state).toBe("Ready");
      const until = Date.now() + 20_000;
      while (atStart.some((d) => fs.existsSync(d)) && Date.now() < until) await Bun.sleep(50);
      for (const d of atStart) expect(fs.existsSync(d)).toBe(false);
      expect(fs.readFileSync(join(live.mountpoint, "keep.txt"), "utf8")).toBe("keep\n");
      fs.rmSync(foreign, { recursive: true });
      expect((await api("DELETE", `${P}/mounts/${live.mount_id}?purge=true`)).status).toBe(200);
    }, 120_000);
  });
}

describe("disk-pressure admission (upper root on a 16 MiB tmpfs)", () => {
  let sb: ServeSandbox;
  let serve: ServeProc;
  let api: Api;
  let upperRoot: string;

  beforeAll(async () => {
    upperRoot = join(dir, "small-upper");
    fs.mkdirSync(upperRoot, { recursive: true });
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=16m", "scorpio-test", upperRoot], { encoding: "utf8" });
    if (m.status !== 0) throw new Error(`mounting a tmpfs needs root: ${m.stderr}`);
    sb = writeServeConfig(join(dir, "sb-disk"), dev.url, { antares_upper_root: upperRoot, antares_disk_warn_use_percent: 50, antares_disk_max_use_percent: 80 });
    serve = await startServe(sb);
    api = apiClient(serve.httpUrl());
  }, 60_000);

  afterAll(async () => {
    await serve?.stop();
    if (sb) cleanupServeMounts(sb);
    spawnSync("umount", ["-l", upperRoot]);
  }, 60_000);

  const fill = (mib: number) => fs.writeFileSync(join(upperRoot, "filler"), Buffer.alloc(mib * 1024 * 1024, 1));

  test("ok below the warn level; degraded above it; 507 above the limit; admitted again once space is freed", async () => {
    expect((await api("GET", "/health")).json.status).toBe("ok");
    const first = await api("POST", `${P}/mounts`, { job_id: "disk-1", path: "/" });
    expect(first.status).toBe(200);

    fill(10); // ~62 %: above warn (50), below max (80)
    expect((await api("GET", "/health")).json.status).toBe("degraded");
    expect((await api("GET", `${P}/health`)).json.status).toBe("degraded");
    const warned = await api("POST", `${P}/mounts`, { job_id: "disk-2", path: "/" });
    expect(warned.status).toBe(200);

    fill(14); // ~87 %: above max
    const refused = await api("POST", `${P}/mounts`, { job_id: "disk-3", path: "/" });
    expect(refused.status).toBe(507);
    expect(refused.json.code).toBe("INSUFFICIENT_STORAGE");
    expect(refused.json.error).toContain("antares_disk_max_use_percent = 80%");
    expect((await api("GET", `${P}/mounts/by-job/disk-3`)).status).toBe(404);
    const usage = (await api("GET", `${P}/usage`)).json;
    expect(usage.disk).toMatchObject({ path: upperRoot, level: "full", max_percent: 80, warn_percent: 50 });

    fs.rmSync(join(upperRoot, "filler"));
    expect((await api("GET", "/health")).json.status).toBe("ok");
    expect((await api("POST", `${P}/mounts`, { job_id: "disk-3", path: "/" })).status).toBe(200);
    for (const j of ["disk-1", "disk-2", "disk-3"]) expect((await api("DELETE", `${P}/mounts/by-job/${j}?purge=true`)).status).toBe(200);
  }, 60_000);

  test("usage reports each job's upper and CL layer size", async () => {
    const r = await api("POST", `${P}/mounts`, { job_id: "du-1", path: "/" });
    expect(r.status).toBe(200);
    fs.writeFileSync(join(r.json.mountpoint, "blob.bin"), Buffer.alloc(1024 * 1024, 7));
    const usage = (await api("GET", `${P}/usage`)).json;
    const mine = usage.mounts.find((m: { mount_id: string }) => m.mount_id === r.json.mount_id);
    expect(mine.upper_bytes).toBeGreaterThanOrEqual(1024 * 1024);
    expect(mine.cl_bytes).toBe(0);
    expect(["kernel-overlayfs", "fuse-overlay"]).toContain(usage.engine);

    const du = spawnScorpio(["du", "-c", sb.configPath]);
    expect(await du.proc.exited).toBe(0);
    await Bun.sleep(20);
    expect(du.output()).toContain(`job mounts: 1 (engine ${usage.engine})`);
    expect(du.output()).toMatch(/\n {2}du-1 {2}path=\/ {2}upper=1\.\d MiB {2}cl=0 B\n/);
    expect(du.output()).toContain(`upper root: ${upperRoot} `);
    expect((await api("DELETE", `${P}/mounts/${r.json.mount_id}?purge=true`)).status).toBe(200);
  }, 60_000);
});

describe("automatic fallback", () => {
  test("auto takes the FUSE overlay, and says why, where kernel overlayfs cannot be used", async () => {
    // overlayfs options cannot carry a ',' in a layer path: the probe refuses, wherever this runs.
    const sb = writeServeConfig(join(dir, "sb-fallback"), dev.url, { antares_upper_root: join(dir, "sb-fallback", "up,per"), antares_overlay_engine: "auto" });
    const serve = await startServe(sb);
    try {
      const api = apiClient(serve.httpUrl());
      const r = await api("POST", `${P}/mounts`, { job_id: "fb", path: "/" });
      expect(r.status).toBe(200);
      expect((await api("GET", `${P}/mounts/${r.json.mount_id}`)).json.layers.engine).toBe("fuse-overlay");
      fs.writeFileSync(join(r.json.mountpoint, "w.txt"), "fallback\n");
      expect(fs.readFileSync(join(sb.dir, "up,per", r.json.mount_id, "w.txt"), "utf8")).toBe("fallback\n");
      const usage = (await api("GET", `${P}/usage`)).json;
      expect(usage.engine).toBe("fuse-overlay");
      expect(usage.engine_reason).toStartWith("auto: ");
      expect(usage.engine_reason).toContain("overlayfs options cannot carry");
      expect(serve.output()).toContain("job mounts use fuse-overlay");
      expect((await api("DELETE", `${P}/mounts/${r.json.mount_id}?purge=true`)).status).toBe(200);
    } finally {
      await serve.stop();
      cleanupServeMounts(sb);
    }
  }, 60_000);

  test("a forced kernel engine that cannot work fails creates with the reason and leaves nothing behind", async () => {
    const sb = writeServeConfig(join(dir, "sb-forced"), dev.url, { antares_upper_root: join(dir, "sb-forced", "up,per"), antares_overlay_engine: "kernel-overlayfs" });
    const serve = await startServe(sb);
    try {
      const api = apiClient(serve.httpUrl());
      const r = await api("POST", `${P}/mounts`, { job_id: "forced", path: "/" });
      expect(r.status).toBe(500);
      expect(r.json.code).toBe("FUSE_ERROR");
      expect(r.json.error).toStartWith("kernel overlayfs is forced by antares_overlay_engine but cannot be used: ");
      expect((await api("GET", `${P}/mounts`)).json.mounts).toEqual([]);
      expect(fs.readdirSync(join(sb.dir, "antares/mnt")).filter((n) => !n.startsWith("."))).toEqual([]);
    } finally {
      await serve.stop();
      cleanupServeMounts(sb);
    }
  }, 60_000);
});
