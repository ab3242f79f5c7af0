/**
 * @module cli/commands/completions — `completions <SHELL>`: prints a completion script for bash, zsh,
 * fish, elvish or powershell, generated from the registered commands. Needs no config.
 */
import { Command, Option } from "clipanion";
import * as t from "typanion";
import { BaseCommand } from "../base-command.ts";
import { renderCompletionScript, SHELLS } from "../completion-scripts.ts";

export class CompletionsCommand extends BaseCommand {
  static override paths = [["completions"]];
  static override usage = Command.Usage({
    category: "General",
    description: "print a shell completion script",
    details: `
      Prints the completion script for SHELL (one of ${SHELLS.join(", ")}) on stdout.
    `,
    examples: [
      ["Enable bash completion for this session", "source <($0 completions bash)"],
      ["Install zsh completion", "$0 completions zsh > ~/.zfunc/_scorpio"],
      ["Install fish completion", "$0 completions fish > ~/.config/fish/completions/scorpio.fish"],
    ],
  });

  shell = Option.String({ name: "SHELL", validator: t.isEnum(SHELLS) });

  async run(): Promise<number> {
    this.context.stdout.write(renderCompletionScript(this.shell, this.context.binaryName, this.cli.definitions()));
    return 0;
  }
}
