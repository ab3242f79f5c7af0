import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig, validateConfigFile } from "../../src/config/index.ts";
import { TempDir } from "./helpers.ts";

const tmp = new TempDir();
afterAll(() => tmp.cleanup());
const env = { HOME: tmp.join("home"), XDG_DATA_HOME: tmp.join("data"), XDG_STATE_HOME: tmp.join("state") };

describe("config validate collects every problem", () => {
  test("a file with six different errors reports all six, in the original's order", () => {
    const path = tmp.file(`
base_url = "::bad::"
load_dir_depth = "deep"
fetch_file_thread = 0
[dicfuse]
stat_mode = "bogus"
dir_sync_ttl_secs = "soon"
[antares]
open_buff_max_bytes = "lots"
`);
    expect(validateConfigFile({ configPath: path, env })).toEqual([
      `Invalid value for 'load_dir_depth': "deep" is not a valid usize (invalid digit found in string)`,
      `Invalid stat mode for 'dicfuse_stat_mode': expected 'fast' or 'accurate', got "bogus"`,
      `Invalid value for 'dicfuse_dir_sync_ttl_secs': "soon" is not a valid u64 (invalid digit found in string)`,
      `Invalid value for 'antares_dicfuse_open_buff_max_bytes': "lots" is not a valid u64 (invalid digit found in string)`,
      `Invalid URL for 'base_url': "::bad::" (relative URL without a base)`,
      "Invalid config 'fetch_file_thread': must be >= 1, got 0",
    ]);
  });

  test("validate uses the original's §2.5 order, load its key order", () => {
    const path = tmp.file('dicfuse_fetch_dir_timeout_secs = "x"\ndicfuse_connect_timeout_secs = "y"\n');
    const problems = validateConfigFile({ configPath: path, env });
    expect(problems.map((p) => p.split("'")[1])).toEqual(["dicfuse_connect_timeout_secs", "dicfuse_fetch_dir_timeout_secs"]);
    try {
      loadConfig({ configPath: path, env });
      throw new Error("expected failure");
    } catch (err) {
      expect((err as ConfigError).key).toBe("dicfuse_fetch_dir_timeout_secs");
    }
  });

  test("a valid file has no problems and nothing is created on disk", () => {
    const path = tmp.file('base_url = "http://mega.example"\n[dicfuse]\nload_dir_depth = 2\n');
    expect(validateConfigFile({ configPath: path, env })).toEqual([]);
    expect(existsSync(tmp.join("data"))).toBe(false);
    expect(existsSync(tmp.join("state"))).toBe(false);
  });

  test("missing or unparsable file is exactly one problem", () => {
    const missing = tmp.join("missing.toml");
    expect(validateConfigFile({ configPath: missing, env })).toEqual([
      `Config file not found at '${missing}': No such file or directory (os error 2)`,
    ]);
    const bad = tmp.file("[dicfuse\nload_dir_depth = 1\n");
    const problems = validateConfigFile({ configPath: bad, env });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.startsWith(`Invalid config format in '${bad}': `)).toBe(true);
  });

  test("env and CLI overrides take part", () => {
    const path = tmp.file("");
    expect(validateConfigFile({ configPath: path, env: { ...env, SCORPIO_LOAD_DIR_DEPTH: "0" } })).toEqual([
      "Invalid config 'load_dir_depth': must be >= 1, got 0",
    ]);
    expect(validateConfigFile({ configPath: path, env, overrides: { antares_load_dir_depth: "many" } })).toEqual([
      `Invalid value for 'antares_load_dir_depth': "many" is not a valid usize (invalid digit found in string)`,
    ]);
  });

  test("an invalid log_level filter is reported by validate but tolerated by load", () => {
    const path = tmp.file('log_level = "info,fuse=loud"\n');
    expect(validateConfigFile({ configPath: path, env })).toEqual([
      `Invalid log filter for 'log_level': "info,fuse=loud" (invalid log level 'loud' in directive 'fuse=loud')`,
    ]);
    expect(loadConfig({ configPath: path, env }).config.log_level).toBe("info,fuse=loud");
  });

  test("new keys are validated too", () => {
    const path = tmp.file('log_format = "yaml"\ncache_max_bytes = "-1"\nprefetch = ["../etc/*"]\nantares_purge_on_delete = "maybe"\n');
    expect(validateConfigFile({ configPath: path, env })).toEqual([
      `Invalid size for 'cache_max_bytes': expected a number of bytes or a size like "10GiB", got "-1"`,
      `Invalid glob for 'prefetch': '..' is not allowed in "../etc/*"`,
      `Invalid log format for 'log_format': expected 'text' or 'json', got "yaml"`,
      `Invalid boolean for 'antares_purge_on_delete': expected 'true' or 'false', got "maybe"`,
    ]);
  });

  test("a relative config path is read relative to the CWD", () => {
    expect(validateConfigFile({ configPath: join("definitely", "not", "here.toml"), env })).toHaveLength(1);
  });
});
