/**
 * @module cli/commands/config/init — `config init [PATH] [--force]`: writes the commented config
 * template. Runs before any config is loaded, so it works in an empty directory.
 */
import { Command, Option } from "clipanion";
import { existsSync } from "node:fs";
import { CONFIG_TEMPLATE } from "../../../config/index.ts";
import { writeFileAtomicSync } from "../../../util/atomic-write.ts";
import { BaseCommand } from "../../base-command.ts";
import { ExitCode } from "../../exit-codes.ts";

export class ConfigInitCommand extends BaseCommand {
  static override paths = [["config", "init"]];
  static override usage = Command.Usage({
    category: "Configuration",
    description: "write a commented config template",
    details: `
      Writes a template config to PATH (default ./scorpio.toml). Refuses to overwrite an existing
      file unless \`--force\` is given (exit code 2). Edit \`base_url\` to point at your Mega server,
      then run \`doctor\`.
    `,
    examples: [
      ["Create ./scorpio.toml", "$0 config init"],
      ["Create or replace /etc/scorpiofs/scorpio.toml", "$0 config init /etc/scorpiofs/scorpio.toml --force"],
    ],
  });

  target = Option.String({ name: "PATH", required: false });
  force = Option.Boolean("--force", false, { description: "Overwrite an existing file" });

  async run(): Promise<number> {
    const path = this.target ?? "scorpio.toml";
    if (existsSync(path) && !this.force) {
      this.err(`refusing to overwrite existing '${path}' (use --force)`);
      return ExitCode.CONFIG;
    }
    try {
      writeFileAtomicSync(path, CONFIG_TEMPLATE);
    } catch (err) {
      this.err(`failed to write '${path}': ${(err as Error).message}`);
      return ExitCode.CONFIG;
    }
    this.out(`wrote config template to ${path}`);
    this.out(`edit base_url/lfs_url, then: scorpio --config-path ${path} doctor`);
    return ExitCode.SUCCESS;
  }
}
