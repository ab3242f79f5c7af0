import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { ConfigError, EMPTY_RUNTIME_STATE_TEXT, initConfig } from "../../src/config/index.ts";
import { TempDir } from "./helpers.ts";

const tmp = new TempDir();
afterAll(() => tmp.cleanup());

describe("initConfig", () => {
  test("creates every runtime directory and the runtime state file", () => {
    const env = { HOME: tmp.join("home"), XDG_DATA_HOME: tmp.join("data"), XDG_STATE_HOME: tmp.join("state") };
    const { config, warnings } = initConfig({ configPath: tmp.file(""), env });
    expect(warnings).toEqual([]);
    for (const dir of [config.workspace, config.store_path, config.antares_upper_root, config.antares_cl_root, config.antares_mount_root]) {
      expect(statSync(dir).isDirectory()).toBe(true);
    }
    expect(statSync(tmp.join("state", "scorpio", "antares")).isDirectory()).toBe(true);
    expect(existsSync(config.antares_state_file)).toBe(false);
    expect(readFileSync(config.config_file, "utf8")).toBe("works = []\n");
    expect(EMPTY_RUNTIME_STATE_TEXT).toBe("works = []\n");
  });

  test("keeps an existing runtime state file", () => {
    const stateFile = tmp.join("keep", "runtime.toml");
    mkdirSync(tmp.join("keep"), { recursive: true });
    const content = '[[works]]\npath = "a"\nnode = 2\nhash = "h"\n';
    writeFileSync(stateFile, content);
    const root = tmp.join("keep-root");
    initConfig({
      configPath: tmp.file(`config_file = "${stateFile}"\n`),
      env: { HOME: root, XDG_DATA_HOME: `${root}/d`, XDG_STATE_HOME: `${root}/s` },
    });
    expect(readFileSync(stateFile, "utf8")).toBe(content);
  });

  test("CLI overrides decide which directories are created", () => {
    const upper = tmp.join("cli-upper");
    const { config } = initConfig({
      configPath: tmp.file('[antares]\nupper_root = "/nonexistent-should-not-be-used"\n'),
      overrides: { antares_upper_root: upper },
      env: { HOME: tmp.join("h2"), XDG_DATA_HOME: tmp.join("d2"), XDG_STATE_HOME: tmp.join("s2") },
    });
    expect(config.antares_upper_root).toBe(upper);
    expect(statSync(upper).isDirectory()).toBe(true);
  });

  test("a directory that cannot be created is a ConfigError naming it", () => {
    const blocker = tmp.file("a regular file", "blocker");
    let err: unknown;
    try {
      initConfig({
        configPath: tmp.file(`store_path = "${blocker}/store"\n`),
        env: { HOME: tmp.join("h3"), XDG_DATA_HOME: tmp.join("d3"), XDG_STATE_HOME: tmp.join("s3") },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`Failed to create directory ${blocker}/store: Not a directory (os error 20)`);
  });

  test("a state file that cannot be created is a ConfigError", () => {
    if (process.getuid?.() === 0) {
      // Root ignores directory permissions; use a path whose parent is a file instead.
      const blocker = tmp.file("x", "blocker2");
      const root = tmp.join("h4");
      expect(() =>
        initConfig({
          configPath: tmp.file(`config_file = "${blocker}/sub/state.toml"\n`),
          env: { HOME: root, XDG_DATA_HOME: `${root}/d`, XDG_STATE_HOME: `${root}/s` },
        }),
      ).toThrow(ConfigError);
      return;
    }
    const ro = tmp.join("ro");
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    const root = tmp.join("h5");
    expect(() =>
      initConfig({
        configPath: tmp.file(`config_file = "${ro}/state.toml"\n`),
        env: { HOME: root, XDG_DATA_HOME: `${root}/d`, XDG_STATE_HOME: `${root}/s` },
      }),
    ).toThrow(`Failed to create state file '${ro}/state.toml': Permission denied (os error 13)`);
    chmodSync(ro, 0o755);
  });
});
