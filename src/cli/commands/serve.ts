/**
 * @module cli/commands/serve — `scorpio serve`: runs the daemon (workspace mount + HTTP API with the
 * nested /antares routes) until SIGTERM/SIGINT.
 */
import { Command } from "clipanion";
import { BaseCommand } from "../base-command.ts";

export class ServeCommand extends BaseCommand {
  static override paths = [["serve"]];
  static override usage = Command.Usage({
    category: "Daemon",
    description: "run the scorpio daemon (workspace mount and HTTP API)",
    details: `
      Mounts the monorepo at the configured \`workspace\` and serves the HTTP API (\`/health\`,
      \`/antares/*\`, legacy \`/api/fs/*\`) on \`--http-addr\` (default 0.0.0.0:2725). The daemon records
      its address in the runtime state file (\`config_file\`) so that \`mount\`, \`list\`, \`status\` and
      the other client commands find it. SIGTERM or SIGINT unmounts everything and exits 0.

      Exit codes: 2 config error, 3 workspace mount failed, 4 HTTP address could not be bound.
    `,
    examples: [
      ["Run with ./scorpio.toml on the default address", "$0 serve"],
      ["Use another config and listen on loopback only", "$0 serve -c /etc/scorpiofs/scorpio.toml --http-addr 127.0.0.1:2725"],
    ],
  });

  async run(): Promise<number> {
    const config = this.loadConfiguration({ init: true });
    this.setupLogging(config);
    // Loaded on demand: client commands should not pay for the HTTP server at start.
    const { runDaemon, scorpioServices } = await import("../../server/index.ts");
    return runDaemon({ config, httpAddr: this.httpAddr, mode: "scorpio", configPath: this.configPath, createServices: scorpioServices });
  }
}
