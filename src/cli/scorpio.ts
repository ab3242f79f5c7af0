#!/usr/bin/env bun
/**
 * @module cli/scorpio — entry point of the `scorpio` executable.
 */
import { runCli } from "./runner.ts";

// No top-level await: the entry must also build as bytecode (CommonJS).
void runCli("scorpio", process.argv.slice(2)).then((code) => process.exit(code));
