/**
 * Version, help, usage errors (exit 2), the deprecated no-subcommand form, and the antares alias.
 */
import { afterAll, describe, expect, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { makeSandbox, runCli } from "./harness.ts";

const sb = makeSandbox();
afterAll(() => sb.cleanup());
const opts = { cwd: sb.dir, env: sb.env };

describe("scorpio", () => {
  test("--version and -V print `scorpio <version>`", async () => {
    for (const flag of ["--version", "-V"]) {
      const r = await runCli("scorpio", [flag], opts);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`scorpio ${pkg.version}\n`);
    }
  });

  test("--version --json prints {name, version}", async () => {
    for (const args of [["--version", "--json"], ["--json", "-V"]]) {
      const r = await runCli("scorpio", args, opts);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ name: "scorpio", version: pkg.version });
    }
  });

  test("help names option values (`--endpoint <url>`), never clipanion's `#0`", async () => {
    for (const args of [["--help"], ["mount", "--help"], ["gc", "--help"], ["help", "prefetch"]]) {
      const r = await runCli("scorpio", args, opts);
      expect(r.stdout).not.toContain("#0");
    }
    expect((await runCli("scorpio", ["mount", "--help"], opts)).stdout).toContain("--endpoint <url>");
  });

  test("`config` alone lists its subcommands; an unknown command suggests the closest one", async () => {
    const c = await runCli("scorpio", ["config"], opts);
    expect(c.code).toBe(0);
    for (const sub of ["scorpio config init", "scorpio config validate", "scorpio config show"]) expect(c.stdout).toContain(sub);
    // Global options parse there too.
    expect((await runCli("scorpio", ["-c", "other.toml", "config"], opts)).code).toBe(0);
    const typo = await runCli("scorpio", ["moutn", "job-1"], opts);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe("unknown command 'moutn'; did you mean 'mount'? (see 'scorpio help' for the list)\n");
  });

  test("--help lists the commands with descriptions and the global options", async () => {
    const r = await runCli("scorpio", ["--help"], opts);
    expect(r.code).toBe(0);
    for (const cmd of ["serve", "mount", "umount", "list", "http-mount", "config init", "config validate", "config show", "doctor", "completions", "status", "stats", "prefetch", "du", "gc", "devserver"]) {
      expect(r.stdout).toContain(`scorpio ${cmd}`);
    }
    expect(r.stdout).toContain("--config-path");
    expect(r.stdout).toContain("Global options");
  });

  test("help <command> and <command> --help show details and examples", async () => {
    const a = await runCli("scorpio", ["help", "mount"], opts);
    const b = await runCli("scorpio", ["mount", "--help"], opts);
    for (const r of [a, b]) {
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("$ scorpio mount <JOB_ID>");
      expect(r.stdout).toContain("Examples");
      expect(r.stdout).toContain("scorpio mount build-42 --cl 12345");
    }
  });

  test("usage errors exit 2 with the message on stderr", async () => {
    const cases = [["bogus-command"], ["mount"], ["--http-addr", "not-an-addr", "serve"], ["serve", "--http-addr=localhost:80"], ["completions", "tcsh"], ["list", "--no-such-flag"]];
    for (const args of cases) {
      const r = await runCli("scorpio", args, opts);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr.length).toBeGreaterThan(0);
      expect(r.stdout).toBe("");
    }
  });

  test("global options are accepted before and after the subcommand", async () => {
    const before = await runCli("scorpio", ["-c", sb.configPath, "config", "validate"], opts);
    const after = await runCli("scorpio", ["config", "validate", "--config-path", sb.configPath], opts);
    const inline = await runCli("scorpio", ["config", "validate", `--config-path=${sb.configPath}`], opts);
    for (const r of [before, after, inline]) {
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${sb.configPath}: OK\n`);
    }
  });

  test("a missing config is `Failed to load config: …`, exit 2", async () => {
    const r = await runCli("scorpio", ["-c", `${sb.dir}/nope.toml`, "doctor"], opts);
    expect(r.code).toBe(2);
    expect(r.stderr).toStartWith("Failed to load config: ");
    expect(r.stderr).toContain("nope.toml");
  });

  test("no subcommand: config loads first (no note on failure), then the deprecation note, then serve", async () => {
    const bad = await runCli("scorpio", ["-c", `${sb.dir}/nope.toml`], opts);
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toContain("deprecated");

    // Occupy a port so serve stops right after the note with the bind error (exit 4).
    const blocker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("busy") });
    try {
      const r = await runCli("scorpio", ["-c", sb.configPath, "--http-addr", `127.0.0.1:${blocker.port}`], opts);
      expect(r.stderr).toContain("note: running `scorpio` without a subcommand is deprecated; use `scorpio serve`");
      expect(r.code).toBe(4);
    } finally {
      blocker.stop(true);
    }
  });
});

describe("antares", () => {
  const note = "note: the `antares` binary is a deprecated compatibility alias; prefer `scorpio <subcommand>`\n";

  test("prints the deprecation note first, even for --help and --version", async () => {
    const v = await runCli("antares", ["--version"], opts);
    expect(v.code).toBe(0);
    expect(v.stdout).toBe(`scorpio ${pkg.version}\n`);
    expect(v.stderr).toStartWith(note);
    const h = await runCli("antares", ["--help"], opts);
    expect(h.code).toBe(0);
    expect(h.stderr).toStartWith(note);
    expect(h.stdout).toContain("antares serve");
    expect(h.stdout).not.toContain("antares doctor");
  });

  test("a subcommand is required", async () => {
    const r = await runCli("antares", [], opts);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("requires a subcommand");
  });

  test("options go before the subcommand; after it they are usage errors", async () => {
    const ok = await runCli("antares", ["--config-path", sb.configPath, "list"], opts);
    // No daemon runs: the config (and so the state file path) was taken from --config-path.
    expect(ok.code).toBe(1);
    expect(ok.stderr).toContain(`no scorpio daemon is running (state file ${sb.stateFile})`);

    for (const args of [["list", "--config-path", sb.configPath], ["-c", sb.configPath, "list"], ["--log-level", "debug", "list"]]) {
      const r = await runCli("antares", args, opts);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain("unexpected argument");
    }
  });

  test("serve --bind with an invalid address: `Invalid bind address …`, exit 2", async () => {
    const r = await runCli("antares", ["--config-path", sb.configPath, "serve", "--bind", "nonsense"], opts);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Invalid bind address 'nonsense': ");
  });
});
