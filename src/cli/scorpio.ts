#!/usr/bin/env bun
/**
 * @module cli/scorpio — entry point of `scorpio` when run from source (`bun src/cli/scorpio.ts`); the
 * compiled binary starts at cli/main.
 */
import { main } from "./entry.ts";

main("scorpio");
