/**
 * Builds the self-contained executable dist/scorpio with `bun build --compile`, and dist/antares as a
 * relative symlink to it: one binary serves both names (src/cli/main.ts dispatches on argv[0]).
 * It needs only glibc and the system libfuse3 at run time.
 */
import { $ } from "bun";
import { mkdirSync, rmSync, symlinkSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
mkdirSync(`${root}/dist`, { recursive: true });

// The pack parser runs on a worker thread: its module is an entry point of its own (remote/pack-thread.ts).
await $`bun build --compile --bytecode --minify-syntax src/cli/main.ts src/remote/pack-worker.ts --outfile dist/scorpio`.cwd(root).quiet();
console.error("built dist/scorpio");
rmSync(`${root}/dist/antares`, { force: true });
symlinkSync("scorpio", `${root}/dist/antares`);
console.error("linked dist/antares -> scorpio");
