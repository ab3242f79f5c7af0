import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { ConfigError, readRuntimeState, writeRuntimeState, type RuntimeState } from "../../src/config/index.ts";
import { TempDir } from "./helpers.ts";

const tmp = new TempDir();
afterAll(() => tmp.cleanup());

describe("runtime state file", () => {
  test("missing file reads as no works", () => {
    expect(readRuntimeState(tmp.join("none.toml"))).toEqual({ works: [] });
  });

  test("empty state is written exactly as the original did", () => {
    const p = tmp.join("empty.toml");
    writeRuntimeState(p, { works: [] });
    expect(readFileSync(p, "utf8")).toBe("works = []\n");
    expect(readRuntimeState(p)).toEqual({ works: [] });
  });

  test("round trip with works and a daemon record; layout matches the toml serializer", () => {
    const p = tmp.join("full.toml");
    const state: RuntimeState = {
      works: [
        { path: "third-party/mega/scorpio", node: 42, hash: "6f1ed002ab5595859014ebf0951522d9" },
        { path: 'odd "name"\\with\ttab', node: 9007199254740991, hash: "" },
      ],
      daemon: { http_addr: "127.0.0.1:2725", pid: 4321, started_at: "2025-01-01T10:00:00.000Z" },
    };
    writeRuntimeState(p, state);
    expect(readFileSync(p, "utf8")).toBe(
      '[[works]]\npath = "third-party/mega/scorpio"\nnode = 42\nhash = "6f1ed002ab5595859014ebf0951522d9"\n\n' +
        '[[works]]\npath = "odd \\"name\\"\\\\with\\ttab"\nnode = 9007199254740991\nhash = ""\n\n' +
        '[daemon]\nhttp_addr = "127.0.0.1:2725"\npid = 4321\nstarted_at = "2025-01-01T10:00:00.000Z"\n',
    );
    expect(readRuntimeState(p)).toEqual(state);
  });

  test("no works but a daemon record", () => {
    const p = tmp.join("daemon-only.toml");
    const state: RuntimeState = { works: [], daemon: { http_addr: "[::1]:2725", pid: 1, started_at: "now" } };
    writeRuntimeState(p, state);
    expect(readFileSync(p, "utf8").startsWith("works = []\n\n[daemon]\n")).toBe(true);
    expect(readRuntimeState(p)).toEqual(state);
  });

  test("atomic overwrite replaces the content and leaves no temp files", () => {
    const dir = tmp.join("atomic");
    const p = `${dir}/state.toml`;
    writeRuntimeState(p, { works: [{ path: "old", node: 1, hash: "h1" }] });
    writeRuntimeState(p, { works: [{ path: "new", node: 2, hash: "h2" }] });
    expect(readRuntimeState(p).works).toEqual([{ path: "new", node: 2, hash: "h2" }]);
    expect(readdirSync(dir)).toEqual(["state.toml"]);
  });

  test("reads the original's inline form", () => {
    const p = tmp.file('works = [{ path = "/path/to/work1", hash = "hash1", node = 7 }]\n');
    expect(readRuntimeState(p)).toEqual({ works: [{ path: "/path/to/work1", node: 7, hash: "hash1" }] });
  });

  const corrupt: Array<[string, string]> = [
    ["works = [", "invalid runtime state file"],
    ['works = "x"', "works must be an array"],
    ['[[works]]\npath = "a"\nhash = "h"\n', "works[0].node must be a non-negative integer"],
    ['[[works]]\npath = "a"\nnode = -1\nhash = "h"\n', "works[0].node must be a non-negative integer"],
    ['[[works]]\npath = 1\nnode = 1\nhash = "h"\n', "works[0].path must be a string"],
    ["works = []\n[daemon]\npid = 3\n", "daemon.http_addr must be a non-empty string"],
    ['works = []\n[daemon]\nhttp_addr = "x"\npid = 0\nstarted_at = "t"\n', "daemon.pid must be a positive integer"],
  ];
  for (const [text, expected] of corrupt) {
    test(`corrupt file is a ConfigError: ${expected}`, () => {
      const p = tmp.file(text);
      let err: unknown;
      try { readRuntimeState(p); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe("config_file");
      expect((err as Error).message).toContain(`'${p}'`);
      expect((err as Error).message).toContain(expected);
    });
  }

  test("a directory in place of the file is a ConfigError, not a crash", () => {
    expect(() => readRuntimeState(tmp.path)).toThrow(ConfigError);
  });

  test("refuses to write an invalid node", () => {
    const p = tmp.join("bad-node.toml");
    writeFileSync(p, "works = []\n");
    expect(() => writeRuntimeState(p, { works: [{ path: "a", node: -1, hash: "" }] })).toThrow(ConfigError);
    expect(readFileSync(p, "utf8")).toBe("works = []\n");
  });
});
