/**
 * @module test/config/helpers — temp directories and config files for the config tests.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), "scorpio-config-test-"));
  private n = 0;
  /** Writes `text` to a fresh file in the temp dir and returns its path. */
  file(text: string, name = `scorpio-${++this.n}.toml`): string {
    const p = join(this.path, name);
    writeFileSync(p, text);
    return p;
  }
  join(...parts: string[]): string {
    return join(this.path, ...parts);
  }
  cleanup(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** An env with a fixed home and no XDG variables, so defaults are predictable. */
export function baseEnv(home: string): Record<string, string | undefined> {
  return { HOME: home };
}
