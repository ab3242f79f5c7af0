/**
 * @module util/log — structured logging to stderr.
 *
 * Usage: `const log = logger("fuse"); log.info("mounted", { path });`
 * Levels: error < warn < info < debug < trace. The filter is a tracing-style directive list
 * (`info,fuse=debug,remote=trace`), set once at start by `configureLogging`.
 */

export type LogLevel = "error" | "warn" | "info" | "debug" | "trace";
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel | "off", number> = { off: 0, error: 1, warn: 2, info: 3, debug: 4, trace: 5 };

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  trace(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
}

interface Filter {
  defaultRank: number;
  targets: Array<{ prefix: string; rank: number }>;
}

let filter: Filter = { defaultRank: RANK.info, targets: [] };
let jsonFormat = false;
let sink: (line: string) => void = (line) => process.stderr.write(line + "\n");

/** Parses `info,fuse=debug` style directives. Throws on an unknown level so config validation can name it. */
export function parseLogDirectives(spec: string): Filter {
  const out: Filter = { defaultRank: RANK.info, targets: [] };
  for (const raw of spec.split(",")) {
    const part = raw.trim();
    if (!part) continue;
    const eq = part.indexOf("=");
    const levelText = (eq < 0 ? part : part.slice(eq + 1)).trim().toLowerCase();
    const rank = levelRank(levelText);
    if (rank === undefined) {
      if (eq < 0) {
        // A bare target name means "everything from it" (tracing semantics).
        out.targets.push({ prefix: normalizeTarget(part), rank: RANK.trace });
        continue;
      }
      throw new Error(`invalid log level '${levelText}' in directive '${part}'`);
    }
    if (eq < 0) out.defaultRank = rank;
    else out.targets.push({ prefix: normalizeTarget(part.slice(0, eq)), rank });
  }
  // Longest prefix wins.
  out.targets.sort((a, b) => b.prefix.length - a.prefix.length);
  return out;
}

/** Top-level log targets the code uses (`logger("fuse")`, `logger("server/workspace")`, ...). */
export const LOG_TARGETS = ["antares", "cli", "config", "devserver", "dicfuse", "fuse", "overlay", "remote", "server", "store", "vcs"] as const;

/**
 * Bare words of a directive that are neither a level nor a known target: `verbose` parses (tracing reads
 * it as a target name) but selects nothing, which is never what the user meant.
 */
export function unknownDirectiveTargets(spec: string): string[] {
  const out: string[] = [];
  for (const raw of spec.split(",")) {
    const part = raw.trim();
    if (!part) continue;
    const eq = part.indexOf("=");
    const target = normalizeTarget(eq < 0 ? part : part.slice(0, eq)).split("/")[0]!;
    if (eq < 0 && levelRank(part.toLowerCase()) !== undefined) continue;
    if (target !== "" && !(LOG_TARGETS as readonly string[]).includes(target)) out.push(part);
  }
  return out;
}

/** A level name (any case) or, as in tracing's `LevelFilter`, a number 0 (off) to 5 (trace). */
function levelRank(text: string): number | undefined {
  if (/^[0-5]$/.test(text)) return Number(text);
  return Object.hasOwn(RANK, text) ? RANK[text as LogLevel | "off"] : undefined;
}

function normalizeTarget(t: string): string {
  // Accept Rust-style `scorpio::fuse` as well as `fuse`.
  return t.trim().replace(/^scorpio(::|\/|\.)?/, "").replace(/::/g, "/");
}

export function configureLogging(opts: { directives?: string; json?: boolean; sink?: (line: string) => void }): void {
  if (opts.directives !== undefined) filter = parseLogDirectives(opts.directives);
  if (opts.json !== undefined) jsonFormat = opts.json;
  if (opts.sink) sink = opts.sink;
}

function rankFor(target: string): number {
  for (const t of filter.targets) if (target === t.prefix || target.startsWith(t.prefix + "/") || t.prefix === "") return t.rank;
  return filter.defaultRank;
}

// Control characters (C0, DEL, C1) and the Unicode line separators: request fields must not be able to
// forge log lines or send escape sequences to an operator's terminal.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;

/** Text lines: `\xHH` (`\u2028`) for every control character, so one event is one printable line. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16)}` : `\\x${code.toString(16).padStart(2, "0")}`;
  });
}

/** JSON lines: JSON.stringify escapes C0 but leaves DEL, C1 and U+2028/9 raw; `\u00HH` keeps it valid JSON. */
function escapeJsonControls(json: string): string {
  return json.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function render(level: LogLevel, target: string, msg: string, fields?: LogFields): string {
  const ts = new Date().toISOString();
  if (jsonFormat) return escapeJsonControls(JSON.stringify({ ts, level, target, msg, ...fields }, jsonReplacer));
  let line = `${ts} ${level.toUpperCase().padStart(5)} ${target}: ${msg}`;
  if (fields) for (const [k, v] of Object.entries(fields)) line += ` ${k}=${formatValue(v)}`;
  return escapeControls(line);
}

function jsonReplacer(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Error) return { name: v.name, message: v.message };
  return v;
}

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === "string") return /[\s"=]/.test(v) || v === "" ? JSON.stringify(v) : v;
  if (typeof v === "bigint") return v.toString();
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}

/** The last lines written, for diagnostic bundles (`GET /api/v1/logs`): bounded, a few hundred KiB at most. */
const RECENT_MAX = 2000;
const recent: string[] = [];

/** The most recent `max` log lines this process wrote (already escaped), oldest first. */
export function recentLogLines(max = RECENT_MAX): string[] {
  return recent.slice(-Math.min(RECENT_MAX, Math.max(0, max)));
}

export function logger(target: string): Logger {
  const emit = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (RANK[level] > rankFor(target)) return;
    const line = render(level, target, msg, fields);
    recent.push(line);
    // Trimmed in chunks so a line costs O(1) on average.
    if (recent.length > 2 * RECENT_MAX) recent.splice(0, recent.length - RECENT_MAX);
    sink(line);
  };
  return {
    error: emit("error"),
    warn: emit("warn"),
    info: emit("info"),
    debug: emit("debug"),
    trace: emit("trace"),
    enabled: (level) => RANK[level] <= rankFor(target),
  };
}
