/**
 * @module cli/commands/config/show — `config show [--json]`: the effective configuration after
 * file, environment and CLI overrides.
 */
import { Command, Option } from "clipanion";
import { redactConfig, renderConfigShow } from "../../../config/index.ts";
import { BaseCommand } from "../../base-command.ts";
import { ExitCode } from "../../exit-codes.ts";

export class ConfigShowCommand extends BaseCommand {
  static override paths = [["config", "show"]];
  static override usage = Command.Usage({
    category: "Configuration",
    description: "print the effective configuration",
    details: `
      Loads the config like \`serve\` does (creating the runtime directories and the state file)
      and prints every resolved value. \`--json\` prints a JSON object keyed by config key.
      Secrets (\`http_token\`) are printed as \`<redacted>\` in both forms.
    `,
    examples: [
      ["Show the effective config", "$0 config show"],
      ["As JSON", "$0 config show --json"],
    ],
  });

  json = Option.Boolean("--json", false, { description: "Print JSON instead of text" });

  async run(): Promise<number> {
    const config = this.loadConfiguration({ init: true });
    if (this.json) this.out(JSON.stringify(redactConfig(config), null, 2));
    else this.context.stdout.write(renderConfigShow(config).replace(/\n?$/, "\n"));
    return ExitCode.SUCCESS;
  }
}
