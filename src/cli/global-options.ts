/**
 * @module cli/global-options — argv pre-processing for the options that are global in the original.
 *
 * clap let `scorpio` take its global options before *or* after the subcommand; clipanion only parses
 * options after the command path. So `scorpio` hoists every global option to the end of argv (where
 * clipanion sees it as an option of whichever command runs). `antares` had non-global options that must
 * come *before* the subcommand: they are moved behind it, and the same options after it are rejected
 * as clap did.
 */
import { UsageError } from "clipanion";

interface GlobalSpec {
  /** Every spelling, e.g. `-c` and `--config-path`. */
  names: string[];
  /** The long name used when re-emitting the option. */
  long: string;
}

export const SCORPIO_GLOBALS: GlobalSpec[] = [
  { names: ["-c", "--config-path"], long: "--config-path" },
  { names: ["--http-addr"], long: "--http-addr" },
  { names: ["--log-level"], long: "--log-level" },
  { names: ["--upper-root"], long: "--upper-root" },
  { names: ["--cl-root"], long: "--cl-root" },
  { names: ["--mount-root"], long: "--mount-root" },
  { names: ["--state-file"], long: "--state-file" },
];

/** `antares` has no `-c`, `--http-addr` or `--log-level`. */
export const ANTARES_GLOBALS: GlobalSpec[] = SCORPIO_GLOBALS.filter((s) => s.long !== "--http-addr" && s.long !== "--log-level").map(
  (s) => ({ ...s, names: s.names.filter((n) => n !== "-c") }),
);
const ANTARES_UNKNOWN = ["-c", "--http-addr", "--log-level"];

/** Matches `arg` against a spec: returns the inline value (`--x=v`), `null` (value is the next arg) or undefined. */
function match(arg: string, specs: GlobalSpec[]): { spec: GlobalSpec; inline: string | null } | undefined {
  for (const spec of specs) {
    for (const name of spec.names) {
      if (arg === name) return { spec, inline: null };
      if (name.startsWith("--") && arg.startsWith(name + "=")) return { spec, inline: arg.slice(name.length + 1) };
    }
  }
  return undefined;
}

/** Moves every scorpio global option (anywhere before `--`) to the end of the option section. */
export function hoistScorpioGlobals(argv: readonly string[]): string[] {
  const rest: string[] = [];
  const hoisted: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    const m = match(arg, SCORPIO_GLOBALS);
    if (!m) {
      rest.push(arg);
      continue;
    }
    if (m.inline !== null) hoisted.push(`${m.spec.long}=${m.inline}`);
    else if (i + 1 < argv.length) hoisted.push(`${m.spec.long}=${argv[++i]!}`);
    else rest.push(arg); // missing value: leave it for clipanion to report as a usage error
  }
  // `scorpio -c x --version` / `scorpio -c x help`: clap accepted globals there; these paths take none.
  const infoOnly = rest.length > 0 && (rest[0] === "help" || rest.every((a) => INFO_FLAGS.has(a)));
  return infoOnly ? [...rest, ...argv.slice(i)] : [...rest, ...hoisted, ...argv.slice(i)];
}

const INFO_FLAGS = new Set(["--version", "-V", "--help", "-h"]);

/**
 * Takes antares options from before the subcommand and re-emits them after it; the same options
 * after the subcommand are a usage error, as in the original.
 */
export function hoistAntaresGlobals(argv: readonly string[]): string[] {
  const hoisted: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "--") break;
    const m = match(arg, ANTARES_GLOBALS);
    if (!m) break; // -h/--version/unknown: clipanion decides
    if (m.inline !== null) hoisted.push(`${m.spec.long}=${m.inline}`);
    else if (i + 1 < argv.length) hoisted.push(`${m.spec.long}=${argv[++i]!}`);
    else throw new UsageError(`a value is required for '${arg} <VALUE>' but none was supplied`);
  }
  const tail = argv.slice(i);
  if (tail.length === 0) throw new UsageError("'antares' requires a subcommand but one was not provided (try 'antares --help')");
  const dashDash = tail.indexOf("--");
  const options = dashDash < 0 ? tail : tail.slice(0, dashDash);
  for (const arg of options) {
    const name = arg.split("=")[0]!;
    if (match(arg, ANTARES_GLOBALS) || ANTARES_UNKNOWN.includes(name)) {
      throw new UsageError(`unexpected argument '${arg}' found (antares options must come before the subcommand)`);
    }
  }
  if (dashDash < 0) return [...tail, ...hoisted];
  return [...tail.slice(0, dashDash), ...hoisted, ...tail.slice(dashDash)];
}
