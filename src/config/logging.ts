/**
 * @module config/logging — which log filter applies and how logging is switched on at start. Precedence is
 * the original's: `--log-level` > `SCORPIO_LOG` > `RUST_LOG` > config `log_level` > `info` (empty or blank
 * values fall through). Note `SCORPIO_LOG` is the filter; `SCORPIO_LOG_LEVEL` is the config key's env form.
 */
import { configureLogging, parseLogDirectives } from "../util/log.ts";
import type { Env } from "./paths.ts";
import type { ScorpioConfig } from "./types.ts";

export interface LogFilterSources {
  cliLevel?: string;
  env?: Env;
  config?: Pick<ScorpioConfig, "log_level">;
}

export function resolveLogFilter(opts: LogFilterSources): string {
  const env = opts.env ?? process.env;
  const candidates = [opts.cliLevel, env.SCORPIO_LOG, env.RUST_LOG, opts.config?.log_level];
  for (const c of candidates) if (c !== undefined && c.trim() !== "") return c.trim();
  return "info";
}

export interface InitLoggingOptions extends LogFilterSources {
  config?: Pick<ScorpioConfig, "log_level" | "log_format">;
  /** Where the fallback notice goes; defaults to stderr. Log lines themselves go to util/log's sink. */
  notice?: (line: string) => void;
  /** Passed through to `configureLogging` (tests capture lines with it). */
  sink?: (line: string) => void;
}

/**
 * Resolves the filter, falls back to `info` with the original's notice if it does not parse, selects the
 * line format from `log_format`, and configures util/log. Returns the directive in effect.
 */
export function initLogging(opts: InitLoggingOptions): string {
  const notice = opts.notice ?? ((line: string) => process.stderr.write(line + "\n"));
  let directive = resolveLogFilter(opts);
  try {
    parseLogDirectives(directive);
  } catch (err) {
    notice(`invalid log filter "${directive}" (${(err as Error).message}); falling back to "info"`);
    directive = "info";
  }
  configureLogging({ directives: directive, json: opts.config?.log_format === "json", sink: opts.sink });
  return directive;
}
