/**
 * @module cli/commands/version — `--version` / `-V`: prints `scorpio <version>`.
 * Both binaries print `scorpio`, as the original did (clap named the antares command after the package).
 */
import { Command, Option } from "clipanion";
import { VERSION } from "../../version.ts";
import type { CliContext } from "../base-command.ts";

export class VersionCommand extends Command<CliContext> {
  static override paths = [["--version"], ["-V"]];

  // cli/entry answers the plain forms before the CLI loads; this handles them when run in-process.
  json = Option.Boolean("--json", false, { description: "Print {name, version} as JSON" });

  async execute(): Promise<number> {
    this.context.stdout.write(this.json ? JSON.stringify({ name: "scorpio", version: VERSION }) + "\n" : `scorpio ${VERSION}\n`);
    return 0;
  }
}
