// Placeholder entry point; replaced by the clipanion CLI (src/cli helper).
import { VERSION } from "../version.ts";
console.log(`scorpio ${VERSION}`);
