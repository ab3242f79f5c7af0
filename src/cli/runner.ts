/**
 * @module cli/runner — parses argv with clipanion and runs the command, owning the exit-code policy:
 * usage errors exit 2 (clipanion's default is 1), `CliError` exits with its code, anything else is
 * an internal error (1). Usage errors go to stderr; stdout is reserved for command output.
 */
import { Cli, Command, UsageError } from "clipanion";
import { globalOptionsHelp, wantsJson, type BinaryName, type CliContext } from "./base-command.ts";
import { CliError, ExitCode } from "./exit-codes.ts";
import { hoistAntaresGlobals, hoistScorpioGlobals } from "./global-options.ts";
import { buildCli, commandWords, commandsFor } from "./registry.ts";
import { closestWord } from "./help-text.ts";

export interface RunOptions {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  env?: Record<string, string | undefined>;
}

function isUsageError(err: unknown): boolean {
  // clipanion marks its parse errors (unknown syntax, ambiguity, bad values) with `clipanion.type`.
  if (err instanceof UsageError) return true;
  if (err && typeof err === "object" && "clipanion" in err) {
    const c = (err as { clipanion?: { type?: string } }).clipanion;
    return c?.type === "usage" || c?.type === "none";
  }
  return false;
}

/** `scorpio moutn`: "unknown command 'moutn'; did you mean 'mount'?" instead of a parse error of the default command. */
function unknownCommand(binary: BinaryName, argv: readonly string[]): string | undefined {
  const first = argv.find((a) => !a.startsWith("-"));
  // Only when the first word is the first argument that is not an option value of a global option.
  if (first === undefined || argv.indexOf(first) !== 0) return undefined;
  const words = commandWords(binary);
  if (words.includes(first)) return undefined;
  const guess = closestWord(first, words);
  return `unknown command '${first}'${guess ? `; did you mean '${guess}'?` : ""} (see '${binary} help' for the list)\n`;
}

export async function runCli(binary: BinaryName, argv: readonly string[], opts: RunOptions = {}): Promise<number> {
  let args: string[] | null = null;
  let hoistError: unknown = null;
  try {
    args = binary === "scorpio" ? hoistScorpioGlobals(argv) : hoistAntaresGlobals(argv);
  } catch (err) {
    hoistError = err;
  }
  const cli = buildCli(binary, args?.[0]);
  const context: CliContext = {
    ...Cli.defaultContext,
    ...(opts.stdout ? { stdout: opts.stdout as CliContext["stdout"] } : {}),
    ...(opts.stderr ? { stderr: opts.stderr as CliContext["stderr"] } : {}),
    env: opts.env ?? process.env,
    colorDepth: 1,
    binaryName: binary,
  };

  let command: Command<CliContext>;
  try {
    if (args === null) throw hoistError;
    command = cli.process(args, context);
  } catch (err) {
    const unknown = unknownCommand(binary, argv);
    context.stderr.write(unknown ?? cli.error(err as Error));
    return ExitCode.CONFIG;
  }
  if (command.help) {
    context.stdout.write(cli.usage(command, { detailed: true }) + "\n" + globalOptionsHelp(binary));
    return ExitCode.SUCCESS;
  }
  command.context = context;
  command.cli = {
    binaryLabel: cli.binaryLabel,
    binaryName: cli.binaryName,
    binaryVersion: cli.binaryVersion,
    enableCapture: cli.enableCapture,
    enableColors: cli.enableColors,
    definitions: () => cli.definitions(),
    error: (error, o) => cli.error(error, o),
    format: (colored) => cli.format(colored),
    process: (input, sub) => cli.process(input, { ...context, ...sub }),
    run: (input, sub) => cli.run(input, { ...context, ...sub }),
    usage: (c, o) => cli.usage(c, o),
  };
  // `<command> --help` is answered by clipanion's built-in help command, not one of ours.
  const builtinHelp = !commandsFor(binary).some((c) => command instanceof c);
  try {
    const code = await command.validateAndExecute();
    if (builtinHelp && code === 0) context.stdout.write("\n" + globalOptionsHelp(binary));
    return code;
  } catch (err) {
    if (err instanceof CliError) {
      if (wantsJson(command)) context.stdout.write(JSON.stringify({ error: err.message, exit_code: err.exitCode }) + "\n");
      else if (err.message) context.stderr.write(err.message + "\n");
      return err.exitCode;
    }
    if (isUsageError(err)) {
      context.stderr.write(cli.error(err as Error, { command }));
      return ExitCode.CONFIG;
    }
    context.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return ExitCode.INTERNAL;
  }
}
