/**
 * @module cli/base-command — the class every scorpio/antares command extends.
 *
 * It carries the global options (config path, HTTP address, log level and the four Antares path
 * overrides), turns them into config overrides, loads the configuration and sets up logging. Commands
 * stay thin: parse options, call the daemon or a core function, print, return an exit code.
 * Never touches the store or FUSE.
 */
import { Command, Option, type BaseContext } from "clipanion";
import * as t from "typanion";
import { discoverConfig, initConfig, initLogging, loadConfig, type ConfigOverrides, type ScorpioConfig } from "../config/index.ts";
import { CliError, ExitCode } from "./exit-codes.ts";
import { parseSocketAddr } from "../server/socket-addr.ts";

export type BinaryName = "scorpio" | "antares";

export interface CliContext extends BaseContext {
  /** Which executable is running: decides defaults such as the http-mount endpoint. */
  binaryName: BinaryName;
}

/** typanion validator for `ip:port`; clipanion turns a failure into a usage error (exit 2). */
export const isSocketAddr = t.makeValidator<unknown, string>({
  test: (value, state): value is string => {
    if (typeof value !== "string") {
      state?.errors?.push(`${state.p ?? "."}: expected an ip:port socket address`);
      return false;
    }
    try {
      parseSocketAddr(value);
      return true;
    } catch (err) {
      state?.errors?.push(`${state.p ?? "."}: ${(err as Error).message} in "${value}" (expected ip:port, e.g. 127.0.0.1:2725)`);
      return false;
    }
  },
});

export const DEFAULT_HTTP_ADDR = "127.0.0.1:2725";

/** `--insecure-bind` of `serve` and `antares serve`: the explicit opt-in to an unauthenticated network bind. */
export function insecureBindOption() {
  return Option.Boolean("--insecure-bind", false, {
    description: "Allow a non-loopback address without http_token (anyone who reaches it can create mounts)",
  });
}

export interface GlobalOptionSpec {
  names: string[];
  value: string;
  description: string;
  /** False for the options `antares` does not have. */
  antares: boolean;
}

/** The global options, for help text and completions. */
export const GLOBAL_OPTIONS: GlobalOptionSpec[] = [
  { names: ["-c", "--config-path"], value: "PATH", description: "Main config file (default: $SCORPIO_CONFIG, ./scorpio.toml, ~/.config/scorpio/scorpio.toml, /etc/scorpio/scorpio.toml)", antares: true },
  { names: ["--http-addr"], value: "ADDR", description: `Daemon bind address, ip:port (default: ${"127.0.0.1:2725"}; used by serve)`, antares: false },
  { names: ["--log-level"], value: "DIRECTIVE", description: "Log filter, e.g. info or info,fuse=debug (beats SCORPIO_LOG/RUST_LOG)", antares: false },
  { names: ["--upper-root"], value: "PATH", description: "Override antares_upper_root", antares: true },
  { names: ["--cl-root"], value: "PATH", description: "Override antares_cl_root", antares: true },
  { names: ["--mount-root"], value: "PATH", description: "Override antares_mount_root", antares: true },
  { names: ["--state-file"], value: "PATH", description: "Override antares_state_file", antares: true },
];

function globalDescription(long: string): string {
  return GLOBAL_OPTIONS.find((o) => o.names.includes(long))?.description ?? "";
}

/** The "Global options" help section for a binary. */
export function globalOptionsHelp(binary: BinaryName): string {
  const specs = GLOBAL_OPTIONS.filter((o) => binary === "scorpio" || o.antares);
  const rows = specs.map((o) => {
    const names = (binary === "antares" ? o.names.filter((n) => n !== "-c") : o.names).join(", ");
    return [`${names} <${o.value}>`, o.description] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length));
  const where =
    binary === "scorpio" ? "accepted before or after the command" : "must come before the command, e.g. `antares --config-path x.toml serve`";
  return `Global options (${where}):\n\n${rows.map(([l, d]) => `  ${l.padEnd(width)}  ${d}`).join("\n")}\n`;
}

/** True when the command has a `--json` option and it was given. */
export function wantsJson(command: object): boolean {
  return (command as { json?: unknown }).json === true;
}

export abstract class BaseCommand extends Command<CliContext> {
  // Global options are hidden from each command's option list (they would drown it); the help
  // output lists them once, from GLOBAL_OPTIONS.
  configPathOption = Option.String("-c,--config-path", { hidden: true, description: globalDescription("--config-path") });
  private discovered: string | undefined;
  httpAddr = Option.String("--http-addr", DEFAULT_HTTP_ADDR, {
    hidden: true,
    description: globalDescription("--http-addr"),
    validator: isSocketAddr,
  });
  logLevel = Option.String("--log-level", { hidden: true, description: globalDescription("--log-level") });
  upperRoot = Option.String("--upper-root", { hidden: true, description: globalDescription("--upper-root") });
  clRoot = Option.String("--cl-root", { hidden: true, description: globalDescription("--cl-root") });
  mountRoot = Option.String("--mount-root", { hidden: true, description: globalDescription("--mount-root") });
  stateFile = Option.String("--state-file", { hidden: true, description: globalDescription("--state-file") });

  /** The command body; returns the exit code. Throw `CliError` to stop with a message. */
  abstract run(): Promise<number>;

  async execute(): Promise<number> {
    return this.run();
  }

  /**
   * The config file: `-c`, else config/discovery's search ($SCORPIO_CONFIG, ./scorpio.toml, the user's and
   * the system's). No file anywhere is a config error (exit 2) naming every place looked at.
   */
  get configPath(): string {
    if (this.discovered === undefined) {
      try {
        this.discovered = discoverConfig(this.configPathOption, this.context.env).path;
      } catch (err) {
        throw new CliError(`Failed to load config: ${(err as Error).message}`, ExitCode.CONFIG);
      }
    }
    return this.discovered;
  }

  /** The four CLI path overrides, highest precedence in the config resolver. */
  protected configOverrides(): ConfigOverrides {
    const o: ConfigOverrides = {};
    if (this.upperRoot) o.antares_upper_root = this.upperRoot;
    if (this.clRoot) o.antares_cl_root = this.clRoot;
    if (this.mountRoot) o.antares_mount_root = this.mountRoot;
    if (this.stateFile) o.antares_state_file = this.stateFile;
    return o;
  }

  /**
   * Loads the configuration. `init` also creates the runtime directories and state file, as the
   * original's config init did (serve, doctor, config show need that); client commands skip it.
   * Any failure is `Failed to load config: …`, exit 2.
   */
  protected loadConfiguration(opts: { init: boolean; allowMissing?: boolean }): ScorpioConfig {
    let configPath: string;
    try {
      configPath = this.configPath;
    } catch (err) {
      if (!opts.allowMissing) throw err;
      // `doctor` must run on a machine with no config yet: defaults, and say so.
      this.context.stderr.write(`warning: ${(err as Error).message.replace(/^Failed to load config: /, "")}; using the defaults\n`);
      configPath = "";
    }
    const args = { configPath, overrides: this.configOverrides(), env: this.context.env, allowMissing: configPath === "" };
    try {
      const { config, warnings } = opts.init ? initConfig(args) : loadConfig(args);
      // Printed after loading, straight to stderr: the original logged these before its logger
      // existed, so nobody ever saw them (QUIRK 10.3.14).
      for (const w of warnings) this.context.stderr.write(`warning: ${w}\n`);
      return config;
    } catch (err) {
      throw new CliError(`Failed to load config: ${(err as Error).message}`, ExitCode.CONFIG);
    }
  }

  /** Configures the logger with the original's precedence (--log-level > SCORPIO_LOG > RUST_LOG > config). */
  protected setupLogging(config: ScorpioConfig | undefined, cliLevel: string | undefined = this.logLevel): void {
    initLogging({ cliLevel, env: this.context.env, config, notice: (line) => this.err(line) });
  }

  /**
   * Reports a failure and returns its exit code. Under `--json` (commands that have it) the error is a
   * `{"error", "exit_code"}` object on stdout, where the script reads; otherwise a line on stderr.
   */
  protected fail(message: string, exitCode: number): number {
    if (wantsJson(this)) this.out(JSON.stringify({ error: message, exit_code: exitCode }));
    else this.err(message);
    return exitCode;
  }

  protected out(line: string): void {
    this.context.stdout.write(line + "\n");
  }

  protected err(line: string): void {
    this.context.stderr.write(line + "\n");
  }
}
