/**
 * @module cli/commands/version — `--version` / `-V`: prints `scorpio <version>`.
 * Both binaries print `scorpio`, as the original did (clap named the antares command after the package).
 */
import { Command } from "clipanion";
import { VERSION } from "../../version.ts";
import type { CliContext } from "../base-command.ts";

export class VersionCommand extends Command<CliContext> {
  static override paths = [["--version"], ["-V"]];

  async execute(): Promise<number> {
    this.context.stdout.write(`scorpio ${VERSION}\n`);
    return 0;
  }
}
