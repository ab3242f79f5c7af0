/**
 * @module cli/entry — what every executable runs first. It answers `--version` before loading anything
 * else (the command registry pulls in config, HTTP and FUSE code), then loads the runner on demand.
 * One compiled binary serves both names: `antares` is a link to `scorpio`, told apart by argv[0].
 */
import { basename } from "node:path";
import { VERSION } from "../version.ts";
import type { BinaryName } from "./base-command.ts";

/** The name the program was started under: `antares` (a link to the scorpio binary) or `scorpio`. */
export function binaryFromArgv0(argv0: string, script?: string): BinaryName {
  const name = basename(argv0);
  // `bun src/cli/main.ts`: argv0 is bun itself; the script name decides.
  const invoked = name === "bun" || name.startsWith("bun-") ? basename(script ?? "") : name;
  return invoked.startsWith("antares") ? "antares" : "scorpio";
}

const VERSION_FLAGS = new Set(["--version", "-V"]);

/** `--version` / `-V` (optionally `--json`) answered without loading the CLI; undefined for anything else. */
function fastVersion(args: readonly string[]): string | undefined {
  if (args.length === 1 && VERSION_FLAGS.has(args[0]!)) return `scorpio ${VERSION}\n`;
  if (args.length === 2 && args.includes("--json") && args.some((a) => VERSION_FLAGS.has(a))) {
    return JSON.stringify({ name: "scorpio", version: VERSION }) + "\n";
  }
  return undefined;
}

export function main(binary: BinaryName, args: readonly string[] = process.argv.slice(2)): void {
  if (binary === "antares") {
    // Printed before argument parsing, so it appears even for `--help`, as in the original.
    process.stderr.write("note: the `antares` binary is a deprecated compatibility alias; prefer `scorpio <subcommand>`\n");
  }
  const version = fastVersion(args);
  if (version !== undefined) {
    process.stdout.write(version);
    return;
  }
  // No top-level await: the entry must also build as bytecode (CommonJS).
  void import("./runner.ts").then(({ runCli }) => runCli(binary, args)).then((code) => process.exit(code));
}
