/**
 * @module cli/commands/serve — `scorpio serve`: runs the daemon (workspace mount + HTTP API with the
 * nested /antares routes) until SIGTERM/SIGINT.
 */
import { Command } from "clipanion";
import { BaseCommand, insecureBindOption } from "../base-command.ts";

export class ServeCommand extends BaseCommand {
  static override paths = [["serve"]];
  static override usage = Command.Usage({
    category: "Daemon",
    description: "run the scorpio daemon (workspace mount and HTTP API)",
    details: `
      Mounts the monorepo at the configured \`workspace\` and serves the HTTP API (\`/health\`,
      \`/antares/*\`, legacy \`/api/fs/*\`) on \`--http-addr\` (default 127.0.0.1:2725). The daemon records
      its address in the runtime state file (\`config_file\`) so that \`mount\`, \`list\`, \`status\` and
      the other client commands find it. SIGTERM or SIGINT unmounts everything and exits 0.

      A non-loopback address is refused (exit 2) unless \`http_token\` is set or \`--insecure-bind\`
      is given: the API creates writable mounts as the daemon's user.

      Exit codes: 2 config error or refused bind, 3 workspace mount failed, 4 HTTP address could not be bound.
    `,
    examples: [
      ["Run with ./scorpio.toml on the default address", "$0 serve"],
      ["Use another config", "$0 serve -c /etc/scorpio/scorpio.toml"],
      ["Listen on every interface (requires http_token)", "SCORPIO_HTTP_TOKEN=secret $0 serve --http-addr 0.0.0.0:2725"],
    ],
  });

  insecureBind = insecureBindOption();

  async run(): Promise<number> {
    const config = this.loadConfiguration({ init: true });
    this.setupLogging(config);
    // Loaded on demand: client commands should not pay for the HTTP server at start.
    const { runDaemon, scorpioServices } = await import("../../server/index.ts");
    return runDaemon({ config, httpAddr: this.httpAddr, mode: "scorpio", configPath: this.configPath, createServices: scorpioServices, allowInsecureBind: this.insecureBind });
  }
}
