#!/usr/bin/env bun
/**
 * @module cli/main — entry point of the compiled binary: `scorpio`, or `antares` when started through the
 * `antares` link (argv[0]).
 */
import { binaryFromArgv0, main } from "./entry.ts";

main(binaryFromArgv0(process.argv0, process.argv[1]));
