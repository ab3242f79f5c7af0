/**
 * Builds the two self-contained executables, dist/scorpio and dist/antares, with `bun build --compile`.
 * They need only glibc and the system libfuse3 at run time.
 */
import { $ } from "bun";
import { mkdirSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
mkdirSync(`${root}/dist`, { recursive: true });

const targets: Array<[entry: string, out: string]> = [
  ["src/cli/scorpio.ts", "dist/scorpio"],
  ["src/cli/antares.ts", "dist/antares"],
];

await Promise.all(
  targets.map(([entry, out]) =>
    $`bun build --compile --bytecode --minify-syntax ${entry} --outfile ${out}`.cwd(root).quiet(),
  ),
);
for (const [, out] of targets) console.error(`built ${out}`);
