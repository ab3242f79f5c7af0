/**
 * Pure parts of the Antares service: path and task-id normalisation, CL entry placement, warm-walk
 * tuning from the environment, the state file, and the routes' validation through `app.handle`.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AntaresService, normalizeMountPath, probeMount, readMountRecords, relativeToMount, renderMountRecords, taskIdOf, warmWalk, warmWalkConfigFromEnv, type DicfusePool } from "../../src/antares/index.ts";
import { pinnedCommitOf } from "../../src/antares/job-lower.ts";
import type { ScorpioConfig } from "../../src/config/index.ts";
import type { MegaClient } from "../../src/remote/index.ts";
import { createApp } from "../../src/server/app.ts";
import { HealthRegistry } from "../../src/server/health.ts";
import { antaresRoutes } from "../../src/server/routes/antares.ts";

describe("normalizeMountPath", () => {
  test("the original's rules", () => {
    expect(normalizeMountPath(" third-party/mega/ ")).toBe("/third-party/mega");
    expect(normalizeMountPath("/")).toBe("/");
    expect(normalizeMountPath("///")).toBe("/");
    expect(normalizeMountPath("a//b")).toBe("/a/b");
  });
  test("refuses empty, dot segments and control characters", () => {
    for (const bad of ["", "  ", "/a/../b", "./a", "/a/.", "a\0b", "a\nb"]) expect(() => normalizeMountPath(bad)).toThrow();
  });
});

test("taskIdOf: job_id (even empty) wins over build_id, trimmed, empty → none", () => {
  expect(taskIdOf({ job_id: " j ", build_id: "b" })).toBe("j");
  expect(taskIdOf({ build_id: "b" })).toBe("b");
  expect(taskIdOf({ job_id: "", build_id: "b" })).toBeNull();
  expect(taskIdOf({})).toBeNull();
});

test("relativeToMount handles absolute and CL-relative entries", () => {
  expect(relativeToMount("src/main.rs", "/")).toBe("src/main.rs");
  expect(relativeToMount("project/foo/Cargo.toml", "/project/foo")).toBe("Cargo.toml");
  expect(relativeToMount("Cargo.toml", "/project/foo")).toBe("Cargo.toml");
  expect(relativeToMount("../x", "/project")).toBeNull();
  expect(relativeToMount("", "/")).toBeNull();
});

test("warm walk tuning from ANTARES_DEEP_PRELOAD_*", () => {
  expect(warmWalkConfigFromEnv({})).toMatchObject({ mode: "scan_only", maxMs: 8000, maxDepth: 4 });
  expect(warmWalkConfigFromEnv({ ANTARES_DEEP_PRELOAD_MODE: "" }).mode).toBe("hotset");
  expect(warmWalkConfigFromEnv({ ANTARES_DEEP_PRELOAD_MODE: "dirs" }).mode).toBe("dirs_only");
  expect(warmWalkConfigFromEnv({ ANTARES_DEEP_PRELOAD_MODE: "bogus" }).mode).toBe("scan_only");
  const c = warmWalkConfigFromEnv({ ANTARES_DEEP_PRELOAD_WORKERS: "999", ANTARES_DEEP_PRELOAD_MAX_MS: "999999", ANTARES_DEEP_PRELOAD_MAX_DEPTH: "x" });
  expect(c).toMatchObject({ workers: 64, maxMs: 120_000, maxDepth: 4 });
});

describe("warm walk (a find child process)", () => {
  const root = mkdtempSync(join(tmpdir(), "antares-warm-"));
  mkdirSync(join(root, "a/b/c"), { recursive: true });
  for (const f of ["BUCK", "a/x.bzl", "a/plain.c", "a/b/c/deep.c"]) writeFileSync(join(root, f), "x");
  const run = (mode: "scan_only" | "dirs_only" | "hotset" | "full", maxDepth = 4, signal = new AbortController().signal) => warmWalk(root, { mode, maxDepth, maxMs: 10_000, workers: 1 }, signal);
  test("visits every entry down to max depth; touches (stats) what the mode names", async () => {
    // Entries: BUCK, a, a/x.bzl, a/plain.c, a/b, a/b/c, a/b/c/deep.c.
    expect(await run("scan_only")).toMatchObject({ entries_visited: 7, metadata_touches: 0, cancelled: false, budget_exhausted: false });
    expect(await run("dirs_only")).toMatchObject({ entries_visited: 7, metadata_touches: 3 });
    expect(await run("hotset")).toMatchObject({ entries_visited: 7, metadata_touches: 5 });
    expect(await run("full")).toMatchObject({ entries_visited: 7, metadata_touches: 7 });
    expect((await run("full", 2)).entries_visited).toBe(5);
    expect((await run("full", 0)).entries_visited).toBe(0);
  });
  test("an aborted walk reports cancelled", async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await run("full", 4, ac.signal)).toMatchObject({ cancelled: true, entries_visited: 0 });
  });
});

test("probeMount: true for a mount point that lists, false for a plain directory or a missing one", async () => {
  expect(await probeMount("/proc", 5_000)).toBe(true);
  const plain = mkdtempSync(join(tmpdir(), "antares-probe-"));
  expect(await probeMount(plain, 300)).toBe(false);
  expect(await probeMount(join(plain, "missing"), 300)).toBe(false);
});

test("pinnedCommitOf: the root's commit for /, the root commit read with the base for a sub-path", () => {
  const a = "a".repeat(40), b = "b".repeat(40);
  expect(pinnedCommitOf("/", { base_commit: a }) as string | null).toBe(a);
  expect(pinnedCommitOf("/sub", { base_commit: a, base_root_commit: b }) as string | null).toBe(b);
  expect(pinnedCommitOf("/sub", { base_commit: a })).toBeNull();
  expect(pinnedCommitOf("/", null)).toBeNull();
  expect(pinnedCommitOf("/", { base_commit: "not-an-id" })).toBeNull();
});

describe("state file", () => {
  const dir = mkdtempSync(join(tmpdir(), "antares-state-"));
  test("round trip, optional fields omitted", () => {
    const rec = { mount_id: "123e4567-e89b-12d3-a456-426614174000", job_id: null, path: "/p", cl: "12", mountpoint: "/m", upper_dir: "/u", cl_dir: "/c", created_at_epoch_ms: 1702800000000, labels: [], readonly: false };
    const text = renderMountRecords([rec]);
    expect(text).not.toContain("job_id");
    expect(text).not.toContain("labels");
    expect(text).not.toContain("readonly");
    writeFileSync(join(dir, "a.toml"), text);
    expect(readMountRecords(join(dir, "a.toml"))).toEqual([rec]);
  });
  test("labels and readonly round trip", () => {
    const rec = { mount_id: "123e4567-e89b-12d3-a456-426614174001", job_id: "j", path: "/p", cl: null, mountpoint: "/m", upper_dir: "/u", cl_dir: null, created_at_epoch_ms: 1, labels: ["ci", "team:a"], readonly: true };
    writeFileSync(join(dir, "l.toml"), renderMountRecords([rec]));
    expect(readMountRecords(join(dir, "l.toml"))).toEqual([rec]);
  });
  test("base_commit/base_tree/cl_link round trip; malformed ids are dropped", () => {
    const rec = {
      mount_id: "123e4567-e89b-12d3-a456-426614174001", job_id: "j", path: "/p", cl: null, mountpoint: "/m", upper_dir: "/u", cl_dir: null, created_at_epoch_ms: 1, labels: [], readonly: false,
      base_commit: "a".repeat(40), base_tree: "b".repeat(40), cl_link: "ABCD1234",
    };
    writeFileSync(join(dir, "v.toml"), renderMountRecords([rec]));
    expect(readMountRecords(join(dir, "v.toml"))).toEqual([rec]);
    writeFileSync(join(dir, "w.toml"), renderMountRecords([rec]).replace("a".repeat(40), "not-an-oid"));
    expect(readMountRecords(join(dir, "w.toml"))[0]!.base_commit).toBeUndefined();
  });
  test("missing, garbage and bad records never throw", () => {
    expect(readMountRecords(join(dir, "none.toml"))).toEqual([]);
    writeFileSync(join(dir, "b.toml"), "this is [not toml");
    expect(readMountRecords(join(dir, "b.toml"))).toEqual([]);
    writeFileSync(join(dir, "c.toml"), '[[mounts]]\nmount_id = "nope"\n[[mounts]]\njob_id = "j"\nupper_id = "x"\n');
    expect(readMountRecords(join(dir, "c.toml"))).toEqual([]);
  });
});

describe("routes over a service with a fake overlay", () => {
  const dir = mkdtempSync(join(tmpdir(), "antares-routes-"));
  const config = {
    antares_state_file: join(dir, "state.toml"), antares_mount_root: join(dir, "mnt"), antares_upper_root: join(dir, "up"), antares_cl_root: join(dir, "cl"),
    antares_dicfuse_reply_ttl_secs: 1, mount_allow_other: false, antares_purge_on_delete: false,
    antares_overlay_engine: "fuse-overlay", antares_disk_max_use_percent: 100, antares_disk_warn_use_percent: 100,
  } as unknown as ScorpioConfig;
  const pool = { get: async () => ({ view: {}, label: "shared" }), acquire: async () => ({ view: {}, label: "shared", pinnedCommit: null, release: async () => {} }), pinnedDirsInUse: () => new Set<string>(), close: async () => {} } as unknown as DicfusePool;
  const service = new AntaresService({
    config, client: {} as MegaClient, objects: async () => { throw new Error("no object store in unit tests"); }, pool,
    mountOverlay: async () => { throw new Error("no FUSE in unit tests"); },
    engine: { engine: "fuse-overlay", reason: "unit test" },
  });
  const app = createApp({ start: async () => {}, mountCount: () => service.mountCount(), health: new HealthRegistry(), plugins: () => [antaresRoutes(service, { prefix: "" })], stop: async () => {}, httpToken: "t" }, { mode: "antares" });
  const req = (method: string, path: string, body?: string, auth = true) =>
    app.handle(new Request(`http://localhost${path}`, { method, body, headers: { ...(auth ? { authorization: "Bearer t" } : {}), ...(body ? { "content-type": "application/json" } : {}) } }));

  test("health is open, everything else needs the token", async () => {
    expect((await req("GET", "/health", undefined, false)).status).toBe(200);
    const r = await req("GET", "/mounts", undefined, false);
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ error: "missing or invalid bearer token", code: "UNAUTHORIZED" });
    expect((await req("GET", "/mounts")).status).toBe(200);
  });
  test("a mount failure is a 500 FUSE_ERROR and leaves no directories", async () => {
    const r = await req("POST", "/mounts", JSON.stringify({ path: "/x", job_id: "j" }));
    expect(r.status).toBe(500);
    expect(await r.json()).toEqual({ error: "failed to mount: no FUSE in unit tests", code: "FUSE_ERROR" });
    expect(service.mountCount()).toBe(0);
  });
  test("validation errors are one-line 400s", async () => {
    const r = await req("GET", "/mounts/xyz");
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: string; code: string };
    expect(body.code).toBe("INVALID_REQUEST");
    expect(body.error).not.toContain("\n");
    const spec = await req("GET", "/openapi.json");
    expect(spec.status).toBe(200);
  });
});
