import { afterAll, describe, expect, test } from "bun:test";
import { initLogging, resolveLogFilter } from "../../src/config/index.ts";
import { configureLogging, logger, parseLogDirectives } from "../../src/util/log.ts";

afterAll(() => configureLogging({ directives: "info", json: false, sink: (l) => process.stderr.write(l + "\n") }));

describe("resolveLogFilter precedence: --log-level > SCORPIO_LOG > RUST_LOG > log_level > info", () => {
  const config = { log_level: "error" };
  const env = { SCORPIO_LOG: "warn", RUST_LOG: "trace" };
  test("each level wins over the ones below", () => {
    expect(resolveLogFilter({ cliLevel: "debug", env, config })).toBe("debug");
    expect(resolveLogFilter({ env, config })).toBe("warn");
    expect(resolveLogFilter({ env: { RUST_LOG: "trace" }, config })).toBe("trace");
    expect(resolveLogFilter({ env: {}, config })).toBe("error");
    expect(resolveLogFilter({ env: {} })).toBe("info");
  });
  test("blank values fall through", () => {
    expect(resolveLogFilter({ cliLevel: " ", env: { SCORPIO_LOG: "", RUST_LOG: "  " }, config: { log_level: "" } })).toBe("info");
    expect(resolveLogFilter({ cliLevel: "", env: { SCORPIO_LOG: "", RUST_LOG: "debug" }, config })).toBe("debug");
  });
  test("SCORPIO_LOG_LEVEL is the config key's env form, not the filter", () => {
    expect(resolveLogFilter({ env: { SCORPIO_LOG_LEVEL: "trace" }, config })).toBe("error");
  });
});

describe("parseLogDirectives", () => {
  test("default level and per-target levels, longest prefix first", () => {
    const f = parseLogDirectives("warn,fuse=debug,fuse/ops=trace,scorpio::remote=error");
    expect(f.defaultRank).toBe(2);
    expect(f.targets).toEqual([
      { prefix: "fuse/ops", rank: 5 },
      { prefix: "remote", rank: 1 },
      { prefix: "fuse", rank: 4 },
    ]);
  });
  test("case-insensitive names, numeric levels, off, bare targets", () => {
    expect(parseLogDirectives("DEBUG").defaultRank).toBe(4);
    expect(parseLogDirectives("2").defaultRank).toBe(2);
    expect(parseLogDirectives("off").defaultRank).toBe(0);
    expect(parseLogDirectives("store").targets).toEqual([{ prefix: "store", rank: 5 }]);
    expect(parseLogDirectives(" , info ,").defaultRank).toBe(3);
  });
  test("unknown levels are errors that name the directive", () => {
    expect(() => parseLogDirectives("info,fuse=loud")).toThrow("invalid log level 'loud' in directive 'fuse=loud'");
    expect(() => parseLogDirectives("fuse=constructor")).toThrow("invalid log level 'constructor'");
    expect(() => parseLogDirectives("fuse=9")).toThrow();
  });
});

describe("initLogging", () => {
  test("invalid filter: the original's notice, then info", () => {
    const notices: string[] = [];
    const lines: string[] = [];
    const used = initLogging({ cliLevel: "fuse=loud", env: {}, notice: (l) => notices.push(l), sink: (l) => lines.push(l) });
    expect(used).toBe("info");
    expect(notices).toEqual([`invalid log filter "fuse=loud" (invalid log level 'loud' in directive 'fuse=loud'); falling back to "info"`]);
    const log = logger("fuse");
    log.debug("hidden");
    log.info("shown");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("shown");
  });

  test("log_format json gives one JSON object per line; per-target filter applies", () => {
    const lines: string[] = [];
    initLogging({ env: { SCORPIO_LOG: "warn,store=debug" }, config: { log_level: "info", log_format: "json" }, sink: (l) => lines.push(l) });
    logger("store").debug("kept", { n: 1 });
    logger("fuse").info("dropped");
    expect(lines).toHaveLength(1);
    const obj = JSON.parse(lines[0]!);
    expect(obj).toMatchObject({ level: "debug", target: "store", msg: "kept", n: 1 });
  });
});
