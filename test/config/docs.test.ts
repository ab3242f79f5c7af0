import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import TOML from "@iarna/toml";
import { CONFIG_TEMPLATE, KEY_NAMES, envName, loadConfig, renderExample } from "../../src/config/index.ts";
import { spliceKeyReference } from "../../src/config/template.ts";
import { TempDir } from "./helpers.ts";

const root = join(import.meta.dir, "..", "..");
const tmp = new TempDir();
afterAll(() => tmp.cleanup());
const env = { HOME: "/home/bob" };

describe("generated docs and templates match the key table", () => {
  test("scorpio.toml.example is up to date", () => {
    expect(readFileSync(join(root, "scorpio.toml.example"), "utf8")).toBe(renderExample());
  });

  test("docs/configuration.md key table is up to date and lists every key with its env var", () => {
    const doc = readFileSync(join(root, "docs", "configuration.md"), "utf8");
    expect(doc).toBe(spliceKeyReference(doc));
    for (const name of KEY_NAMES) {
      expect(doc).toContain(`| \`${name}\` |`);
      expect(doc).toContain(`\`${envName(name)}\``);
    }
  });

  test("the example mentions every key and, uncommented, loads to the defaults", () => {
    const example = renderExample();
    for (const name of KEY_NAMES) expect(example).toContain(`# ${name} = `);
    const uncommented = example
      .split("# ---- The same settings in section form")[0]!
      .split("\n")
      .filter((l) => /^# [a-z_]+ = /.test(l))
      .map((l) => l.slice(2))
      .join("\n");
    const defaults = loadConfig({ configPath: tmp.file(""), env }).config;
    const fromExample = loadConfig({ configPath: tmp.file(uncommented), env });
    expect(fromExample.warnings).toEqual([]);
    expect(fromExample.config).toEqual(defaults);
  });

  test("the config init template is valid TOML and loads to the defaults", () => {
    expect(() => TOML.parse(CONFIG_TEMPLATE)).not.toThrow();
    expect(CONFIG_TEMPLATE).toContain('base_url = "http://localhost:8000"');
    expect(CONFIG_TEMPLATE).toContain('# lfs_url = "http://localhost:8000/info/lfs"');
    const { config, warnings } = loadConfig({ configPath: tmp.file(CONFIG_TEMPLATE), env });
    expect(warnings).toEqual([]);
    expect(config).toEqual(loadConfig({ configPath: tmp.file(""), env }).config);
  });
});
