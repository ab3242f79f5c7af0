/**
 * @module cli/client-command — base class of the commands that talk to the running daemon
 * (`mount`, `umount`, `list`, `status`, `prefetch`, `du`, `gc`). Adds `--endpoint` and finds the
 * daemon through the runtime state file otherwise. Never opens the store or FUSE itself.
 */
import { Option } from "clipanion";
import { BaseCommand } from "./base-command.ts";
import { DaemonClient, locateDaemon } from "./daemon-client.ts";
import { ExitCode } from "./exit-codes.ts";

export abstract class ClientCommand extends BaseCommand {
  endpoint = Option.String("--endpoint", {
    description: "Daemon URL, e.g. http://127.0.0.1:2725 (default: read from the runtime state file)",
  });

  /** Exit code when there is no daemon or it cannot be reached. */
  protected noDaemonExit: number = ExitCode.INTERNAL;

  protected connect(): DaemonClient {
    // With --endpoint the config is not needed at all (useful against a remote daemon).
    let stateFile: string | undefined;
    // The daemon's `http_token`: from the config, or SCORPIO_HTTP_TOKEN when --endpoint skips the config.
    let token = process.env.SCORPIO_HTTP_TOKEN ?? "";
    if (!this.endpoint) {
      const config = this.loadConfiguration({ init: false });
      this.setupLogging(config);
      stateFile = config.config_file;
      token = config.http_token;
    }
    const location = locateDaemon({ endpoint: this.endpoint, stateFile, noDaemonExit: this.noDaemonExit });
    return new DaemonClient(location, this.noDaemonExit, token);
  }
}
