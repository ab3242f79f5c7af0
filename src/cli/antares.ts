#!/usr/bin/env bun
/**
 * @module cli/antares — entry point of the deprecated `antares` executable. The note is printed
 * before argument parsing, so it appears even for `--help`, as in the original.
 */
import { runCli } from "./runner.ts";

process.stderr.write("note: the `antares` binary is a deprecated compatibility alias; prefer `scorpio <subcommand>`\n");
// No top-level await: the entry must also build as bytecode (CommonJS).
void runCli("antares", process.argv.slice(2)).then((code) => process.exit(code));
