/**
 * `scorpio serve` / `antares serve`: the daemon starts, answers /health, records its address in the
 * runtime state file (so `list`/`status` find it without flags), stops on SIGTERM with exit 0 and
 * clears the record; bind failure exits 4; an unreadable state file exits 2.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeSandbox, runCli, spawnCli, stopDaemon, waitForDaemonRecord } from "./harness.ts";

const sb = makeSandbox();
afterAll(() => sb.cleanup());
// Each test starts from a state file without a daemon record.
beforeEach(() => writeFileSync(sb.stateFile, "works = []\n"));
const opts = { cwd: sb.dir, env: sb.env };

describe("scorpio serve", () => {
  test("lifecycle: health, state record, clients find it, SIGTERM → 0 and record cleared", async () => {
    const proc = spawnCli("scorpio", ["serve", "-c", sb.configPath, "--http-addr", "127.0.0.1:0"], opts);
    try {
      const addr = await waitForDaemonRecord(sb.stateFile, proc);
      expect(addr).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(readFileSync(sb.stateFile, "utf8")).toContain(`pid = ${proc.pid}`);

      const health = await fetch(`http://${addr}/health`, { signal: AbortSignal.timeout(5000) });
      expect(health.status).toBe(200);
      const body = (await health.json()) as Record<string, unknown>;
      // The sandbox's Mega server (port 9) is down: the daemon may already say so (`reasons`, below).
      expect(Object.keys(body).slice(0, 4)).toEqual(["status", "version", "uptime_secs", "mount_count"]);
      // The workspace mount (if the daemon has one) may count; the field must be a count.
      expect(typeof body.mount_count).toBe("number");
      // /health needs no token: it must not reveal local paths.
      expect(JSON.stringify(body)).not.toContain(sb.dir);

      const unknown = await fetch(`http://${addr}/no/such/route`, { signal: AbortSignal.timeout(5000) });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ error: "no such route", code: "NOT_FOUND" });

      const status = await runCli("scorpio", ["status", "-c", sb.configPath], opts);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(`daemon: running at http://${addr} (pid ${proc.pid})`);
      expect(status.stdout).toMatch(/^status: (ok|degraded)$/m);
      expect(status.stdout).toMatch(/^mounts \(total\): \d+$/m);

      // The minimal daemon has no Antares routes yet; list must reach it and report that cleanly.
      const list = await runCli("scorpio", ["list", "-c", sb.configPath], opts);
      expect(list.stderr).not.toContain("no scorpio daemon");
      expect(list.stderr).not.toContain("cannot reach");

      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      const state = readFileSync(sb.stateFile, "utf8");
      expect(state).not.toContain("[daemon]");
      expect(state).toContain("works = []");
      const stderr = await new Response(proc.stderr).text();
      expect(stderr).toContain(`server running on ${addr}`);
    } finally {
      await stopDaemon(proc, sb.dir);
    }
  });

  test("/health is degraded with a reason while the Mega server is unreachable; ?strict=true is 503", async () => {
    const proc = spawnCli("scorpio", ["serve", "-c", sb.configPath, "--http-addr", "127.0.0.1:0"], opts);
    try {
      const addr = await waitForDaemonRecord(sb.stateFile, proc);
      // The warm-up's first listing fails at once (connection refused); poll until /health has seen it.
      let body: { status?: string; reasons?: Array<{ check: string; message: string }> } = {};
      for (let i = 0; i < 200 && body.status !== "degraded"; i++) {
        body = (await (await fetch(`http://${addr}/health`, { signal: AbortSignal.timeout(5000) })).json()) as typeof body;
        if (body.status !== "degraded") await Bun.sleep(100);
      }
      expect(body.status).toBe("degraded");
      const remote = body.reasons?.find((r) => r.check === "remote");
      expect(remote?.message).toContain("Mega server http://127.0.0.1:9 unreachable");
      const strict = await fetch(`http://${addr}/health?strict=true`, { signal: AbortSignal.timeout(5000) });
      expect(strict.status).toBe(503);

      // The same failure is counted in /metrics, and the workspace mount's FUSE requests are there per op.
      Bun.spawnSync(["stat", join(sb.dir, "mount")]);
      const metrics = await fetch(`http://${addr}/metrics`, { signal: AbortSignal.timeout(5000) });
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get("content-type")).toStartWith("text/plain");
      const text = await metrics.text();
      expect(text).toMatch(/^scorpio_remote_requests_total\{endpoint="\/api\/v1\/[a-z/-]+",status="error"\} [1-9]\d*$/m);
      expect(text).toMatch(/^scorpio_fuse_requests_total\{engine="dicfuse",op="[a-z_]+",result="ok"\} [1-9]\d*$/m);
      expect(text).toMatch(/^scorpio_fuse_request_duration_seconds_count\{engine="dicfuse",op="[a-z_]+"\} [1-9]\d*$/m);
      expect(text).toMatch(/^scorpio_cache_max_bytes \d+$/m);

      // `scorpio stats` sums up the same numbers.
      const stats = await runCli("scorpio", ["stats", "-c", sb.configPath, "--json"], opts);
      expect(stats.code).toBe(0);
      const summary = JSON.parse(stats.stdout) as { fuse: Record<string, { requests: number }>; remote: Record<string, { errors: number }>; cache: { max_bytes: number } };
      expect(summary.fuse.dicfuse!.requests).toBeGreaterThan(0);
      expect(Object.values(summary.remote).some((r) => r.errors > 0)).toBe(true);
      expect(summary.cache.max_bytes).toBe(10 * 1024 ** 3);
      const watch = await runCli("scorpio", ["stats", "-c", sb.configPath, "--watch", "--interval", "1", "--count", "2"], opts);
      expect(watch.code).toBe(0);
      expect(watch.stdout.match(/^fuse dicfuse: /gm)?.length).toBe(2);
      expect(watch.stdout).toMatch(/^fuse dicfuse: \d+ request\(s\) \(\d+\.\d\/s\)/m);
      expect(watch.stdout).toContain("cache: ");
    } finally {
      await stopDaemon(proc, sb.dir);
    }
  });

  test("/health reports a workspace mount that was unmounted from outside", async () => {
    const proc = spawnCli("scorpio", ["serve", "-c", sb.configPath, "--http-addr", "127.0.0.1:0"], opts);
    try {
      const addr = await waitForDaemonRecord(sb.stateFile, proc);
      expect(Bun.spawnSync(["fusermount3", "-u", join(sb.dir, "mount")]).exitCode).toBe(0);
      let reasons: Array<{ check: string }> = [];
      for (let i = 0; i < 200 && !reasons.some((r) => r.check === "workspace_mount"); i++) {
        const body = (await (await fetch(`http://${addr}/health`, { signal: AbortSignal.timeout(5000) })).json()) as { reasons?: typeof reasons };
        reasons = body.reasons ?? [];
        if (!reasons.some((r) => r.check === "workspace_mount")) await Bun.sleep(100);
      }
      expect(reasons.map((r) => r.check)).toContain("workspace_mount");
    } finally {
      await stopDaemon(proc, sb.dir);
    }
  });

  test("SIGINT also stops it cleanly", async () => {
    const proc = spawnCli("scorpio", ["serve", "-c", sb.configPath, "--http-addr", "127.0.0.1:0"], opts);
    try {
      await waitForDaemonRecord(sb.stateFile, proc);
      proc.kill("SIGINT");
      expect(await proc.exited).toBe(0);
    } finally {
      await stopDaemon(proc, sb.dir);
    }
  });

  test("bind failure: `failed to bind HTTP address …`, exit 4", async () => {
    const blocker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("busy") });
    try {
      const r = await runCli("scorpio", ["serve", "-c", sb.configPath, "--http-addr", `127.0.0.1:${blocker.port}`], opts);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`failed to bind HTTP address 127.0.0.1:${blocker.port}: `);
      expect(readFileSync(sb.stateFile, "utf8")).not.toContain("[daemon]");
    } finally {
      blocker.stop(true);
    }
  });

  test("unparsable state file: `failed to load state file …`, exit 2", async () => {
    writeFileSync(sb.stateFile, "works = [[[\n");
    try {
      const r = await runCli("scorpio", ["serve", "-c", sb.configPath, "--http-addr", "127.0.0.1:0"], opts);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`failed to load state file '${sb.stateFile}'`);
    } finally {
      writeFileSync(sb.stateFile, "works = []\n");
    }
  });
});

describe("bind policy", () => {
  test("a non-loopback address without http_token is refused (exit 2) before anything starts", async () => {
    const r = await runCli("scorpio", ["serve", "-c", sb.configPath, "--http-addr", "0.0.0.0:0"], opts);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("refusing to bind 0.0.0.0");
    expect(r.stderr).toContain("--insecure-bind");
    const a = await runCli("antares", ["--config-path", sb.configPath, "serve", "--bind", "0.0.0.0:0"], opts);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain("refusing to bind 0.0.0.0");
    expect(readFileSync(sb.stateFile, "utf8")).not.toContain("[daemon]");
  });

  for (const [name, extraArgs, extraEnv] of [
    ["--insecure-bind", ["--insecure-bind"], {}],
    ["a token", [], { SCORPIO_HTTP_TOKEN: "s3cret" }],
  ] as const) {
    test(`${name} allows it`, async () => {
      const proc = spawnCli("antares", ["--config-path", sb.configPath, "serve", "--bind", "0.0.0.0:0", ...extraArgs], { cwd: sb.dir, env: { ...sb.env, ...extraEnv } });
      try {
        const addr = await waitForDaemonRecord(sb.stateFile, proc);
        expect(addr).toMatch(/^0\.0\.0\.0:\d+$/);
        proc.kill("SIGTERM");
        expect(await proc.exited).toBe(0);
        const stderr = await new Response(proc.stderr).text();
        if (extraArgs.length > 0) expect(stderr).toContain("reachable from the network without a token");
        else expect(stderr).not.toContain("without a token");
      } finally {
        await stopDaemon(proc, sb.dir);
      }
    });
  }
});

describe("systemd readiness (Type=notify)", () => {
  test("with NOTIFY_SOCKET the daemon reports READY once bound, and STOPPING on SIGTERM", async () => {
    // A stand-in for systemd-notify on PATH that records its arguments (the real one needs a listening systemd).
    const bin = join(sb.dir, "fake-bin");
    const log = join(sb.dir, "notify.log");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "systemd-notify"), `#!/bin/sh\necho "$NOTIFY_SOCKET $*" >> "${log}"\n`, { mode: 0o755 });
    const env = { ...sb.env, PATH: `${bin}:${sb.env.PATH}`, NOTIFY_SOCKET: "/run/fake-notify" };
    const proc = spawnCli("antares", ["--config-path", sb.configPath, "serve", "--bind", "127.0.0.1:0"], { cwd: sb.dir, env });
    try {
      const addr = await waitForDaemonRecord(sb.stateFile, proc);
      const logText = () => (existsSync(log) ? readFileSync(log, "utf8") : "");
      for (let i = 0; i < 100 && !logText().endsWith("\n"); i++) await Bun.sleep(50);
      expect(readFileSync(log, "utf8")).toBe(`/run/fake-notify --ready --pid=${proc.pid} --status=serving on ${addr}\n`);
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      for (let i = 0; i < 100 && !logText().includes("STOPPING=1"); i++) await Bun.sleep(50);
      expect(readFileSync(log, "utf8")).toContain(`/run/fake-notify --pid=${proc.pid} STOPPING=1 --status=received SIGTERM, unmounting\n`);
    } finally {
      await stopDaemon(proc, sb.dir);
    }
  });
});

describe("antares serve", () => {
  test("serves the Antares health shape at the root and stops on SIGTERM (the original ignored it)", async () => {
    const proc = spawnCli("antares", ["--config-path", sb.configPath, "serve", "--bind", "127.0.0.1:0"], opts);
    try {
      const addr = await waitForDaemonRecord(sb.stateFile, proc);
      const body = await (await fetch(`http://${addr}/health`, { signal: AbortSignal.timeout(5000) })).json();
      expect(body).toEqual({ status: "healthy", mount_count: 0, uptime_secs: expect.any(Number) });
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      expect(readFileSync(sb.stateFile, "utf8")).not.toContain("[daemon]");
    } finally {
      await stopDaemon(proc, sb.dir);
    }
  });
});
