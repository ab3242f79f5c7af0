import { afterAll, describe, expect, test } from "bun:test";
import { isConfigKey, loadConfig, renderConfigShow, renderConfigValue } from "../../src/config/index.ts";
import { TempDir } from "./helpers.ts";

const tmp = new TempDir();
afterAll(() => tmp.cleanup());
const env = { HOME: "/home/alice" };

describe("config show", () => {
  test("defaults render as the original's Debug dump, new keys appended", () => {
    const { config } = loadConfig({ configPath: tmp.file(""), env });
    expect(renderConfigShow(config)).toBe(`ScorpioConfig {
    base_url: "http://localhost:8000",
    workspace: "/home/alice/.local/share/scorpio/mount",
    store_path: "/home/alice/.local/share/scorpio/store",
    git_author: "MEGA",
    git_email: "admin@mega.org",
    config_file: "/home/alice/.local/state/scorpio/runtime.toml",
    lfs_url: "http://localhost:8000/info/lfs",
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
    dicfuse_stat_mode: Accurate,
    dicfuse_open_buff_max_bytes: 268435456,
    dicfuse_open_buff_max_files: 4096,
    antares_load_dir_depth: 3,
    antares_dicfuse_dir_sync_ttl_secs: 120,
    antares_dicfuse_reply_ttl_secs: 60,
    antares_dicfuse_stat_mode: Fast,
    antares_dicfuse_open_buff_max_bytes: 67108864,
    antares_dicfuse_open_buff_max_files: 1024,
    antares_upper_root: "/home/alice/.local/share/scorpio/antares/upper",
    antares_cl_root: "/home/alice/.local/share/scorpio/antares/cl",
    antares_mount_root: "/home/alice/.local/share/scorpio/antares/mnt",
    antares_state_file: "/home/alice/.local/state/scorpio/antares/state.toml",
    cache_max_bytes: 10737418240,
    prefetch: [],
    log_format: Text,
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
}`);
  });

  test("strings are escaped like Rust Debug, lists span lines, the token is redacted", () => {
    const { config } = loadConfig({
      configPath: tmp.file('git_author = "A \\"B\\" \\\\ C\\u001b"\nprefetch = ["x/**", "y"]\nlog_format = "json"\n'),
      env: { ...env, SCORPIO_HTTP_TOKEN: "s3cret" },
    });
    const out = renderConfigShow(config);
    expect(out).toContain('    git_author: "A \\"B\\" \\\\ C\\u{1b}",\n');
    expect(out).toContain('    prefetch: [\n        "x/**",\n        "y",\n    ],\n');
    expect(out).toContain("    log_format: Json,\n");
    expect(out).toContain('    http_token: "<redacted>",\n');
    expect(out).not.toContain("s3cret");
  });
});

describe("config get helpers", () => {
  test("isConfigKey knows flat keys only", () => {
    expect(isConfigKey("load_dir_depth")).toBe(true);
    expect(isConfigKey("stat_mode")).toBe(false);
    expect(isConfigKey("toString")).toBe(false);
  });
  test("renderConfigValue prints plain values", () => {
    const { config } = loadConfig({
      configPath: tmp.file('prefetch = ["a/**", "b"]\n'),
      env: { ...env, SCORPIO_HTTP_TOKEN: "tok" },
    });
    expect(renderConfigValue(config, "workspace")).toBe("/home/alice/.local/share/scorpio/mount");
    expect(renderConfigValue(config, "prefetch")).toBe("a/**,b");
    expect(renderConfigValue(config, "dicfuse_stat_mode")).toBe("accurate");
    expect(renderConfigValue(config, "load_dir_depth")).toBe("3");
    expect(renderConfigValue(config, "http_token")).toBe("<redacted>");
  });
});
