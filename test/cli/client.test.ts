/**
 * Client commands (mount, umount, list, status, du, gc, prefetch): clear errors without a daemon, and
 * their requests/outputs against a fake daemon that speaks the Antares and cache routes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { makeSandbox, runCli } from "./harness.ts";

const sb = makeSandbox();
const opts = { cwd: sb.dir, env: sb.env };

interface FakeMount {
  mount_id: string;
  job_id: string | null;
  mountpoint: string;
  layers: { upper: string; cl: string | null; dicfuse: string };
  state: unknown;
}
const mounts = new Map<string, FakeMount>();
const seen: Array<{ method: string; path: string; body: unknown }> = [];
let counter = 0;

const fake = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const { pathname } = new URL(req.url);
    const body = req.method === "GET" || req.method === "DELETE" ? null : await req.json().catch(() => null);
    seen.push({ method: req.method, path: pathname, body });
    if (pathname === "/health") return Response.json({ status: "ok", version: "9.9.9", uptime_secs: 75, mount_count: 0 });
    if (pathname === "/antares/mounts" && req.method === "GET") return Response.json({ mounts: [...mounts.values()] });
    if (pathname === "/antares/mounts" && req.method === "POST") {
      const b = body as { job_id: string; cl: string | null };
      if (b.job_id === "fail") return Response.json({ error: "Dicfuse initialization timed out", code: "FUSE_ERROR" }, { status: 500 });
      const id = `m${++counter}`;
      mounts.set(id, {
        mount_id: id,
        job_id: b.job_id,
        mountpoint: `/mnt/${id}`,
        layers: { upper: `/upper/${id}`, cl: b.cl ? `/cl/${id}` : null, dicfuse: "shared" },
        state: "Ready",
      });
      return Response.json({ mount_id: id, mountpoint: `/mnt/${id}` });
    }
    const byJob = /^\/antares\/mounts\/by-job\/(.+)$/.exec(pathname);
    if (byJob && req.method === "DELETE") {
      const job = decodeURIComponent(byJob[1]!);
      const entry = [...mounts.values()].find((m) => m.job_id === job);
      if (!entry) return Response.json({ error: `mount for task ${job} not found`, code: "NOT_FOUND" }, { status: 404 });
      if (job === "stuck") return Response.json({ ...entry, state: { Failed: { reason: "unmount failed: busy" } } });
      mounts.delete(entry.mount_id);
      return Response.json({ ...entry, state: "Unmounted" });
    }
    const byId = /^\/antares\/mounts\/([^/]+)$/.exec(pathname);
    if (byId && req.method === "DELETE") {
      const entry = mounts.get(byId[1]!);
      if (!entry) return Response.json({ error: `mount ${byId[1]} not found`, code: "NOT_FOUND" }, { status: 404 });
      mounts.delete(entry.mount_id);
      return Response.json({ ...entry, state: "Unmounted" });
    }
    if (pathname === "/api/v1/cache") return Response.json({ bytes: 3 * 1024 * 1024, blobs: 12, max_bytes: 1024 ** 3 });
    if (pathname === "/api/v1/cache/gc") return Response.json({ removed_blobs: 5, freed_bytes: 2048, bytes: 1024 });
    if (pathname === "/api/v1/prefetch") {
      const first = (body as { globs: string[] }).globs[0];
      if (first === "fails/**" || first === "none/**") {
        const final = first === "fails/**" ? { done: 3, total: 3, bytes: 10, failed: 2, finished: true } : { done: 0, total: 0, bytes: 0, failed: 0, finished: true };
        return new Response(JSON.stringify(final) + "\n", { headers: { "content-type": "application/x-ndjson" } });
      }
      const lines = [{ done: 1, total: 2, bytes: 10 }, { done: 2, total: 2, bytes: 30, finished: true }].map((e) => JSON.stringify(e) + "\n").join("");
      return new Response(lines, { headers: { "content-type": "application/x-ndjson" } });
    }
    return Response.json({ error: "no such route", code: "NOT_FOUND" }, { status: 404 });
  },
});
const endpoint = `http://127.0.0.1:${fake.port}`;
afterAll(() => {
  fake.stop(true);
  sb.cleanup();
});

describe("without a daemon", () => {
  test("every client command says so clearly; mount/umount exit 3, the others 1", async () => {
    const cases: Array<[string[], number]> = [
      [["list"], 1],
      [["status"], 1],
      [["du"], 1],
      [["gc"], 1],
      [["prefetch", "a/**"], 1],
      [["mount", "j1"], 3],
      [["umount", "j1"], 3],
    ];
    for (const [args, code] of cases) {
      const r = await runCli("scorpio", ["-c", sb.configPath, ...args], opts);
      expect({ args, code: r.code }).toEqual({ args, code });
      expect(r.stderr).toContain(`no scorpio daemon is running (state file ${sb.stateFile}); start it with 'scorpio serve'`);
      expect(r.stdout).toBe("");
    }
  });

  test("a record of a daemon that has exited is reported as such", async () => {
    // A pid that is certainly not running: a child that already exited.
    const child = Bun.spawn(["true"]);
    await child.exited;
    writeFileSync(sb.stateFile, `works = []\n\n[daemon]\nhttp_addr = "127.0.0.1:1"\npid = ${child.pid}\nstarted_at = "2025-01-01T00:00:00Z"\n`);
    try {
      const r = await runCli("scorpio", ["-c", sb.configPath, "status"], opts);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`names pid ${child.pid} at 127.0.0.1:1, which has exited`);
    } finally {
      writeFileSync(sb.stateFile, "works = []\n");
    }
  });

  test("--endpoint needs no config and reports an unreachable daemon", async () => {
    const tmp = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = tmp.port;
    tmp.stop(true);
    const r = await runCli("scorpio", ["-c", `${sb.dir}/none.toml`, "list", "--endpoint", `http://127.0.0.1:${port}`], opts);
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith(`cannot reach the scorpio daemon at http://127.0.0.1:${port}: `);
  });
});

describe("against a daemon (--endpoint)", () => {
  const run = (...args: string[]) => runCli("scorpio", [...args, "--endpoint", endpoint], opts);

  test("list with no mounts", async () => {
    const r = await run("list");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("no active jobs\n");
  });

  test("mount posts {job_id, path: '/', cl} and prints the mountpoint", async () => {
    seen.length = 0;
    const r = await run("mount", "job-b", "--cl", "77");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("mounted job job-b at /mnt/m1\n");
    expect(seen.find((s) => s.method === "POST")).toEqual({ method: "POST", path: "/antares/mounts", body: { job_id: "job-b", path: "/", cl: "77" } });
    const second = await run("mount", "job-a");
    expect(second.stdout).toBe("mounted job job-a at /mnt/m2\n");
  });

  test("mount failure: `failed to mount job …: <error>`, exit 3", async () => {
    const r = await run("mount", "fail");
    expect(r.code).toBe(3);
    expect(r.stderr).toBe("failed to mount job fail: Dicfuse initialization timed out\n");
  });

  test("list prints one sorted line per job; --json prints the records", async () => {
    const r = await run("list");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("job_id=job-a mount=/mnt/m2 upper=/upper/m2 cl=(none)\njob_id=job-b mount=/mnt/m1 upper=/upper/m1 cl=/cl/m1\n");
    const j = await run("list", "--json");
    expect(JSON.parse(j.stdout).mounts.map((m: FakeMount) => m.job_id)).toEqual(["job-a", "job-b"]);
  });

  test("umount: ok, unknown job (exit 3), failed unmount (exit 3)", async () => {
    const ok = await run("umount", "job-a");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("unmounted job job-a\n");
    const unknown = await run("umount", "job-a");
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toBe("job job-a not found\n");
    await run("mount", "stuck");
    const stuck = await run("umount", "stuck");
    expect(stuck.code).toBe(3);
    expect(stuck.stderr).toBe("failed to unmount job stuck: unmount failed: busy\n");
  });

  test("job ids are checked before any request: empty ids or control characters exit 2", async () => {
    seen.length = 0;
    for (const args of [["mount", ""], ["mount", "  "], ["umount", ""], ["mount", "bad\x1bid"]]) {
      const r = await run(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("invalid JOB_ID");
    }
    expect(seen).toEqual([]);
  });

  test("mount --json prints {job_id, mount_id, mountpoint}; umount --mount-id unmounts by id", async () => {
    const m = await run("mount", "by-id", "--json");
    expect(m.code).toBe(0);
    const created = JSON.parse(m.stdout) as { job_id: string; mount_id: string; mountpoint: string };
    expect(created.job_id).toBe("by-id");
    expect(created.mountpoint).toBe(`/mnt/${created.mount_id}`);
    const u = await run("umount", "--mount-id", created.mount_id, "--json");
    expect(u.code).toBe(0);
    expect(JSON.parse(u.stdout)).toMatchObject({ mount_id: created.mount_id, state: "Unmounted" });
    const again = await run("umount", "--mount-id", created.mount_id);
    expect(again.code).toBe(3);
    expect(again.stderr).toBe(`mount ${created.mount_id} not found\n`);
  });

  test("umount needs exactly one of JOB_ID and --mount-id", async () => {
    expect((await run("umount")).code).toBe(2);
    expect((await run("umount", "a", "--mount-id", "b")).code).toBe(2);
  });

  test("--json failures are a JSON object on stdout", async () => {
    const r = await run("mount", "fail", "--json");
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual({ error: "failed to mount job fail: Dicfuse initialization timed out", exit_code: 3 });
  });

  test("status, du, gc, prefetch", async () => {
    const s = await run("status");
    expect(s.code).toBe(0);
    expect(s.stdout).toContain(`daemon: running at ${endpoint}`);
    expect(s.stdout).toContain("version: 9.9.9");
    expect(s.stdout).toContain("uptime: 1m 15s");
    expect(s.stdout).toContain("cache: 3.0 MiB in 12 blob(s) (limit 1.0 GiB)");
    const sj = JSON.parse((await run("status", "--json")).stdout);
    expect(sj.version).toBe("9.9.9");
    expect(sj.job_mounts).toBe(2);

    const du = await run("du");
    expect(du.stdout).toBe("cache: 3.0 MiB in 12 blob(s) (limit 1.0 GiB)\n");
    expect(JSON.parse((await run("du", "--json")).stdout)).toEqual({ bytes: 3 * 1024 * 1024, blobs: 12, max_bytes: 1024 ** 3 });

    seen.length = 0;
    const gc = await run("gc", "--target", "2K");
    expect(gc.code).toBe(0);
    expect(gc.stdout).toBe("removed 5 blob(s), freed 2.0 KiB; cache now 1.0 KiB\n");
    expect(seen[0]?.body).toEqual({ target_bytes: 2048 });
    const badGc = await run("gc", "--target", "lots");
    expect(badGc.code).toBe(2);

    seen.length = 0;
    const p = await run("prefetch", "src/**", "docs/*.md");
    expect(p.code).toBe(0);
    expect(p.stdout).toBe("prefetched 2 file(s), 30 B\n");
    expect(p.stderr).toBe(""); // not a TTY: no progress bar noise
    expect(seen[0]?.body).toEqual({ globs: ["src/**", "docs/*.md"], job_id: null });
  });

  test("prefetch: failed downloads exit 1 with the count; no match exits 1; an invalid glob exits 2 before any request", async () => {
    const failed = await run("prefetch", "fails/**");
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe("prefetched 1 file(s), 10 B\n");
    expect(failed.stderr).toBe("prefetch: 2 of 3 file(s) failed to download (the daemon log says why)\n");
    const failedJson = await run("prefetch", "fails/**", "--json");
    expect(failedJson.code).toBe(1);
    expect(JSON.parse(failedJson.stdout)).toMatchObject({ fetched: 1, failed: 2, total: 3 });
    const none = await run("prefetch", "none/**");
    expect(none.code).toBe(1);
    expect(none.stderr).toBe("prefetch: no file matches 'none/**'\n");
    seen.length = 0;
    for (const bad of ["src/{a,b", "../etc/*"]) {
      const r = await run("prefetch", bad);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("Invalid glob");
    }
    expect(seen).toEqual([]);
  });
});
