/**
 * @module config/load — the three entry points over the resolver: fail-fast `loadConfig`, `initConfig`
 * (load + create runtime directories and the runtime state file, like the original's init) and offline,
 * collect-all `validateConfigFile`. The config file must exist, as in the original, even though every key
 * has a default: a typo in `--config-path` must not silently run with defaults.
 */
import { closeSync, lstatSync, mkdirSync, openSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { errnoOf, Errno } from "../util/errno.ts";
import { ConfigError } from "./errors.ts";
import { fromTable, readConfigFile, type FileSource } from "./file-source.ts";
import { ioErrorText } from "./io-error.ts";
import { resolveConfig } from "./resolve.ts";
import { EMPTY_RUNTIME_STATE_TEXT } from "./runtime-state.ts";
import type { LoadOptions, LoadResult, ScorpioConfig } from "./types.ts";

export function loadConfig(opts: LoadOptions): LoadResult {
  const file = opts.allowMissing && opts.configPath === "" ? fromTable("(none)", {}) : readConfigFile(opts.configPath);
  const r = resolveConfig(file, { overrides: opts.overrides, env: opts.env ?? process.env, order: "load" });
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return { config: r.config, warnings: [...r.warnings, ...secretWarnings(file)] };
}

/** A token in a file other users can read is as good as no token. */
function secretWarnings(file: FileSource): string[] {
  const set = (["http_token", "mega_token"] as const).filter((k) => file.lookup(k).kind !== "absent");
  if (set.length === 0) return [];
  try {
    if ((statSync(file.path).mode & 0o044) === 0) return [];
  } catch {
    return [];
  }
  return set.map(
    (k) => `config file '${file.path}' sets ${k} but is readable by other users; run 'chmod 600 ${file.path}' or use SCORPIO_${k.toUpperCase()}`,
  );
}

export function validateConfigFile(opts: LoadOptions): string[] {
  return validateConfig(opts).problems;
}

/** `config validate`: every problem, and the warnings `config show`/`serve` would print (unknown keys, ...). */
export function validateConfig(opts: LoadOptions): { problems: string[]; warnings: string[] } {
  try {
    const file = readConfigFile(opts.configPath);
    const r = resolveConfig(file, { overrides: opts.overrides, env: opts.env ?? process.env, order: "validate" });
    return { problems: r.problems.map((p) => p.message), warnings: [...r.warnings, ...secretWarnings(file)] };
  } catch (err) {
    if (err instanceof ConfigError) return { problems: err.problems, warnings: [] };
    throw err;
  }
}

export function initConfig(opts: LoadOptions): LoadResult {
  const result = loadConfig(opts);
  const warnings = [...result.warnings, ...ensureRuntimePaths(result.config)];
  return { config: result.config, warnings };
}

/**
 * mkdir -p every runtime directory and create the runtime state file if missing. A directory that is a
 * dead FUSE mount (ENOTCONN) is reported as a warning, not an error: `serve` clears stale mounts itself and
 * `doctor` must still be able to run to diagnose it (the original failed init here with "File exists").
 */
export function ensureRuntimePaths(config: ScorpioConfig): string[] {
  const warnings: string[] = [];
  const dirs = [
    config.workspace, config.store_path, config.antares_upper_root, config.antares_cl_root,
    config.antares_mount_root, dirname(config.antares_state_file), dirname(config.config_file),
  ];
  for (const dir of dirs) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      if (isStaleMount(dir)) {
        warnings.push(`${dir} is a stale FUSE mount (transport endpoint is not connected); unmount it with 'fusermount3 -u ${dir}'`);
        continue;
      }
      throw new ConfigError(`Failed to create directory ${dir}: ${ioErrorText(err)}`, { cause: err });
    }
  }
  try {
    // O_EXCL: never clobber a state file another process created in the meantime.
    const fd = openSync(config.config_file, "wx", 0o644);
    try { writeSync(fd, EMPTY_RUNTIME_STATE_TEXT); } finally { closeSync(fd); }
  } catch (err) {
    if (errnoOf(err) !== Errno.EEXIST) {
      throw new ConfigError(`Failed to create state file '${config.config_file}': ${ioErrorText(err)}`, {
        key: "config_file",
        cause: err,
      });
    }
  }
  return warnings;
}

function isStaleMount(path: string): boolean {
  try {
    lstatSync(path);
    return false;
  } catch (err) {
    return errnoOf(err) === Errno.ENOTCONN;
  }
}
