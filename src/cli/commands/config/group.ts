/**
 * @module cli/commands/config/group — `config` alone: lists the `config` subcommands instead of a parse
 * error, as `git remote`-style command groups do. A BaseCommand so that global options (`-c x config`)
 * parse as they do everywhere else.
 */
import { BaseCommand } from "../../base-command.ts";

export class ConfigGroupCommand extends BaseCommand {
  static override paths = [["config"]];
  // No `usage`: the group itself is not a command of the list; its subcommands are.

  async run(): Promise<number> {
    const lines = this.cli
      .definitions()
      .filter((d) => d.path.startsWith(`${this.cli.binaryName} config `))
      .map((d) => `  ${d.usage}\n    ${(d.description ?? "").trim()}`);
    this.context.stdout.write(`Usage: ${this.cli.binaryName} config <subcommand>\n\nSubcommands:\n\n${lines.join("\n\n")}\n\nRun '${this.cli.binaryName} config <subcommand> --help' for its options.\n`);
    return 0;
  }
}
