/**
 * @module cli/commands/http-mount — `http-mount <PATH> [--job-id] [--cl] [--endpoint]`: creates an
 * Antares mount of a monorepo path over HTTP and prints the daemon's JSON answer. Output lines and
 * exit codes are the original's; unlike it, the request has a deadline (120 s), the daemon is found like
 * the other client commands find it (runtime state file) and errors name the URL. No config file is needed.
 */
import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.ts";
import { DaemonClient, Deadline, describeFetchError, locateDaemon } from "../daemon-client.ts";
import { discoverConfig, loadConfig } from "../../config/index.ts";
import { ExitCode } from "../exit-codes.ts";
import { statusLine } from "../format.ts";

export class HttpMountCommand extends BaseCommand {
  static override paths = [["http-mount"]];
  static override usage = Command.Usage({
    category: "Job mounts",
    description: "create an Antares mount of a monorepo path through the HTTP API",
    details: `
      Sends \`POST <endpoint>/mounts\` with \`{"job_id", "path", "cl"}\` and prints the answer
      (\`{"mount_id", "mountpoint"}\`) as pretty JSON. Without \`--endpoint\` the running daemon is found
      through the runtime state file, like \`mount\` finds it; with no config or no record, the default is
      http://127.0.0.1:2725/antares (http://127.0.0.1:2726 for \`antares\`).

      Exit codes: 1 transport error or a non-JSON answer, 3 the daemon refused (non-2xx).
    `,
    examples: [
      ["Mount third-party/mega for job ci-7", "$0 http-mount /third-party/mega --job-id ci-7"],
      ["Against a remote daemon", "$0 http-mount / --endpoint http://build-host:2725/antares"],
    ],
  });

  monorepoPath = Option.String({ name: "PATH" });
  jobId = Option.String("--job-id", { description: "Job id; makes the call idempotent" });
  cl = Option.String("--cl", { description: "Change list to layer over the path" });
  endpoint = Option.String("--endpoint", { description: "Antares API base URL" });

  async run(): Promise<number> {
    this.setupLogging(undefined);
    const url = `${(this.endpoint ?? (await this.daemonAntaresUrl())).replace(/\/+$/, "")}/mounts`;
    let res: Response;
    let body: string;
    try {
      res = await fetch(url, {
        method: "POST",
        // A daemon with `http_token` wants it; http-mount reads no config, so it comes from the env.
        headers: process.env.SCORPIO_HTTP_TOKEN
          ? { "content-type": "application/json", authorization: `Bearer ${process.env.SCORPIO_HTTP_TOKEN}` }
          : { "content-type": "application/json" },
        // Nulls are sent explicitly, as the original did.
        body: JSON.stringify({ job_id: this.jobId ?? null, path: this.monorepoPath, cl: this.cl ?? null }),
        signal: AbortSignal.timeout(Deadline.CREATE_MS),
      });
      body = await res.text();
    } catch (err) {
      this.err(`http mount request failed: POST ${url}: ${describeFetchError(err, Deadline.CREATE_MS)}`);
      return ExitCode.INTERNAL;
    }
    if (!res.ok) {
      this.err(`http mount failed: status=${statusLine(res.status)} body=${body} (POST ${url})`);
      return ExitCode.MOUNT;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      this.err(`failed to parse response json: ${(err as Error).message}`);
      return ExitCode.INTERNAL;
    }
    this.out(JSON.stringify(parsed, null, 2));
    return ExitCode.SUCCESS;
  }

  /** The Antares API of the daemon recorded in the runtime state file, else the built-in default. */
  private async daemonAntaresUrl(): Promise<string> {
    const fallback = this.context.binaryName === "antares" ? "http://127.0.0.1:2726" : "http://127.0.0.1:2725/antares";
    try {
      const config = loadConfig({ configPath: discoverConfig(this.configPathOption, this.context.env).path, env: this.context.env, overrides: this.configOverrides() }).config;
      const location = locateDaemon({ stateFile: config.config_file });
      const client = new DaemonClient(location, ExitCode.INTERNAL, config.http_token);
      return client.baseUrl + (await client.antaresBase());
    } catch {
      // No config, no record, or the recorded daemon does not answer: the documented default.
      return fallback;
    }
  }
}
