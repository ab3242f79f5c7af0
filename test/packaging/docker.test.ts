/**
 * The container build, exercised without a Docker engine: scripts/docker-steps.sh performs the Dockerfile's
 * stages on this host; the entrypoint runs from the staged root; the compose file is checked for the settings
 * FUSE needs and for loopback-only ports.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import TOML from "@iarna/toml";
import { REPO, TempDirs, VERSION, run, type RunResult } from "./helpers.ts";

const temps = new TempDirs();
let stagingRoot: string;
let rootfs: string;
let steps: RunResult;
let meta: string[];

/** The repository, or a copy of it with a placeholder config template if that file is not written yet. */
function dockerSourceRoot(): string {
  if (existsSync(join(REPO, "scorpio.toml.example"))) return REPO;
  console.log("packaging tests: scorpio.toml.example is not in the repository yet; staging from a copy with a placeholder");
  const copy = temps.make("scorpio-docker-src-");
  cpSync(REPO, copy, {
    recursive: true,
    filter: (p) => !/^\/(node_modules|dist|\.git|release)(\/|$)/.test(p.slice(REPO.length)),
  });
  writeFileSync(join(copy, "scorpio.toml.example"), "# placeholder written by test/packaging\n");
  return copy;
}

beforeAll(async () => {
  const src = dockerSourceRoot();
  stagingRoot = join(temps.make("scorpio-docker-"), "root");
  steps = await run(["bash", join(src, "scripts/docker-steps.sh"), "--root", stagingRoot], { timeoutMs: 600_000 });
  rootfs = join(stagingRoot, "rootfs");
  meta = existsSync(join(stagingRoot, "image.meta"))
    ? readFileSync(join(stagingRoot, "image.meta"), "utf8").trim().split("\n")
    : [];
}, 700_000);

afterAll(() => temps.cleanup());

function metaValue(op: string): string {
  const line = meta.find((l) => l.startsWith(`${op} `));
  if (!line) throw new Error(`image.meta has no ${op}: ${meta.join(" | ")}`);
  return line.slice(op.length + 1);
}

describe("scripts/docker-steps.sh", () => {
  test("builds in a bun stage and lays out a runnable runtime root", async () => {
    if (steps.code !== 0) console.log(steps.stderr);
    expect(steps.code).toBe(0);
    expect(steps.stdout.trim()).toBe(rootfs);
    for (const f of ["usr/local/bin/scorpio", "usr/local/bin/antares", "usr/local/bin/docker-entrypoint.sh"]) {
      expect(statSync(join(rootfs, f)).mode & 0o111).toBe(0o111);
    }
    expect(existsSync(join(rootfs, "usr/local/share/scorpiofs/scorpio.toml.example"))).toBe(true);
    const v = await run([join(rootfs, "usr/local/bin/scorpio"), "--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(VERSION);
    // The build context honours .dockerignore.
    for (const ignored of ["node_modules", ".git", "dist"]) expect(existsSync(join(stagingRoot, "context", ignored))).toBe(false);
    expect(existsSync(join(stagingRoot, "context", "package.json"))).toBe(true);
  });

  test("the image exposes 2725, checks /health and serves by default", () => {
    expect(metaValue("EXPOSE")).toBe("2725");
    // The healthcheck asks the daemon where it recorded itself (any --http-addr), not a fixed port.
    expect(metaValue("HEALTHCHECK")).toContain('CMD ["/usr/local/bin/docker-entrypoint.sh", "healthcheck"]');
    expect(JSON.parse(metaValue("ENTRYPOINT"))).toEqual(["/usr/local/bin/docker-entrypoint.sh"]);
    expect(JSON.parse(metaValue("CMD"))).toEqual(["serve", "--http-addr", "0.0.0.0:2725", "--insecure-bind"]);
  });

  test("refuses instructions it cannot reproduce and a non-empty staging root", async () => {
    const d = temps.make();
    writeFileSync(join(d, "Dockerfile"), "FROM debian:bookworm-slim\nUSER nobody\n");
    const r = await run(["bash", join(REPO, "scripts/docker-steps.sh"), "--root", join(d, "r"), "--dockerfile", join(d, "Dockerfile")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("instruction USER is not reproduced");
    const again = await run(["bash", join(REPO, "scripts/docker-steps.sh"), "--root", join(d, "r")]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("is not empty");
  }, 120_000);
});

describe("deploy/docker-entrypoint.sh", () => {
  const entrypoint = () => join(rootfs, "usr/local/bin/docker-entrypoint.sh");

  /** Runs the staged entrypoint with the staged /usr/local/bin first on PATH (as in the image). */
  function runEntrypoint(args: string[], env: Record<string, string | undefined>, pathFirst = join(rootfs, "usr/local/bin")) {
    return run(["sh", entrypoint(), ...args], {
      env: { SCORPIO_BASE_URL: undefined, SCORPIO_LFS_URL: undefined, ...env, PATH: `${pathFirst}:${process.env.PATH}` },
      timeoutMs: 60_000,
    });
  }

  test("runs the staged scorpio; --version needs no config", async () => {
    const d = temps.make();
    const config = join(d, "etc/scorpio/scorpio.toml");
    const r = await runEntrypoint(["--version"], { SCORPIO_CONFIG_PATH: config });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(VERSION);
    expect(existsSync(config)).toBe(false);
  });

  test("writes a default config for other commands when none is mounted", async () => {
    const d = temps.make();
    const config = join(d, "etc/scorpio/scorpio.toml");
    const r = await runEntrypoint(["config", "validate"], { SCORPIO_CONFIG_PATH: config });
    expect(r.stderr).toContain(`wrote ${config}`);
    const parsed = TOML.parse(readFileSync(config, "utf8"));
    expect(parsed.base_url).toBe("http://localhost:8000");
    expect(parsed.workspace).toBe("/var/lib/scorpiofs/mount");
    // The staged scorpio validated the file it was given.
    expect(r.stdout).toContain(`${config}: OK`);
    expect(r.code).toBe(0);
  });

  test("serving needs SCORPIO_BASE_URL or a mounted config", async () => {
    const d = temps.make();
    const config = join(d, "scorpio.toml");
    const r = await runEntrypoint(JSON.parse(metaValue("CMD")), { SCORPIO_CONFIG_PATH: config });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SCORPIO_BASE_URL must be set");
    expect(existsSync(config)).toBe(false);
  });

  test("writes the config from the environment (escaped) and execs scorpio serve with it", async () => {
    const d = temps.make();
    mkdirSync(join(d, "stub"));
    writeFileSync(join(d, "stub/scorpio"), `#!/bin/sh\nprintf '%s\\n' "$@" > "${d}/args"\n`, { mode: 0o755 });
    const config = join(d, "scorpio.toml");
    const cmd: string[] = JSON.parse(metaValue("CMD"));
    const r = await runEntrypoint(cmd, {
      SCORPIO_CONFIG_PATH: config,
      SCORPIO_BASE_URL: "http://mega:8000/",
      SCORPIO_STORE_PATH: '/data/odd "name" \\ here',
    }, join(d, "stub"));
    expect(r.code).toBe(0);
    expect(readFileSync(join(d, "args"), "utf8").trim().split("\n")).toEqual(["--config-path", config, ...cmd]);
    const parsed = TOML.parse(readFileSync(config, "utf8"));
    expect(parsed.base_url).toBe("http://mega:8000/");
    expect(parsed.lfs_url).toBe("http://mega:8000/info/lfs");
    expect(parsed.store_path).toBe('/data/odd "name" \\ here');
    expect(parsed.antares_state_file).toBe("/var/lib/scorpiofs/antares/state.toml");

    // A value with a newline would break the file: refused.
    const bad = await runEntrypoint(cmd, { SCORPIO_CONFIG_PATH: join(d, "bad.toml"), SCORPIO_BASE_URL: "http://a\nb" }, join(d, "stub"));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("control characters");
    expect(existsSync(join(d, "bad.toml"))).toBe(false);
  });

  test("healthcheck: ok while the daemon answers healthy at the address it recorded; fails without a daemon", async () => {
    const d = temps.make();
    const config = join(d, "scorpio.toml");
    const state = join(d, "runtime.toml");
    writeFileSync(config, [`base_url = "http://127.0.0.1:9"`, `workspace = "${d}/mount"`, `store_path = "${d}/store"`, `config_file = "${state}"`,
      `antares_upper_root = "${d}/upper"`, `antares_cl_root = "${d}/cl"`, `antares_mount_root = "${d}/mnt"`, `antares_state_file = "${d}/antares.toml"`].join("\n") + "\n");
    const none = await runEntrypoint(["healthcheck"], { SCORPIO_CONFIG_PATH: config });
    expect(none.code).not.toBe(0);
    // A daemon on a port nobody configured in the image: the check must follow it.
    const daemon = Bun.spawn([join(rootfs, "usr/local/bin/antares"), "--config-path", config, "serve", "--bind", "127.0.0.1:0"], { stdout: "ignore", stderr: "ignore" });
    try {
      for (let i = 0; i < 300 && !(existsSync(state) && readFileSync(state, "utf8").includes(`pid = ${daemon.pid}`)); i++) await Bun.sleep(50);
      const ok = await runEntrypoint(["healthcheck"], { SCORPIO_CONFIG_PATH: config });
      expect(ok.stderr).toBe("");
      expect(ok.code).toBe(0);
    } finally {
      daemon.kill("SIGTERM");
      await daemon.exited;
    }
    expect((await runEntrypoint(["healthcheck"], { SCORPIO_CONFIG_PATH: config })).code).not.toBe(0);
  }, 60_000);

  test("the runtime image has no git; the dev image (devserver) has it", () => {
    const apt = (file: string) => readFileSync(join(REPO, file), "utf8").split(/^FROM /m).at(-1)!.match(/apt-get install[^&]*/)![0];
    expect(apt("Dockerfile")).not.toMatch(/\bgit\b/);
    expect(apt("Dockerfile.dev")).toMatch(/\bgit\b/);
  });

  test("a mounted config is used as is", async () => {
    const d = temps.make();
    mkdirSync(join(d, "stub"));
    writeFileSync(join(d, "stub/scorpio"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const config = join(d, "scorpio.toml");
    writeFileSync(config, 'base_url = "http://mine:1"\n');
    const r = await runEntrypoint(["serve"], { SCORPIO_CONFIG_PATH: config }, join(d, "stub"));
    expect(r.code).toBe(0);
    expect(readFileSync(config, "utf8")).toBe('base_url = "http://mine:1"\n');
  });
});

describe("docker-compose.yml", () => {
  const compose = () => Bun.YAML.parse(readFileSync(join(REPO, "docker-compose.yml"), "utf8")) as any;

  test("the scorpio service gets /dev/fuse, SYS_ADMIN, no AppArmor confinement and a loopback port", () => {
    const s = compose().services.scorpio;
    expect(s.devices).toContain("/dev/fuse");
    expect(s.cap_add).toContain("SYS_ADMIN");
    expect(s.security_opt).toContain("apparmor:unconfined");
    expect(s.ports).toEqual(["127.0.0.1:2725:2725"]);
    expect(s.environment.SCORPIO_BASE_URL).toBe("http://devserver:8000");
  });

  test("the scorpio service gets longer than the daemon's 20 s shutdown budget before SIGKILL", () => {
    const m = /^(\d+)s$/.exec(String(compose().services.scorpio.stop_grace_period));
    expect(Number(m?.[1])).toBeGreaterThanOrEqual(25);
  });

  test("the devserver serves a repository on 8000, published on loopback only", () => {
    const s = compose().services.devserver;
    expect(s.build.dockerfile).toBe("Dockerfile.dev");
    expect(s.command).toEqual(["devserver", "--repo", "/repo", "--addr", "0.0.0.0:8000"]);
    expect(s.ports).toEqual(["127.0.0.1:8000:8000"]);
  });
});
