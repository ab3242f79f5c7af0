/**
 * `config init|validate|show`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeSandbox, runCli } from "./harness.ts";

const sb = makeSandbox();
afterAll(() => sb.cleanup());
const opts = { cwd: sb.dir, env: sb.env };

describe("config init", () => {
  test("writes the template, refuses to overwrite, --force overwrites", async () => {
    const target = join(sb.dir, "new.toml");
    const first = await runCli("scorpio", ["config", "init", target], opts);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`wrote config template to ${target}\nedit base_url/lfs_url, then: scorpio --config-path ${target} doctor\n`);
    expect(readFileSync(target, "utf8")).toContain("base_url");

    writeFileSync(target, "# mine\n");
    const refused = await runCli("scorpio", ["config", "init", target], opts);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`refusing to overwrite existing '${target}' (use --force)\n`);
    expect(readFileSync(target, "utf8")).toBe("# mine\n");

    const forced = await runCli("scorpio", ["config", "init", target, "--force"], opts);
    expect(forced.code).toBe(0);
    expect(readFileSync(target, "utf8")).toContain("base_url");
  });

  test("defaults to ./scorpio.toml and needs no valid config", async () => {
    const sub = makeSandbox();
    try {
      const r = await runCli("scorpio", ["config", "init"], { cwd: sub.dir, env: sub.env });
      expect(r.code).toBe(2); // the sandbox already wrote scorpio.toml there
      const other = join(sub.dir, "fresh");
      await Bun.$`mkdir -p ${other}`;
      const ok = await runCli("scorpio", ["config", "init"], { cwd: other, env: sub.env });
      expect(ok.code).toBe(0);
      expect(existsSync(join(other, "scorpio.toml"))).toBe(true);
    } finally {
      sub.cleanup();
    }
  });

  test("write failure: `failed to write …`, exit 2", async () => {
    const target = join(sb.dir, "no-such-dir-file", "x.toml");
    writeFileSync(join(sb.dir, "no-such-dir-file"), "a file, not a directory");
    const r = await runCli("scorpio", ["config", "init", target], opts);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith(`failed to write '${target}': `);
  });
});

describe("config validate", () => {
  test("OK on a good file, creating nothing", async () => {
    const r = await runCli("scorpio", ["-c", sb.configPath, "config", "validate"], opts);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${sb.configPath}: OK\n`);
    expect(existsSync(join(sb.dir, "mount"))).toBe(false);
  });

  test("lists every problem and exits 2", async () => {
    const bad = join(sb.dir, "bad.toml");
    writeFileSync(bad, `base_url = "ftp://x"\nload_dir_depth = "deep"\nfetch_file_thread = 0\n`);
    const r = await runCli("scorpio", ["-c", bad, "config", "validate"], opts);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: \\d+ problem\\(s\\) found:$`));
    expect(lines.length).toBeGreaterThanOrEqual(4);
    expect(r.stderr).toContain("load_dir_depth");
    expect(r.stderr).toContain("fetch_file_thread");
    expect(r.stderr).toContain("base_url");
    for (const l of lines.slice(1)) expect(l).toStartWith("  - ");
  });

  test("shows the warnings config show shows (unknown key, a log_level that selects nothing); --strict fails on them", async () => {
    const warned = join(sb.dir, "warned.toml");
    writeFileSync(warned, readFileSync(sb.configPath, "utf8") + `log_level = "verbose"\nbogus_key = 1\n`);
    const r = await runCli("scorpio", ["-c", warned, "config", "validate"], opts);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${warned}: OK (2 warning(s))\n`);
    expect(r.stderr).toContain("warning: unknown config key 'bogus_key' ignored");
    expect(r.stderr).toContain(`warning: log_level "verbose": 'verbose' is neither a level`);
    const strict = await runCli("scorpio", ["-c", warned, "config", "validate", "--strict"], opts);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain("failing because of --strict");
    const json = await runCli("scorpio", ["-c", warned, "config", "validate", "--strict", "--json"], opts);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ path: warned, ok: false, problems: [], warnings: [expect.stringContaining("bogus_key"), expect.stringContaining("verbose")] });
    // Known targets and levels do not warn.
    writeFileSync(warned, readFileSync(sb.configPath, "utf8") + `log_level = "warn,fuse=debug,scorpio::remote=trace"\n`);
    expect((await runCli("scorpio", ["-c", warned, "config", "validate", "--strict"], opts)).code).toBe(0);
  });

  test("a missing file is one problem", async () => {
    const r = await runCli("scorpio", ["-c", join(sb.dir, "missing.toml"), "config", "validate"], opts);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(": 1 problem(s) found:");
  });
});

describe("config show", () => {
  test("prints the effective config; path overrides apply; --json parses", async () => {
    const r = await runCli("scorpio", ["-c", sb.configPath, "config", "show", "--mount-root", join(sb.dir, "other-mnt")], opts);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("ScorpioConfig {");
    expect(r.stdout).toContain(`antares_mount_root: "${join(sb.dir, "other-mnt")}"`);
    // init side effect: runtime dirs and the state file exist now
    expect(existsSync(join(sb.dir, "other-mnt"))).toBe(true);
    expect(existsSync(sb.stateFile)).toBe(true);

    const j = await runCli("scorpio", ["-c", sb.configPath, "config", "show", "--json"], opts);
    expect(j.code).toBe(0);
    const parsed = JSON.parse(j.stdout);
    expect(parsed.config_file).toBe(sb.stateFile);
    expect(parsed.base_url).toBe("http://127.0.0.1:9");
  });

  test("secrets are redacted in the text and the JSON form", async () => {
    const env = { ...sb.env, SCORPIO_HTTP_TOKEN: "tok-s3cret" };
    const text = await runCli("scorpio", ["-c", sb.configPath, "config", "show"], { cwd: sb.dir, env });
    const json = await runCli("scorpio", ["-c", sb.configPath, "config", "show", "--json"], { cwd: sb.dir, env });
    expect(text.code).toBe(0);
    expect(json.code).toBe(0);
    expect(text.stdout + json.stdout).not.toContain("tok-s3cret");
    expect(JSON.parse(json.stdout).http_token).toBe("<redacted>");
  });

  test("an invalid config is `Failed to load config`, exit 2", async () => {
    const bad = join(sb.dir, "bad2.toml");
    writeFileSync(bad, `load_dir_depth = "x"\n`);
    const r = await runCli("scorpio", ["-c", bad, "config", "show"], opts);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith("Failed to load config: ");
    expect(r.stderr).toContain("load_dir_depth");
  });
});

describe("config discovery without -c", () => {
  const { mkdirSync, copyFileSync, mkdtempSync, rmSync } = require("node:fs") as typeof import("node:fs");
  const validatedPath = async (cwd: string, env: Record<string, string>) => {
    const r = await runCli("scorpio", ["config", "validate", "--json"], { cwd, env });
    return { code: r.code, path: r.code === 0 ? (JSON.parse(r.stdout) as { path: string }).path : undefined, stderr: r.stderr + r.stdout };
  };

  test("$SCORPIO_CONFIG, then ./scorpio.toml, then $XDG_CONFIG_HOME/scorpio/scorpio.toml", async () => {
    const cwd = mkdtempSync(join(sb.dir, "cwd-"));
    const xdgFile = join(sb.env.XDG_CONFIG_HOME!, "scorpio", "scorpio.toml");
    mkdirSync(join(sb.env.XDG_CONFIG_HOME!, "scorpio"), { recursive: true });
    copyFileSync(sb.configPath, xdgFile);
    try {
      expect((await validatedPath(cwd, sb.env)).path).toBe(xdgFile);
      copyFileSync(sb.configPath, join(cwd, "scorpio.toml"));
      expect((await validatedPath(cwd, sb.env)).path).toBe(join(cwd, "scorpio.toml"));
      expect((await validatedPath(cwd, { ...sb.env, SCORPIO_CONFIG: sb.configPath })).path).toBe(sb.configPath);
    } finally {
      rmSync(xdgFile);
      rmSync(cwd, { recursive: true });
    }
  });

  test.skipIf(existsSync("/etc/scorpio/scorpio.toml"))("no file anywhere: exit 2 naming every place and `config init`; doctor still runs", async () => {
    const cwd = mkdtempSync(join(sb.dir, "empty-"));
    try {
      const r = await runCli("scorpio", ["list"], { cwd, env: sb.env });
      expect(r.code).toBe(2);
      for (const place of [join(cwd, "scorpio.toml"), join(sb.env.XDG_CONFIG_HOME!, "scorpio", "scorpio.toml"), "/etc/scorpio/scorpio.toml", "scorpio config init"]) {
        expect(r.stderr).toContain(place);
      }
      const doctor = await runCli("scorpio", ["doctor", "--json"], { cwd, env: sb.env });
      expect(doctor.code).not.toBe(2);
      expect(doctor.stderr).toContain("using the defaults");
      expect(JSON.parse(doctor.stdout).checks.length).toBeGreaterThan(5);
    } finally {
      rmSync(cwd, { recursive: true });
    }
  });
});
