/**
 * `antares serve`: the Antares routes at the root of its own address (2726 by default), the Antares
 * /health shape, the optional bearer token, and a clean SIGTERM that unmounts its job mounts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { isMounted, makeTempDir } from "../support/mount-fixture.ts";
import { makeSampleRepo } from "../support/sample-repo.ts";
import { tearDown, ensureBuilt, spawnDist, startDevServerProcess, writeServeConfig, type DevServerProc, type Proc, type ServeSandbox } from "../support/scorpio.ts";
import { apiClient } from "./helpers.ts";

const TOKEN = "s3cret-token";
let dir: string;
let dev: DevServerProc;
let sb: ServeSandbox;
let daemon: Proc;
let base: string;

beforeAll(async () => {
  ensureBuilt();
  dir = makeTempDir("antares-standalone");
  const repo = makeSampleRepo(join(dir, "repo"));
  dev = await startDevServerProcess(repo.path);
  sb = writeServeConfig(join(dir, "sb"), dev.url, { http_token: TOKEN });
  daemon = spawnDist("antares", ["--config-path", sb.configPath, "serve", "--bind", "127.0.0.1:0"]);
  await daemon.waitFor(() => fs.existsSync(sb.stateFile) && fs.readFileSync(sb.stateFile, "utf8").includes("http_addr"), 30_000, "the daemon record");
  base = `http://${/http_addr\s*=\s*"([^"]+)"/.exec(fs.readFileSync(sb.stateFile, "utf8"))![1]}`;
}, 60_000);

afterAll(() => tearDown({ daemon: daemon, dev, sb, dir }), 60_000);

describe("antares serve", () => {
  test("routes at the root, token required except for /health, clean SIGTERM", async () => {
    const anon = apiClient(base);
    const api = apiClient(base, TOKEN);
    const health = await anon("GET", "/health");
    expect(health.status).toBe(200);
    expect(Object.keys(health.json)).toEqual(["status", "mount_count", "uptime_secs"]);
    expect(health.json.status).toBe("healthy");

    const denied = await anon("GET", "/mounts");
    expect(denied.status).toBe(401);
    expect(denied.json.code).toBe("UNAUTHORIZED");
    expect((await apiClient(base, "wrong")("GET", "/mounts")).status).toBe(401);
    expect((await api("GET", "/antares/mounts")).status).toBe(404);
    expect((await api("GET", "/api/fs/mpoint")).status).toBe(404);

    const root = await api("POST", "/mounts", { job_id: "solo-root", path: "/" });
    expect(root.status).toBe(200);
    const sub = await api("POST", "/mounts", { job_id: "solo", path: "/project" });
    expect(sub.status).toBe(200);
    expect(fs.readdirSync(sub.json.mountpoint).sort()).toEqual(["bar", "foo"]);
    expect(fs.readdirSync(root.json.mountpoint)).toContain("README.md");
    expect((await api("GET", `/mounts/${sub.json.mount_id}/ready`)).json.ready).toBe(true);
    expect((await api("GET", "/mounts")).json.mounts.length).toBe(2);
    expect((await anon("GET", "/health")).json.mount_count).toBe(2);
    expect((await api("DELETE", "/mounts/by-job/solo")).json.state).toBe("Unmounted");

    expect(await daemon.stop()).toBe(0);
    expect(isMounted(root.json.mountpoint)).toBe(false);
  }, 60_000);
});
