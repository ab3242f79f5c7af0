/**
 * @module version — the product version, read from package.json at build time so the compiled
 * binaries carry it without the file beside them.
 */
import pkg from "../package.json" with { type: "json" };

export const VERSION: string = pkg.version;
