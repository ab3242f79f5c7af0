/**
 * @module config/resolve — turns (CLI overrides, env, file, defaults) into a `ScorpioConfig` plus the list of
 * problems, in the original's order. Never throws and never touches the disk: `load.ts` decides whether
 * problems are fatal (fail-fast load) or reported all at once (`config validate`).
 */
import { LOG_TARGETS, parseLogDirectives, unknownDirectiveTargets } from "../util/log.ts";
import type { Problem } from "./errors.ts";
import type { FileSource } from "./file-source.ts";
import { globProblem, PARSERS } from "./kinds.ts";
import {
  BOUND_ORDER, KEY_NAMES, VALIDATE_ORDER, defaultValue, envName, keySpec, type KeyName,
} from "./keys.ts";
import { defaultDirs, normalizePath, type Env } from "./paths.ts";
import { rustDebugString } from "./rust-debug.ts";
import type { ConfigOverrides, ScorpioConfig } from "./types.ts";
import { defaultLfsUrl, trimTrailingSlashes, urlProblem } from "./url-check.ts";

export interface ResolveOptions {
  overrides?: ConfigOverrides;
  env: Env;
  /** `load`: per-key problems in key-table order (fail-fast reports the first); `validate`: §2.5 order. */
  order: "load" | "validate";
  /** Working directory relative paths are resolved against. */
  cwd?: string;
}

export interface Resolution {
  config: ScorpioConfig;
  problems: Problem[];
  warnings: string[];
}

type Raw = { kind: "scalar"; raw: string } | { kind: "list"; items: unknown[]; where: string } | { kind: "invalid"; message: string };

/** The highest-precedence non-empty value for a key: CLI override > SCORPIO_* env > file > none. */
function pick(name: KeyName, file: FileSource, opts: ResolveOptions): Raw | undefined {
  const cli = opts.overrides?.[name];
  if (cli !== undefined && cli.trim() !== "") return { kind: "scalar", raw: cli };
  const env = opts.env[envName(name)];
  if (env !== undefined && env.trim() !== "") return { kind: "scalar", raw: env };
  const fv = file.lookup(name);
  return fv.kind === "absent" ? undefined : fv;
}

function listValue(name: KeyName, items: unknown[], where: string): { value?: string[]; problem?: string } {
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== "string") {
      return { problem: `Invalid value for '${where}': expected a list of glob strings, got an element of type ${Array.isArray(item) ? "array" : typeof item}` };
    }
    const g = item.trim();
    if (g === "") continue;
    const p = globProblem(g, name);
    if (p) return { problem: p };
    out.push(g);
  }
  return { value: out };
}

export function resolveConfig(file: FileSource, opts: ResolveOptions): Resolution {
  const dirs = defaultDirs(opts.env);
  const values: Record<string, unknown> = {};
  const parseProblems = new Map<KeyName, string>();

  for (const name of KEY_NAMES) {
    const spec = keySpec(name);
    const raw = pick(name, file, opts);
    let value: unknown = defaultValue(name, dirs);
    if (raw?.kind === "invalid") parseProblems.set(name, raw.message);
    else if (raw?.kind === "list") {
      const r = listValue(name, raw.items, raw.where);
      if (r.problem) parseProblems.set(name, r.problem);
      else value = r.value;
    } else if (raw?.kind === "scalar") {
      const parsed = PARSERS[spec.kind](raw.raw, name);
      // On failure the default stands in, so later checks still run (collect-all validation).
      if (parsed.ok) value = parsed.value;
      else parseProblems.set(name, parsed.message);
    }
    values[name] = value;
  }

  const problems: Problem[] = [];
  const parseOrder = opts.order === "validate" ? VALIDATE_ORDER : KEY_NAMES;
  for (const name of parseOrder) {
    const message = parseProblems.get(name);
    if (message) problems.push({ message, key: name });
  }

  // An unset lfs_url follows base_url: Mega serves LFS under {base_url}/info/lfs (the original's fixed
  // default `…/lfs` is a 404 there). Derived only from a usable base_url, so one typo is one problem.
  const lfsDerived = pick("lfs_url", file, opts) === undefined;
  for (const name of ["base_url", "lfs_url"] as const) {
    if (name === "lfs_url" && lfsDerived) {
      values.lfs_url = defaultLfsUrl(values.base_url as string);
      continue;
    }
    const message = urlProblem(name, values[name] as string);
    if (message) problems.push({ message, key: name });
    else values[name] = trimTrailingSlashes(values[name] as string);
  }

  for (const name of KEY_NAMES) {
    const spec = keySpec(name);
    if (spec.required && String(values[name]).trim() === "") {
      problems.push({ message: `Missing or empty required config: ${name}`, key: name });
    }
    if (spec.kind === "path" && String(values[name]).trim() !== "") {
      values[name] = normalizePath(values[name] as string, opts.env, opts.cwd);
    }
  }

  for (const name of BOUND_ORDER) {
    const { min = 0, max } = keySpec(name);
    const v = values[name] as number;
    if (v < min) problems.push({ message: `Invalid config '${name}': must be >= ${min}, got ${v}`, key: name });
    if (max !== undefined && v > max) problems.push({ message: `Invalid config '${name}': must be <= ${max}, got ${v}`, key: name });
  }

  // Not checked by the original at all (a bad filter only fell back to "info" when logging started);
  // `config validate` is where a user wants to hear about it, so only that mode reports it.
  if (opts.order === "validate") {
    try {
      parseLogDirectives(values.log_level as string);
    } catch (err) {
      problems.push({
        message: `Invalid log filter for 'log_level': ${rustDebugString(values.log_level as string)} (${(err as Error).message})`,
        key: "log_level",
      });
    }
  }

  const warnings = [...file.warnings];
  const strays = unknownDirectiveTargets(values.log_level as string);
  if (strays.length > 0) {
    warnings.push(
      `log_level ${rustDebugString(values.log_level as string)}: ${strays.map((w) => `'${w}'`).join(", ")} is neither a level ` +
        `(off, error, warn, info, debug, trace) nor a known target (${LOG_TARGETS.join(", ")}); it selects nothing`,
    );
  }
  values.prefetch = Object.freeze([...(values.prefetch as string[])]);
  return { config: Object.freeze(values) as unknown as ScorpioConfig, problems, warnings };
}
