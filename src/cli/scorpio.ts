#!/usr/bin/env bun
/**
 * @module cli/scorpio — entry point of the `scorpio` executable.
 */
import { runCli } from "./runner.ts";

const code = await runCli("scorpio", process.argv.slice(2));
process.exit(code);
