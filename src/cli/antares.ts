// Placeholder entry point; replaced by the clipanion CLI (src/cli helper).
import { VERSION } from "../version.ts";
process.stderr.write("note: the `antares` binary is a deprecated compatibility alias; prefer `scorpio <subcommand>`\n");
console.log(`antares ${VERSION}`);
