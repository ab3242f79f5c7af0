/**
 * `http-mount` against a local endpoint: 2xx JSON, 2xx non-JSON, non-2xx, unreachable.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { makeSandbox, runCli } from "./harness.ts";

const sb = makeSandbox();
const requests: Array<{ method: string; path: string; contentType: string | null; body: unknown }> = [];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const url = new URL(req.url);
    requests.push({ method: req.method, path: url.pathname, contentType: req.headers.get("content-type"), body: await req.json().catch(() => null) });
    if (url.pathname === "/ok/mounts") return Response.json({ mount_id: "3f1c", mountpoint: "/mnt/3f1c" });
    if (url.pathname === "/text/mounts") return new Response("not json", { status: 200 });
    if (url.pathname === "/bad/mounts") return Response.json({ error: "path cannot be empty", code: "INVALID_REQUEST" }, { status: 400 });
    return new Response("", { status: 404 });
  },
});
afterAll(() => {
  server.stop(true);
  sb.cleanup();
});
const base = `http://127.0.0.1:${server.port}`;
const opts = { cwd: sb.dir, env: sb.env };

describe("http-mount", () => {
  test("2xx JSON: pretty-printed to stdout, exit 0; nulls sent explicitly", async () => {
    requests.length = 0;
    const r = await runCli("scorpio", ["http-mount", "/third-party/mega", "--endpoint", `${base}/ok/`], opts);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`{\n  "mount_id": "3f1c",\n  "mountpoint": "/mnt/3f1c"\n}\n`);
    expect(requests).toEqual([{ method: "POST", path: "/ok/mounts", contentType: "application/json", body: { job_id: null, path: "/third-party/mega", cl: null } }]);
  });

  test("--job-id and --cl are sent", async () => {
    requests.length = 0;
    const r = await runCli("scorpio", ["http-mount", "/", "--job-id", "j1", "--cl", "123", "--endpoint", `${base}/ok`], opts);
    expect(r.code).toBe(0);
    expect(requests[0]?.body).toEqual({ job_id: "j1", path: "/", cl: "123" });
  });

  test("2xx but not JSON: exit 1", async () => {
    const r = await runCli("scorpio", ["http-mount", "/", "--endpoint", `${base}/text`], opts);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith("failed to parse response json: ");
  });

  test("non-2xx: `http mount failed: status=400 Bad Request body=…`, exit 3", async () => {
    const r = await runCli("scorpio", ["http-mount", "", "--endpoint", `${base}/bad`], opts);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(`http mount failed: status=400 Bad Request body={"error":"path cannot be empty","code":"INVALID_REQUEST"} (POST ${base}/bad/mounts)\n`);
  });

  test("unreachable endpoint: `http mount request failed: …`, exit 1", async () => {
    // A port that was just free: bind, note it, close.
    const tmp = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = tmp.port;
    tmp.stop(true);
    const r = await runCli("scorpio", ["http-mount", "/", "--endpoint", `http://127.0.0.1:${port}`], opts);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith(`http mount request failed: POST http://127.0.0.1:${port}/mounts: `);
  });

  test("without --endpoint it finds the daemon through the runtime state file, like `mount`", async () => {
    // A daemon record pointing at the fake server (this process's pid: alive).
    writeFileSync(sb.stateFile, `works = []\n\n[daemon]\nhttp_addr = "127.0.0.1:${server.port}"\npid = ${process.pid}\nstarted_at = "now"\n`);
    requests.length = 0;
    const r = await runCli("scorpio", ["http-mount", "/", "-c", sb.configPath], opts);
    // The fake answers /health with 404 (not the main daemon's body), so the Antares routes are at the root.
    expect(requests.map((q) => q.path)).toEqual(["/health", "/mounts"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`(POST ${base}/mounts)`);
  });

  test("antares http-mount works the same", async () => {
    const r = await runCli("antares", ["http-mount", "/", "--endpoint", `${base}/ok`], opts);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ mount_id: "3f1c", mountpoint: "/mnt/3f1c" });
  });
});
