/**
 * @module config/kinds — the value types a key can have and how a raw string becomes one. Every level
 * (CLI, env, file scalars) is reduced to a string first and parsed here, so a value means the same thing
 * wherever it was written. Error texts keep the original's shapes because tests and users grep them.
 */
import { rustDebugString } from "./rust-debug.ts";
import { parseByteSize } from "../util/size.ts";
import type { LogFormat, OverlayEngineMode, StatMode } from "./types.ts";

/** Value type of each kind of key. */
export interface KindValue {
  string: string;
  path: string;
  url: string;
  directive: string;
  secret: string;
  bool: boolean;
  usize: number;
  u64: number;
  u32: number;
  stat_mode: StatMode;
  log_format: LogFormat;
  size: number;
  globs: readonly string[];
  overlay_engine: OverlayEngineMode;
}
export type Kind = keyof KindValue;

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const INT_MAX: Record<"usize" | "u64" | "u32", bigint> = {
  // JS numbers are exact only up to 2^53 - 1; refusing more is safer than silently rounding.
  usize: BigInt(Number.MAX_SAFE_INTEGER),
  u64: BigInt(Number.MAX_SAFE_INTEGER),
  u32: 4294967295n,
};

/** Rust's `str::parse::<uN>()`: optional `+`, ASCII digits only, same error wording. */
function parseUnsigned(raw: string, flat: string, kind: "usize" | "u64" | "u32"): Parsed<number> {
  const text = raw.trim();
  const digits = text.startsWith("+") ? text.slice(1) : text;
  let reason: string | undefined;
  if (text === "") reason = "cannot parse integer from empty string";
  else if (!/^[0-9]+$/.test(digits)) reason = "invalid digit found in string";
  else if (BigInt(digits) > INT_MAX[kind]) reason = "number too large to fit in target type";
  if (reason) return { ok: false, message: `Invalid value for '${flat}': ${rustDebugString(raw)} is not a valid ${kind} (${reason})` };
  return { ok: true, value: Number(digits) };
}

function parseChoice<T extends string>(raw: string, flat: string, choices: readonly [T, T, ...T[]], what: string): Parsed<T> {
  const v = raw.trim().toLowerCase();
  if ((choices as readonly string[]).includes(v)) return { ok: true, value: v as T };
  return {
    ok: false,
    message: `Invalid ${what} for '${flat}': expected ${choices.slice(0, -1).map((c) => `'${c}'`).join(", ")} or '${choices[choices.length - 1]}', got ${rustDebugString(v)}`,
  };
}

/** A size through the one parser shared with the CLI (util/size): every unit is a power of 1024. */
function parseSize(raw: string, flat: string): Parsed<number> {
  const value = parseByteSize(raw);
  if (value === undefined) {
    return {
      ok: false,
      message: `Invalid size for '${flat}': expected a number of bytes or a size like "10GiB", got ${rustDebugString(raw.trim())}`,
    };
  }
  return { ok: true, value };
}

/**
 * Splits a comma-separated glob list (env and CLI form of `prefetch`). Commas inside `{a,b}` belong to the
 * glob, so only top-level commas separate.
 */
export function splitGlobList(raw: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of raw) {
    if (ch === "{") depth++;
    else if (ch === "}" && depth > 0) depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== "");
}

/** Checks one glob; returns a problem text or undefined. */
export function globProblem(glob: string, flat: string): string | undefined {
  let depth = 0;
  for (const ch of glob) {
    if (ch === "{") depth++;
    else if (ch === "}") depth--;
    if (depth < 0) break;
  }
  if (depth !== 0) return `Invalid glob for '${flat}': unbalanced braces in ${rustDebugString(glob)}`;
  if (glob.split("/").includes("..")) return `Invalid glob for '${flat}': '..' is not allowed in ${rustDebugString(glob)}`;
  return undefined;
}

function parseGlobs(raw: string, flat: string): Parsed<readonly string[]> {
  const globs = splitGlobList(raw);
  for (const g of globs) {
    const p = globProblem(g, flat);
    if (p) return { ok: false, message: p };
  }
  return { ok: true, value: globs };
}

type Parser<K extends Kind> = (raw: string, flat: string) => Parsed<KindValue[K]>;

const identity = (raw: string): Parsed<string> => ({ ok: true, value: raw });
const trimmed = (raw: string): Parsed<string> => ({ ok: true, value: raw.trim() });

export const PARSERS: { [K in Kind]: Parser<K> } = {
  string: identity,
  secret: trimmed,
  directive: trimmed,
  path: trimmed,
  url: trimmed,
  bool: (raw, flat) => {
    const v = raw.trim().toLowerCase();
    if (v === "true") return { ok: true, value: true };
    if (v === "false") return { ok: true, value: false };
    return { ok: false, message: `Invalid boolean for '${flat}': expected 'true' or 'false', got ${rustDebugString(v)}` };
  },
  usize: (raw, flat) => parseUnsigned(raw, flat, "usize"),
  u64: (raw, flat) => parseUnsigned(raw, flat, "u64"),
  u32: (raw, flat) => parseUnsigned(raw, flat, "u32"),
  stat_mode: (raw, flat) => parseChoice(raw, flat, ["fast", "accurate"] as const, "stat mode"),
  log_format: (raw, flat) => parseChoice(raw, flat, ["text", "json"] as const, "log format"),
  size: parseSize,
  globs: parseGlobs,
  overlay_engine: (raw, flat) => parseChoice(raw, flat, ["auto", "kernel-overlayfs", "fuse-overlay"] as const, "overlay engine"),
};

/** Human name of a kind for docs. */
export const KIND_DOC: Record<Kind, string> = {
  string: "string",
  secret: "string (secret)",
  directive: "log filter directive",
  path: "path",
  url: "URL (http/https)",
  bool: "bool",
  usize: "integer",
  u64: "integer",
  u32: "integer",
  stat_mode: "`fast` | `accurate`",
  log_format: "`text` | `json`",
  size: "size (bytes or `10GiB`; K/M/G/T are powers of 1024, `10GB` = `10GiB`)",
  globs: "list of globs",
  overlay_engine: "`auto` | `kernel-overlayfs` | `fuse-overlay`",
};
