/**
 * Unit tests of the CLI's pure pieces: mountinfo parsing, global-option hoisting, socket addresses,
 * sizes, the progress line, and the daemon app through `app.handle` (no socket).
 */
import { describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { fuseMountsUnder, isUnder, parseMountinfo } from "../../src/cli/doctor/mountinfo.ts";
import { hoistAntaresGlobals, hoistScorpioGlobals } from "../../src/cli/global-options.ts";
import { humanBytes, humanDuration, parseSize, statusLine } from "../../src/cli/format.ts";
import { createProgress, renderProgressLine } from "../../src/cli/progress.ts";
import { HealthRegistry } from "../../src/server/health.ts";
import { createApp, dialableUrl, minimalServices, parseSocketAddr, type DaemonServices } from "../../src/server/index.ts";

const MOUNTINFO = `22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
28 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
41 28 0:40 / /tmp/megadir-a/mount rw,nosuid,nodev,relatime shared:20 - fuse scorpio rw,user_id=0,group_id=0
42 28 0:41 / /tmp/megadir-a/antares/mnt/3f1c rw,relatime - fuse.scorpio antares rw,user_id=0
43 28 0:42 / /tmp/my\\040dir/mnt rw,relatime master:3 - fuse.sshfs host:/x rw
44 28 0:43 / /sys/fs/fuse/connections rw,relatime - fusectl fusectl rw
garbage line
`;

describe("mountinfo", () => {
  test("parses mount point, type and source, unescaping octal", () => {
    const entries = parseMountinfo(MOUNTINFO);
    expect(entries.map((e) => [e.mountpoint, e.fstype, e.source])).toEqual([
      ["/proc", "proc", "proc"],
      ["/", "ext4", "/dev/sda1"],
      ["/tmp/megadir-a/mount", "fuse", "scorpio"],
      ["/tmp/megadir-a/antares/mnt/3f1c", "fuse.scorpio", "antares"],
      ["/tmp/my dir/mnt", "fuse.sshfs", "host:/x"],
      ["/sys/fs/fuse/connections", "fusectl", "fusectl"],
    ]);
  });

  test("selects fuse mounts at or below the roots only", () => {
    const found = fuseMountsUnder(parseMountinfo(MOUNTINFO), ["/tmp/megadir-a/mount", "/tmp/megadir-a/antares/mnt/"]);
    expect(found.map((e) => e.mountpoint)).toEqual(["/tmp/megadir-a/mount", "/tmp/megadir-a/antares/mnt/3f1c"]);
    expect(isUnder("/tmp/megadir-a/mountain", "/tmp/megadir-a/mount")).toBe(false);
  });
});

describe("global options", () => {
  test("scorpio hoists globals from anywhere to the end, stopping at --", () => {
    expect(hoistScorpioGlobals(["-c", "x.toml", "mount", "j1", "--log-level", "debug"])).toEqual(["mount", "j1", "--config-path=x.toml", "--log-level=debug"]);
    expect(hoistScorpioGlobals(["list", "--mount-root=/m"])).toEqual(["list", "--mount-root=/m"]);
    expect(hoistScorpioGlobals(["prefetch", "--", "-c"])).toEqual(["prefetch", "--", "-c"]);
    // missing value stays for clipanion to report
    expect(hoistScorpioGlobals(["list", "-c"])).toEqual(["list", "-c"]);
  });

  test("antares takes options before the subcommand only", () => {
    expect(hoistAntaresGlobals(["--config-path", "a.toml", "serve", "--bind", "1.2.3.4:5"])).toEqual(["serve", "--bind", "1.2.3.4:5", "--config-path=a.toml"]);
    expect(() => hoistAntaresGlobals(["serve", "--config-path", "a.toml"])).toThrow("unexpected argument");
    expect(() => hoistAntaresGlobals(["-c", "a.toml", "serve"])).toThrow("unexpected argument '-c'");
    expect(() => hoistAntaresGlobals(["--config-path", "a.toml"])).toThrow("requires a subcommand");
  });
});

describe("socket addresses", () => {
  test("ip:port only, like Rust's SocketAddr", () => {
    expect(parseSocketAddr("0.0.0.0:2725")).toEqual({ host: "0.0.0.0", port: 2725, family: 4 });
    expect(parseSocketAddr("[::1]:80")).toEqual({ host: "::1", port: 80, family: 6 });
    for (const bad of ["localhost:80", "1.2.3.4", "1.2.3.4:99999", "::1:80", "", "1.2.3.4:x"]) {
      expect(() => parseSocketAddr(bad)).toThrow("invalid socket address syntax");
    }
  });

  test("wildcard binds are dialled through loopback", () => {
    expect(dialableUrl("0.0.0.0:2725")).toBe("http://127.0.0.1:2725");
    expect(dialableUrl("[::]:2725")).toBe("http://[::1]:2725");
    expect(dialableUrl("10.1.2.3:1")).toBe("http://10.1.2.3:1");
  });
});

describe("format", () => {
  test("sizes, durations and status lines", () => {
    expect(parseSize("512")).toBe(512);
    expect(parseSize("2K")).toBe(2048);
    expect(parseSize("1.5GiB")).toBe(1.5 * 1024 ** 3);
    expect(() => parseSize("lots")).toThrow("invalid size");
    expect(humanBytes(1023)).toBe("1023 B");
    expect(humanBytes(3 * 1024 * 1024)).toBe("3.0 MiB");
    expect(humanDuration(3725)).toBe("1h 2m 5s");
    expect(statusLine(400)).toBe("400 Bad Request");
    expect(statusLine(599)).toBe("599");
  });
});

describe("progress", () => {
  test("renders a bar and fits the width", () => {
    expect(renderProgressLine("prefetch", 5, 10, "1.0 KiB", 80)).toBe("prefetch [############------------] 50% 5/10 1.0 KiB");
    expect(renderProgressLine("prefetch", 7, undefined, undefined, 80)).toBe("prefetch 7");
    expect(renderProgressLine("prefetch", 5, 10, undefined, 12).length).toBe(11);
  });

  test("shows the rate and the ETA once time has passed", () => {
    expect(renderProgressLine("prefetch", 50, 200, "1.0 MiB", 120, 10)).toBe("prefetch [######------------------] 25% 50/200 1.0 MiB 5.0/s ETA 30s");
    expect(renderProgressLine("prefetch", 600, 600, undefined, 120, 2)).toBe("prefetch [########################] 100% 600/600 300/s");
    expect(renderProgressLine("prefetch", 0, 10, undefined, 120, 5)).toBe("prefetch [------------------------] 0% 0/10");
  });

  test("a terminal that reports 0 columns still gets a line", () => {
    const writes: string[] = [];
    const tty = createProgress("x", { isTTY: true, columns: 0, write: (s: string) => writes.push(s) }, () => 0);
    tty.update(1, 2);
    expect(writes.join("")).toContain("x [############------------] 50% 1/2");
    expect(renderProgressLine("prefetch", 1, 2, undefined, 0)).toContain("50% 1/2");
  });

  test("writes nothing when the stream is not a TTY, and clears its line on a TTY", () => {
    const writes: string[] = [];
    const pipe = createProgress("x", { isTTY: false, write: (s: string) => writes.push(s) });
    pipe.update(1, 2);
    pipe.finish();
    expect(writes).toEqual([]);
    const tty = createProgress("x", { isTTY: true, columns: 80, write: (s: string) => writes.push(s) }, () => 0);
    tty.update(1, 2);
    tty.update(2, 2);
    tty.finish();
    expect(writes.length).toBe(3);
    expect(writes[2]).toBe("\r\x1b[2K");
  });
});

describe("daemon app", () => {
  const get = (app: { handle(r: Request): Promise<Response> }, path: string, init?: RequestInit) => app.handle(new Request(`http://localhost${path}`, init));

  async function services(overrides: Partial<DaemonServices> = {}): Promise<DaemonServices> {
    const base = await minimalServices({ config: {} as never, mode: "scorpio", configPath: "x", state: { works: [{ path: "a", node: 2, hash: "h" }] } });
    return { ...base, ...overrides };
  }

  test("/health has the original's fields; mount_count from the services", async () => {
    const app = createApp(await services(), { mode: "scorpio", startedAt: Date.now() - 5000 });
    const res = await get(app, "/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", version: expect.any(String), uptime_secs: 5, mount_count: 1 });
  });

  test("a failing check makes /health degraded with reasons; ?strict=true answers 503; null mount count passes through", async () => {
    const failing = () => {
      const h = new HealthRegistry();
      h.register("ok_check", () => undefined);
      h.register("remote", () => "Mega server unreachable");
      return h;
    };
    const app = createApp(await services({ health: failing(), mountCount: () => null }), { mode: "scorpio" });
    const res = await get(app, "/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "degraded", mount_count: null, reasons: [{ check: "remote", message: "Mega server unreachable" }] });
    expect((await get(app, "/health?strict=true")).status).toBe(503);
    const antares = createApp(await services({ health: failing() }), { mode: "antares" });
    expect(await (await get(antares, "/health")).json()).toMatchObject({ status: "degraded", mount_count: 1, reasons: [{ check: "remote" }] });
    expect((await get(antares, "/health?strict=true")).status).toBe(503);
    // Healthy: 200 in both forms, and no `reasons` field (the original's shape).
    const healthy = createApp(await services(), { mode: "scorpio" });
    expect((await get(healthy, "/health?strict=true")).status).toBe(200);
    expect(Object.keys((await (await get(healthy, "/health")).json()) as object)).toEqual(["status", "version", "uptime_secs", "mount_count"]);
  });

  test("a check that throws is reported, not a 500", async () => {
    const h = new HealthRegistry();
    h.register("store_disk", () => {
      throw new Error("statfs failed");
    });
    const app = createApp(await services({ health: h }), { mode: "scorpio" });
    expect(await (await get(app, "/health")).json()).toMatchObject({ status: "degraded", reasons: [{ check: "store_disk", message: "health check failed: statfs failed" }] });
  });

  test("plugins plug in; unknown routes and bad bodies are 4xx JSON", async () => {
    const { t } = await import("elysia");
    const plugin = new Elysia({ prefix: "/antares" }).post("/mounts", ({ body }) => ({ got: body.path }), { body: t.Object({ path: t.String() }) });
    const app = createApp(await services({ plugins: () => [plugin] }), { mode: "scorpio" });
    const ok = await get(app, "/antares/mounts", { method: "POST", headers: { "content-type": "application/json" }, body: `{"path":"/a"}` });
    expect(await ok.json()).toEqual({ got: "/a" });
    const missing = await get(app, "/nope");
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: "no such route", code: "NOT_FOUND" });
    const badJson = await get(app, "/antares/mounts", { method: "POST", headers: { "content-type": "application/json" }, body: "{oops" });
    expect(badJson.status).toBe(400);
    expect(((await badJson.json()) as { code: string }).code).toBe("BAD_PAYLOAD");
    const wrongShape = await get(app, "/antares/mounts", { method: "POST", headers: { "content-type": "application/json" }, body: `{"x":1}` });
    expect(wrongShape.status).toBe(400);
    expect(((await wrongShape.json()) as { code: string }).code).toBe("BAD_PAYLOAD");
  });
});

test("globals before --version, --help and help are accepted and ignored, as clap did", () => {
  expect(hoistScorpioGlobals(["--config-path", "/x", "--version"])).toEqual(["--version"]);
  expect(hoistScorpioGlobals(["-c", "/x", "help", "serve"])).toEqual(["help", "serve"]);
  expect(hoistScorpioGlobals(["-c", "/x", "-h"])).toEqual(["-h"]);
  expect(hoistScorpioGlobals(["-c", "/x", "serve", "--help"])).toEqual(["serve", "--help", "--config-path=/x"]);
});

describe("doctor's libfuse check", () => {
  test("uses the daemon's minimum: 3.10 to 3.13 fail as they fail `serve`", async () => {
    const { libfuseVerdict } = await import("../../src/cli/doctor/checks.ts");
    const { MIN_FUSE_VERSION } = await import("../../src/fuse/libfuse.ts");
    expect(MIN_FUSE_VERSION).toBe(314);
    expect(libfuseVerdict({ ok: true, version: 310 }).status).toBe("fail");
    expect(libfuseVerdict({ ok: true, version: 313 }).detail).toContain("3.14 or later is required");
    expect(libfuseVerdict({ ok: true, version: 314 }).status).toBe("ok");
    expect(libfuseVerdict({ ok: false, error: "nope" }).status).toBe("fail");
  });
});

describe("one binary, two names", () => {
  test("argv[0] decides: an `antares` link runs antares; `bun <script>` goes by the script", async () => {
    const { binaryFromArgv0 } = await import("../../src/cli/entry.ts");
    expect(binaryFromArgv0("/usr/local/bin/antares")).toBe("antares");
    expect(binaryFromArgv0("./scorpio")).toBe("scorpio");
    expect(binaryFromArgv0("scorpio")).toBe("scorpio");
    expect(binaryFromArgv0("/usr/bin/bun", "/repo/src/cli/antares.ts")).toBe("antares");
    expect(binaryFromArgv0("bun", "/repo/src/cli/main.ts")).toBe("scorpio");
  });
});

describe("help text", () => {
  test("option values are named, not clipanion's #0, and option tables stay aligned", async () => {
    const { withPlaceholders } = await import("../../src/cli/help-text.ts");
    expect(withPlaceholders("scorpio gc [--endpoint #0] [--target #0] [--json]")).toBe("scorpio gc [--endpoint <url>] [--target <size>] [--json]");
    expect(withPlaceholders("  --endpoint #0    Daemon URL\n  --cl #0          Change list\n  --json           JSON")).toBe(
      "  --endpoint <url>    Daemon URL\n  --cl <cl>           Change list\n  --json              JSON",
    );
  });
  test("closest command", async () => {
    const { closestWord } = await import("../../src/cli/help-text.ts");
    const words = ["serve", "mount", "umount", "list", "status", "stats", "config", "doctor"];
    expect(closestWord("moutn", words)).toBe("mount");
    expect(closestWord("confg", words)).toBe("config");
    expect(closestWord("stat", words)).toBe("status");
    expect(closestWord("xyzzy", words)).toBeUndefined();
  });
});
