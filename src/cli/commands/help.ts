/**
 * @module cli/commands/help — `help [COMMAND…]`, `-h`, `--help`: the command list, or one command's
 * detailed help (`scorpio help mount` is the same as `scorpio mount --help`).
 */
import { Command, Option } from "clipanion";
import { globalOptionsHelp, type CliContext } from "../base-command.ts";

export class HelpCommand extends Command<CliContext> {
  static override paths = [["help"], ["-h"], ["--help"]];
  static override usage = Command.Usage({
    category: "General",
    description: "print help for all commands or for one command",
    examples: [
      ["List every command", "$0 help"],
      ["Show the options of `mount`", "$0 help mount"],
    ],
  });

  topic = Option.Rest();

  async execute(): Promise<number> {
    if (this.topic.length === 0) {
      this.context.stdout.write(this.cli.usage(null) + "\n" + globalOptionsHelp(this.context.binaryName));
      return 0;
    }
    // Same as `<topic…> --help`, so nested paths (`config init`) resolve exactly as on the command line.
    const code = await this.cli.run([...this.topic, "--help"]);
    if (code === 0) this.context.stdout.write("\n" + globalOptionsHelp(this.context.binaryName));
    return code;
  }
}
