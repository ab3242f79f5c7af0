/**
 * @module cli/commands/config/validate — `config validate [--strict] [--json]`: checks the config offline
 * and reports every problem at once (no directories are created), plus the warnings `config show` prints.
 */
import { Command, Option } from "clipanion";
import { validateConfig } from "../../../config/index.ts";
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
      stderr with exit code 2. Warnings (unknown keys, a \`log_level\` that selects nothing, a token in a
      file others can read) are printed too; \`--strict\` turns them into a failure (exit 2).
      \`--json\` prints \`{path, ok, problems, warnings}\` on stdout.
    `,
    examples: [
      ["Validate ./scorpio.toml", "$0 config validate"],
      ["Validate another file, failing on warnings too", "$0 -c /etc/scorpio/scorpio.toml config validate --strict"],
    ],
  });

  strict = Option.Boolean("--strict", false, { description: "Fail (exit 2) on warnings too" });
  json = Option.Boolean("--json", false, { description: "Print JSON instead of text" });

  async run(): Promise<number> {
    const { problems, warnings } = validateConfig({ configPath: this.configPath, overrides: this.configOverrides(), env: this.context.env });
    const ok = problems.length === 0 && (!this.strict || warnings.length === 0);
    const code = ok ? ExitCode.SUCCESS : ExitCode.CONFIG;
    if (this.json) {
      this.out(JSON.stringify({ path: this.configPath, ok, problems, warnings }, null, 2));
      return code;
    }
    for (const w of warnings) this.err(`warning: ${w}`);
    if (problems.length === 0) {
      if (ok) this.out(`${this.configPath}: OK${warnings.length > 0 ? ` (${warnings.length} warning(s))` : ""}`);
      else this.err(`${this.configPath}: ${warnings.length} warning(s), failing because of --strict`);
      return code;
    }
    this.err(`${this.configPath}: ${problems.length} problem(s) found:`);
    for (const p of problems) this.err(`  - ${p}`);
    return code;
  }
}
