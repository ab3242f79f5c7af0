/**
 * @module cli/commands/default — `scorpio` with no subcommand: the deprecated shorthand for
 * `scorpio serve`. Loads the config first (so a bad config exits 2 without the note), then prints
 * the deprecation note on stderr and serves.
 */
import { Command } from "clipanion";
import { BaseCommand, insecureBindOption } from "../base-command.ts";

export class DefaultCommand extends BaseCommand {
  static override paths = [Command.Default];
  // No `usage`: the deprecated form stays out of the command list.

  insecureBind = insecureBindOption();

  async run(): Promise<number> {
    const config = this.loadConfiguration({ init: true });
    this.err("note: running `scorpio` without a subcommand is deprecated; use `scorpio serve`");
    this.setupLogging(config);
    // Loaded on demand: client commands should not pay for the HTTP server at start.
    const { runDaemon, scorpioServices } = await import("../../server/index.ts");
    return runDaemon({ config, httpAddr: this.httpAddr, mode: "scorpio", configPath: this.configPath, createServices: scorpioServices, allowInsecureBind: this.insecureBind });
  }
}
