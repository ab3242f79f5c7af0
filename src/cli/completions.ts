/**
 * @module cli/completions — `renderCompletions(shell, binaryName)`: the completion script of the
 * `scorpio` or `antares` executable, generated from its registered commands.
 */
import type { BinaryName } from "./base-command.ts";
import { renderCompletionScript, SHELLS, type Shell } from "./completion-scripts.ts";
import { buildCli } from "./registry.ts";

export { SHELLS, type Shell };

export function renderCompletions(shell: Shell, binaryName: BinaryName = "scorpio"): string {
  return renderCompletionScript(shell, binaryName, buildCli(binaryName).definitions());
}
