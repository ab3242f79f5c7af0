/**
 * @module scripts/gen-config-docs — regenerates `scorpio.toml.example` and the key table of
 * docs/configuration.md from the key table in src/config/keys.ts. Run after changing a key:
 *   bun run scripts/gen-config-docs.ts          (write)
 *   bun run scripts/gen-config-docs.ts --check  (exit 1 if the committed files are stale)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderExample } from "../src/config/template.ts";
import { spliceKeyReference } from "../src/config/template.ts";

const root = join(import.meta.dir, "..");
const examplePath = join(root, "scorpio.toml.example");
const docsPath = join(root, "docs", "configuration.md");

const wanted = new Map<string, string>([
  [examplePath, renderExample()],
  [docsPath, spliceKeyReference(readFileSync(docsPath, "utf8"))],
]);

const check = process.argv.includes("--check");
let stale = 0;
for (const [path, text] of wanted) {
  let current = "";
  try { current = readFileSync(path, "utf8"); } catch {}
  if (current === text) continue;
  if (check) {
    console.error(`${path} is out of date; run: bun run scripts/gen-config-docs.ts`);
    stale++;
  } else {
    writeFileSync(path, text);
    console.log(`wrote ${path}`);
  }
}
process.exit(stale > 0 ? 1 : 0);
