#!/usr/bin/env bun
/**
 * @module cli/antares — entry point of the deprecated `antares` name when run from source; the compiled
 * `antares` is a link to the scorpio binary (cli/main dispatches on argv[0]).
 */
import { main } from "./entry.ts";

main("antares");
