/**
 * @module cli/commands/devserver — `devserver --repo <git dir> [--addr ip:port]`: serves a local git
 * repository through the Mega API subset scorpio uses, for demos and tests.
 */
import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.ts";
import { CliError, ExitCode } from "../exit-codes.ts";

export class DevserverCommand extends BaseCommand {
  static override paths = [["devserver"]];
  static override usage = Command.Usage({
    category: "Development",
    description: "serve a local git repository as a Mega-compatible server",
    details: `
      Answers the Mega endpoints scorpio needs (tree listings, blobs, CL file lists) from the git
      repository at \`--repo\`, so you can try scorpio without a Mega server: point \`base_url\` at
      \`--addr\`. Runs until Ctrl-C.
    `,
    examples: [
      ["Serve ./my-repo on the default address", "$0 devserver --repo ./my-repo"],
      ["On another port", "$0 devserver --repo ./my-repo --addr 127.0.0.1:9000"],
      ["Pushes need a token; alice's token is t0k3n", "$0 devserver --repo ./my-repo --token alice=t0k3n"],
    ],
  });

  repo = Option.String("--repo", { required: true, description: "Path of the git repository (work tree or bare)" });
  addr = Option.String("--addr", "127.0.0.1:8000", { description: "Address to listen on: host:port, [v6]:port or :port" });
  tokens = Option.Array("--token", [], { description: "An access token for pushes, USER=TOKEN (repeatable); the user owns the CLs it pushes" });
  requireAuth = Option.Boolean("--require-auth", { description: "Refuse pushes without a token (default: on when a --token is given); --no-require-auth allows anonymous pushes" });

  async run(): Promise<number> {
    this.setupLogging(undefined);
    const { parseTokenSpec } = await import("../../devserver/push-auth.ts");
    let tokens: Record<string, string>;
    try {
      tokens = Object.fromEntries(this.tokens.map(parseTokenSpec));
    } catch (err) {
      throw new CliError(`devserver: ${(err as Error).message}`, ExitCode.CONFIG);
    }
    try {
      const { runDevServer } = await import("../../devserver/index.ts");
      return await runDevServer({ repo: this.repo, addr: this.addr, tokens, requireAuth: this.requireAuth });
    } catch (err) {
      throw new CliError(`devserver: ${(err as Error).message}`, ExitCode.INTERNAL);
    }
  }
}
