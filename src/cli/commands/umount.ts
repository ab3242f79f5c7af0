/**
 * @module cli/commands/umount — `umount <JOB_ID>` or `umount --mount-id <ID>`: asks the daemon to unmount
 * a job mount (DELETE {antares}/mounts/by-job/{id} or /mounts/{mount_id}). The mount-id form reaches
 * mounts created without a job id. Unknown job or mount → `… not found`, exit 3.
 */
import { Command, Option } from "clipanion";
import { ClientCommand } from "../client-command.ts";
import { Deadline, errorText, isObject } from "../daemon-client.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { checkJobId } from "../job-id.ts";

export class UmountCommand extends ClientCommand {
  static override paths = [["umount"]];
  static override usage = Command.Usage({
    category: "Job mounts",
    description: "unmount a build job's mount (through the running daemon)",
    details: `
      Unmounts the job mount created by \`mount\` or \`http-mount --job-id\`, named by its job id or, with
      \`--mount-id\`, by the mount id that \`list\` shows (also for mounts created without a job id).
      Prints \`unmounted job <JOB_ID>\` (\`unmounted mount <ID>\`); \`--json\` prints the final mount status.
      Exit code 2 for a missing or invalid id, 3 if the job is unknown or the unmount fails.
    `,
    examples: [
      ["Unmount job build-42", "$0 umount build-42"],
      ["Unmount by mount id", "$0 umount --mount-id 1b4e28ba-2fa1-11d2-883f-0016d3cca427"],
    ],
  });

  jobId = Option.String({ name: "JOB_ID", required: false });
  mountId = Option.String("--mount-id", { description: "Mount id (as listed by `list`) instead of a job id" });
  json = Option.Boolean("--json", false, { description: "Print the unmounted mount's status as JSON" });

  protected override noDaemonExit: number = ExitCode.MOUNT;

  async run(): Promise<number> {
    if ((this.jobId === undefined) === (this.mountId === undefined)) {
      throw new CliError("give either JOB_ID or --mount-id <ID> (exactly one)", ExitCode.CONFIG);
    }
    if (this.jobId !== undefined) checkJobId(this.jobId);
    const what = this.jobId !== undefined ? `job ${this.jobId}` : `mount ${this.mountId}`;
    const client = this.connect();
    const base = await client.antaresBase();
    const path = this.jobId !== undefined ? `/mounts/by-job/${encodeURIComponent(this.jobId)}` : `/mounts/${encodeURIComponent(this.mountId!)}`;
    const res = await client.request("DELETE", base + path, { timeoutMs: Deadline.DELETE_MS });
    if (res.status === 404) return this.fail(`${what} not found`, ExitCode.MOUNT);
    if (res.status === 400 && this.mountId !== undefined) return this.fail(`invalid mount id '${this.mountId}': ${errorText(res)}`, ExitCode.CONFIG);
    if (!res.ok) return this.fail(`failed to unmount ${what}: ${errorText(res)}`, ExitCode.MOUNT);
    // The API answers 200 with a `Failed` state when the unmount itself failed.
    const state = isObject(res.json) ? res.json.state : undefined;
    if (isObject(state) && isObject(state.Failed)) {
      return this.fail(`failed to unmount ${what}: ${String(state.Failed.reason ?? "unknown reason")}`, ExitCode.MOUNT);
    }
    if (this.json) this.out(JSON.stringify(res.json ?? {}));
    else this.out(`unmounted ${what}`);
    return ExitCode.SUCCESS;
  }
}
