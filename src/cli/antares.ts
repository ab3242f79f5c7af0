#!/usr/bin/env bun
/**
 * @module cli/antares — entry point of the deprecated `antares` executable. The note is printed
 * before argument parsing, so it appears even for `--help`, as in the original.
 */
import { runCli } from "./runner.ts";

process.stderr.write("note: the `antares` binary is a deprecated compatibility alias; prefer `scorpio <subcommand>`\n");
const code = await runCli("antares", process.argv.slice(2));
process.exit(code);
