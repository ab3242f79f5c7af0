/**
 * @module cli/commands/antares/serve — `antares serve [--bind ADDR]`: the standalone Antares daemon
 * (Antares routes at the root, default 127.0.0.1:2726). Registered only in the `antares` binary.
 */
import { Command, Option } from "clipanion";
import { parseSocketAddr } from "../../../server/socket-addr.ts";
import { BaseCommand, insecureBindOption } from "../../base-command.ts";
import { CliError, ExitCode } from "../../exit-codes.ts";

export class AntaresServeCommand extends BaseCommand {
  static override paths = [["serve"]];
  static override usage = Command.Usage({
    category: "Daemon",
    description: "run the standalone Antares daemon",
    details: `
      Serves the Antares job-mount API (\`/health\`, \`/mounts\`, ...) at the root of \`--bind\`.
      Prefer \`scorpio serve\`, which serves the same routes under \`/antares\`. SIGTERM or SIGINT
      unmounts every job mount and exits 0. A non-loopback address needs \`http_token\` or
      \`--insecure-bind\` (exit 2 otherwise).
    `,
    examples: [
      ["Serve on the default port 2726", "$0 serve"],
      ["Serve on every interface (requires http_token)", "SCORPIO_HTTP_TOKEN=secret $0 --config-path scorpio.toml serve --bind 0.0.0.0:2726"],
    ],
  });

  bind = Option.String("--bind", "127.0.0.1:2726", { description: "Address to listen on, ip:port" });
  insecureBind = insecureBindOption();

  async run(): Promise<number> {
    const config = this.loadConfiguration({ init: true });
    // Parsed after config init, as in the original: a bad address is a config-class error (exit 2).
    try {
      parseSocketAddr(this.bind);
    } catch (err) {
      throw new CliError(`Invalid bind address '${this.bind}': ${(err as Error).message}`, ExitCode.CONFIG);
    }
    // antares has no --log-level: the filter comes from SCORPIO_LOG/RUST_LOG/config.
    this.setupLogging(config, undefined);
    // Loaded on demand: client commands should not pay for the HTTP server at start.
    const { runDaemon, antaresServices } = await import("../../../server/index.ts");
    return runDaemon({ config, httpAddr: this.bind, mode: "antares", configPath: this.configPath, createServices: antaresServices, allowInsecureBind: this.insecureBind });
  }
}
