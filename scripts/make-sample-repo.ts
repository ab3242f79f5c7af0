/**
 * Builds the demo's sample monorepo with the git CLI: `bun scripts/make-sample-repo.ts <dir>`.
 * The same generator the integration tests use (awkward names, exec bits, symlinks, a gitlink).
 */
import { makeSampleRepo } from "../test/support/sample-repo.ts";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: bun scripts/make-sample-repo.ts <dir>");
  process.exit(2);
}
const repo = makeSampleRepo(dir);
console.log(repo.path);
