/**
 * @module cli/commands/config/validate — `config validate`: checks the config offline and reports
 * every problem at once (no directories are created).
 */
import { Command } from "clipanion";
import { validateConfigFile } from "../../../config/index.ts";
import { BaseCommand } from "../../base-command.ts";
import { ExitCode } from "../../exit-codes.ts";

export class ConfigValidateCommand extends BaseCommand {
  static override paths = [["config", "validate"]];
  static override usage = Command.Usage({
    category: "Configuration",
    description: "check a config file and list every problem",
    details: `
      Resolves the config exactly as \`serve\` would (file, \`SCORPIO_*\` environment, CLI overrides)
      but creates nothing and contacts nothing. Prints \`<path>: OK\`, or the list of problems on
      stderr with exit code 2.
    `,
    examples: [
      ["Validate ./scorpio.toml", "$0 config validate"],
      ["Validate another file", "$0 -c /etc/scorpiofs/scorpio.toml config validate"],
    ],
  });

  async run(): Promise<number> {
    const problems = validateConfigFile({ configPath: this.configPath, overrides: this.configOverrides(), env: this.context.env });
    if (problems.length === 0) {
      this.out(`${this.configPath}: OK`);
      return ExitCode.SUCCESS;
    }
    this.err(`${this.configPath}: ${problems.length} problem(s) found:`);
    for (const p of problems) this.err(`  - ${p}`);
    return ExitCode.CONFIG;
  }
}
