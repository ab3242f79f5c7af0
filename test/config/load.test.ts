import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, KEY_NAMES, KEYS, envName, loadConfig, type KeyName, type ScorpioConfig } from "../../src/config/index.ts";
import { BOUND_ORDER } from "../../src/config/keys.ts";
import { TempDir, baseEnv } from "./helpers.ts";

const tmp = new TempDir();
afterAll(() => tmp.cleanup());
const HOME = "/home/tester";
const env = baseEnv(HOME);

/** Distinct valid values for one key at each level; each differs from the level below and from the default. */
function samples(name: KeyName): { cli: [string, unknown]; env: [string, unknown]; file: [string, unknown] } {
  const spec = KEYS[name];
  switch (spec.kind) {
    case "url":
      return { cli: ["http://cli.example", "http://cli.example"], env: ["http://env.example/", "http://env.example"], file: ["https://file.example", "https://file.example"] };
    case "path":
      return { cli: ["/cli/p", "/cli/p"], env: ["~/env/p", `${HOME}/env/p`], file: ["/file/p", "/file/p"] };
    case "directive":
      return { cli: ["debug", "debug"], env: ["warn", "warn"], file: ["error", "error"] };
    case "string":
    case "secret":
      return { cli: ["cli-v", "cli-v"], env: ["env-v", "env-v"], file: ["file-v", "file-v"] };
    case "bool": {
      const d = spec.default as boolean;
      return { cli: [String(!d), !d], env: [String(d).toUpperCase(), d], file: [String(!d), !d] };
    }
    case "stat_mode": {
      const d = spec.default as string;
      const o = d === "fast" ? "accurate" : "fast";
      return { cli: [o, o], env: [` ${d.toUpperCase()} `, d], file: [o, o] };
    }
    case "log_format":
      return { cli: ["json", "json"], env: ["text", "text"], file: ["JSON", "json"] };
    case "overlay_engine":
      return { cli: ["fuse-overlay", "fuse-overlay"], env: [" KERNEL-OVERLAYFS ", "kernel-overlayfs"], file: ["fuse-overlay", "fuse-overlay"] };
    case "usize":
    case "u64":
    case "u32":
      return { cli: ["11", 11], env: ["+12", 12], file: ["13", 13] };
    case "size":
      return { cli: ["1KiB", 1024], env: ["2048", 2048], file: ["3M", 3 * 1024 * 1024] };
    case "globs":
      return { cli: ["a/**", ["a/**"]], env: ["b/*, {c,d}/e", ["b/*", "{c,d}/e"]], file: ["f/**", ["f/**"]] };
  }
}

function fileLine(name: KeyName, raw: string, form: "flat" | "section"): string {
  const spec = KEYS[name];
  const key = form === "flat" ? name : spec.short;
  const text = `${key} = ${JSON.stringify(raw)}`;
  return form === "flat" ? text + "\n" : `[${spec.section}]\n${text}\n`;
}

function load(text: string, overrides: Record<string, string> = {}, extraEnv: Record<string, string> = {}) {
  return loadConfig({ configPath: tmp.file(text), overrides, env: { ...env, ...extraEnv } });
}

describe("precedence CLI > env > file > default, for every key", () => {
  for (const name of KEY_NAMES) {
    for (const form of ["flat", "section"] as const) {
      test(`${name} (${form} file form)`, () => {
        const s = samples(name);
        const file = fileLine(name, s.file[0], form);
        const ev = { [envName(name)]: s.env[0] };
        const get = (r: { config: ScorpioConfig }) => r.config[name];
        expect(get(load(file, { [name]: s.cli[0] }, ev))).toEqual(s.cli[1] as never);
        expect(get(load(file, {}, ev))).toEqual(s.env[1] as never);
        expect(get(load(file))).toEqual(s.file[1] as never);
        // Blank values at every level fall through to the default.
        const blank = load(fileLine(name, "  ", form), { [name]: "" }, { [envName(name)]: " " });
        const dflt = load("");
        expect(get(blank)).toEqual(get(dflt));
      });
    }
  }
});

describe("defaults", () => {
  test("every default, with per-user XDG directories", () => {
    const { config, warnings } = load("");
    expect(warnings).toEqual([]);
    const data = `${HOME}/.local/share/scorpio`;
    const state = `${HOME}/.local/state/scorpio`;
    expect({ ...config }).toEqual({
      base_url: "http://localhost:8000",
      lfs_url: "http://localhost:8000/info/lfs",
      workspace: `${data}/mount`,
      store_path: `${data}/store`,
      git_author: "MEGA",
      git_email: "admin@mega.org",
      config_file: `${state}/runtime.toml`,
      log_level: "info",
      dicfuse_readable: true,
      load_dir_depth: 3,
      fetch_file_thread: 10,
      dicfuse_import_concurrency: 4,
      dicfuse_dir_sync_ttl_secs: 5,
      dicfuse_reply_ttl_secs: 2,
      dicfuse_fetch_dir_timeout_secs: 10,
      dicfuse_connect_timeout_secs: 3,
      dicfuse_fetch_dir_max_retries: 3,
      dicfuse_stat_mode: "accurate",
      dicfuse_open_buff_max_bytes: 268435456,
      dicfuse_open_buff_max_files: 4096,
      antares_load_dir_depth: 3,
      antares_dicfuse_dir_sync_ttl_secs: 120,
      antares_dicfuse_reply_ttl_secs: 60,
      antares_dicfuse_stat_mode: "fast",
      antares_dicfuse_open_buff_max_bytes: 67108864,
      antares_dicfuse_open_buff_max_files: 1024,
      antares_upper_root: `${data}/antares/upper`,
      antares_cl_root: `${data}/antares/cl`,
      antares_mount_root: `${data}/antares/mnt`,
      antares_state_file: `${state}/antares/state.toml`,
      cache_max_bytes: 10 * 1024 ** 3,
      prefetch: [],
      log_format: "text",
      antares_purge_on_delete: false,
      http_token: "",
      mount_allow_other: false,
      dicfuse_watch_interval_secs: 10,
      dicfuse_dir_readahead: 16,
      fuse_spin_micros: 200,
      antares_overlay_engine: "auto",
      antares_disk_max_use_percent: 92,
      antares_disk_warn_use_percent: 85,
      mega_token: "",
    });
  });

  test("XDG_DATA_HOME / XDG_STATE_HOME move the defaults; relative XDG values are ignored", () => {
    const a = load("", {}, { XDG_DATA_HOME: "/xdg/data", XDG_STATE_HOME: "/xdg/state" }).config;
    expect(a.workspace).toBe("/xdg/data/scorpio/mount");
    expect(a.antares_state_file).toBe("/xdg/state/scorpio/antares/state.toml");
    expect(a.config_file).toBe("/xdg/state/scorpio/runtime.toml");
    const b = load("", {}, { XDG_DATA_HOME: "relative/data" }).config;
    expect(b.store_path).toBe(`${HOME}/.local/share/scorpio/store`);
  });

  test("the config is frozen", () => {
    const { config } = load('prefetch = ["a"]');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.prefetch)).toBe(true);
  });
});

describe("file forms", () => {
  test("native TOML scalars are accepted", () => {
    const { config } = load("load_dir_depth = 7\ndicfuse_readable = false\ncache_max_bytes = 4096\n");
    expect(config.load_dir_depth).toBe(7);
    expect(config.dicfuse_readable).toBe(false);
    expect(config.cache_max_bytes).toBe(4096);
  });

  test("section form is read, and wins over the flat key with a visible warning", () => {
    const { config, warnings } = load(
      'load_dir_depth = 4\nantares_upper_root = "/flat"\n[dicfuse]\nload_dir_depth = 9\nstat_mode = "fast"\n[antares]\nupper_root = "/sect"\n',
    );
    expect(config.load_dir_depth).toBe(9);
    expect(config.dicfuse_stat_mode).toBe("fast");
    expect(config.antares_upper_root).toBe("/sect");
    expect(warnings).toContain(
      "config key 'load_dir_depth' set both as a flat key and as [dicfuse].load_dir_depth; using the [dicfuse] value (flat keys are deprecated)",
    );
    expect(warnings).toContain(
      "config key 'antares_upper_root' set both as a flat key and as [antares].upper_root; using the [antares] value (flat keys are deprecated)",
    );
    expect(warnings).toHaveLength(2);
  });

  test("an empty section value falls back to the flat key without a conflict warning", () => {
    const { config, warnings } = load('workspace = "/flat/ws"\n[server]\nworkspace = ""\n');
    expect(config.workspace).toBe("/flat/ws");
    expect(warnings).toEqual([]);
  });

  test("a section that is not a table is ignored with a warning", () => {
    const { config, warnings } = load('server = "x"\nbase_url = "http://flat.example"\n');
    expect(config.base_url).toBe("http://flat.example");
    expect(warnings).toEqual(["config section 'server' is not a table; ignoring it (flat keys still apply)"]);
  });

  test("unknown keys are ignored with a warning and a suggestion", () => {
    const { warnings } = load('laod_dir_depth = 5\nzzz = 1\n[dicfuse]\nstatmode = "fast"\n');
    expect(warnings).toEqual([
      "unknown config key 'laod_dir_depth' ignored (did you mean 'load_dir_depth'?)",
      "unknown config key 'zzz' ignored",
      "unknown config key '[dicfuse].statmode' ignored (did you mean 'stat_mode'?)",
    ]);
  });

  test("prefetch takes an array in the file and a comma list elsewhere", () => {
    expect(load('[dicfuse]\nprefetch = ["tools/**", " ", "*.md"]\n').config.prefetch).toEqual(["tools/**", "*.md"]);
    expect(load('prefetch = "a/**,b/{x,y}/*"\n').config.prefetch).toEqual(["a/**", "b/{x,y}/*"]);
  });

  test("cache_max_bytes accepts sizes with units", () => {
    const v = (s: string) => load(`cache_max_bytes = "${s}"`).config.cache_max_bytes;
    expect(v("10GiB")).toBe(10 * 1024 ** 3);
    expect(v("512M")).toBe(512 * 1024 ** 2);
    expect(v("0")).toBe(0);
  });

  test("sizes mean what they mean on the CLI: every unit is a power of 1024 (10GB = 10 GiB)", async () => {
    const v = (s: string) => load(`cache_max_bytes = "${s}"`).config.cache_max_bytes;
    const { parseSize } = await import("../../src/cli/format.ts");
    for (const text of ["2KB", "10GB", "10G", "10GiB", "1.5GiB", "3 MB", "512"]) expect(v(text)).toBe(parseSize(text));
    expect(v("10GB")).toBe(10 * 1024 ** 3);
  });

  test("paths: ~ is expanded and relative paths are made absolute against the CWD", () => {
    const { config } = load('workspace = "~/ws"\nstore_path = "rel/store"\nconfig_file = "state.toml"\n');
    expect(config.workspace).toBe(`${HOME}/ws`);
    expect(config.store_path).toBe(join(process.cwd(), "rel/store"));
    expect(config.config_file).toBe(join(process.cwd(), "state.toml"));
  });

  test("URL trailing slashes are removed", () => {
    const { config } = load('base_url = "http://mega.example:8000//"\nlfs_url = "https://mega.example/lfs/"\n');
    expect(config.base_url).toBe("http://mega.example:8000");
    expect(config.lfs_url).toBe("https://mega.example/lfs");
  });

  test("an unset lfs_url follows base_url ({base_url}/info/lfs, where Mega serves LFS)", () => {
    expect(load('base_url = "https://mega.example:8443/"\n').config.lfs_url).toBe("https://mega.example:8443/info/lfs");
    expect(load("", {}, { SCORPIO_BASE_URL: "http://env.example" }).config.lfs_url).toBe("http://env.example/info/lfs");
    expect(load('base_url = "http://a.example"\nlfs_url = ""\n').config.lfs_url).toBe("http://a.example/info/lfs");
    // An explicit value is kept as given, even the original's old default.
    expect(load('base_url = "http://a.example"\nlfs_url = "http://localhost:8000/lfs"\n').config.lfs_url).toBe("http://localhost:8000/lfs");
    expect(load("", {}, { SCORPIO_LFS_URL: "http://lfs.example/x" }).config.lfs_url).toBe("http://lfs.example/x");
  });
});

function loadError(text: string, overrides: Record<string, string> = {}, extraEnv: Record<string, string> = {}): ConfigError {
  try {
    load(text, overrides, extraEnv);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("fail-fast validation names the key", () => {
  test("every key with a bound is checked (a key missing from BOUND_ORDER would never be)", () => {
    const bounded = KEY_NAMES.filter((k) => KEYS[k].min !== undefined || KEYS[k].max !== undefined);
    expect([...bounded].sort()).toEqual([...BOUND_ORDER].sort());
  });

  const cases: Array<[string, string, string]> = [
    ['load_dir_depth = "abc"', "load_dir_depth", `Invalid value for 'load_dir_depth': "abc" is not a valid usize (invalid digit found in string)`],
    ['[dicfuse]\nload_dir_depth = "-1"', "load_dir_depth", `Invalid value for 'load_dir_depth': "-1" is not a valid usize (invalid digit found in string)`],
    ['dicfuse_dir_sync_ttl_secs = "1.5"', "dicfuse_dir_sync_ttl_secs", `Invalid value for 'dicfuse_dir_sync_ttl_secs': "1.5" is not a valid u64 (invalid digit found in string)`],
    ['dicfuse_fetch_dir_max_retries = "4294967296"', "dicfuse_fetch_dir_max_retries", `Invalid value for 'dicfuse_fetch_dir_max_retries': "4294967296" is not a valid u32 (number too large to fit in target type)`],
    ['dicfuse_readable = "Yes"', "dicfuse_readable", `Invalid boolean for 'dicfuse_readable': expected 'true' or 'false', got "yes"`],
    ['dicfuse_stat_mode = "Slow"', "dicfuse_stat_mode", `Invalid stat mode for 'dicfuse_stat_mode': expected 'fast' or 'accurate', got "slow"`],
    ['[dicfuse]\nload_dir_depth = [1, 2]', "load_dir_depth", `Invalid value for '[dicfuse].load_dir_depth': expected a scalar (string/number/bool), got an array`],
    ["workspace = { a = 1 }", "workspace", `Invalid value for 'workspace': expected a scalar (string/number/bool), got a table`],
    ["git_author = 1979-05-27T07:32:00Z", "git_author", `Invalid value for 'git_author': expected a scalar (string/number/bool), got a datetime`],
    ['base_url = "not a url"', "base_url", `Invalid URL for 'base_url': "not a url" (relative URL without a base)`],
    ['base_url = "ftp://x.example"', "base_url", `Invalid URL scheme for 'base_url': expected http/https, got "ftp" in "ftp://x.example"`],
    ['lfs_url = "http://"', "lfs_url", `Invalid URL for 'lfs_url': "http://" (empty host)`],
    // A bad base_url is one problem, not a second one for the lfs_url derived from it.
    ['base_url = "mega:8000"', "base_url", `Invalid URL scheme for 'base_url': expected http/https, got "mega" in "mega:8000"`],
    ['lfs_url = "http://host:99999"', "lfs_url", `Invalid URL for 'lfs_url': "http://host:99999" (invalid port number)`],
    ["fetch_file_thread = 0", "fetch_file_thread", "Invalid config 'fetch_file_thread': must be >= 1, got 0"],
    ['[antares]\nopen_buff_max_files = "0"', "antares_dicfuse_open_buff_max_files", "Invalid config 'antares_dicfuse_open_buff_max_files': must be >= 1, got 0"],
    ["dicfuse_connect_timeout_secs = 0", "dicfuse_connect_timeout_secs", "Invalid config 'dicfuse_connect_timeout_secs': must be >= 1, got 0"],
    ['log_format = "xml"', "log_format", `Invalid log format for 'log_format': expected 'text' or 'json', got "xml"`],
    ['cache_max_bytes = "10 parsecs"', "cache_max_bytes", `Invalid size for 'cache_max_bytes': expected a number of bytes or a size like "10GiB", got "10 parsecs"`],
    ["prefetch = [1]", "prefetch", "Invalid value for 'prefetch': expected a list of glob strings, got an element of type number"],
    ['prefetch = ["a/{b"]', "prefetch", `Invalid glob for 'prefetch': unbalanced braces in "a/{b"`],
    ['mount_allow_other = "1"', "mount_allow_other", `Invalid boolean for 'mount_allow_other': expected 'true' or 'false', got "1"`],
    ["[server]\nfuse_spin_micros = 20000", "fuse_spin_micros", "Invalid config 'fuse_spin_micros': must be <= 10000, got 20000"],
  ];
  for (const [text, key, message] of cases) {
    test(message, () => {
      const err = loadError(text);
      expect(err.message).toBe(message);
      expect(err.key).toBe(key);
      expect(err.problems[0]).toBe(message);
    });
  }

  test("an env value is reported under the flat key name", () => {
    const err = loadError("", {}, { SCORPIO_ANTARES_DICFUSE_STAT_MODE: "medium" });
    expect(err.message).toBe(`Invalid stat mode for 'antares_dicfuse_stat_mode': expected 'fast' or 'accurate', got "medium"`);
  });

  test("a higher level hides a bad lower level", () => {
    expect(load('load_dir_depth = "abc"', {}, { SCORPIO_LOAD_DIR_DEPTH: "5" }).config.load_dir_depth).toBe(5);
  });

  test("first error wins: parse errors before URL errors before bounds", () => {
    const err = loadError('fetch_file_thread = 0\nbase_url = "nope"\nantares_load_dir_depth = "x"\n');
    expect(err.key).toBe("antares_load_dir_depth");
    expect(err.problems).toHaveLength(3);
    expect(err.problems[1]).toContain("'base_url'");
    expect(err.problems[2]).toContain("'fetch_file_thread'");
  });

  test("missing file and bad TOML", () => {
    const missing = join(tmp.path, "does-not-exist.toml");
    expect(() => loadConfig({ configPath: missing, env })).toThrow(
      `Config file not found at '${missing}': No such file or directory (os error 2)`,
    );
    const bad = tmp.file("a = \n");
    let err: unknown;
    try { loadConfig({ configPath: bad, env }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg.startsWith(`Invalid config format in '${bad}': `)).toBe(true);
    expect(msg).toContain("row 1");
    expect(msg).not.toContain("\n");
    expect(() => loadConfig({ configPath: tmp.path, env })).toThrow(
      `Config file not found at '${tmp.path}': Is a directory (os error 21)`,
    );
  });
});

describe("secrets", () => {
  test("a token in a file readable by others is warned about", () => {
    const path = tmp.file('[server]\nhttp_token = "abc"\n');
    chmodSync(path, 0o644);
    const r = loadConfig({ configPath: path, env });
    expect(r.config.http_token).toBe("abc");
    expect(r.warnings).toEqual([
      `config file '${path}' sets http_token but is readable by other users; run 'chmod 600 ${path}' or use SCORPIO_HTTP_TOKEN`,
    ]);
    chmodSync(path, 0o600);
    expect(loadConfig({ configPath: path, env }).warnings).toEqual([]);
  });
});
