/**
 * @module cli/commands/umount — `umount <JOB_ID>`: asks the daemon to unmount a job mount
 * (DELETE {antares}/mounts/by-job/{id}). Unknown job → `job <id> not found`, exit 3.
 */
import { Command, Option } from "clipanion";
import { ClientCommand } from "../client-command.ts";
import { Deadline, errorText, isObject } from "../daemon-client.ts";
import { ExitCode } from "../exit-codes.ts";

export class UmountCommand extends ClientCommand {
  static override paths = [["umount"]];
  static override usage = Command.Usage({
    category: "Job mounts",
    description: "unmount a build job's mount (through the running daemon)",
    details: `
      Unmounts the job mount created by \`mount\` or \`http-mount --job-id\`. Prints
      \`unmounted job <JOB_ID>\`. Exit code 3 if the job is unknown or the unmount fails.
    `,
    examples: [["Unmount job build-42", "$0 umount build-42"]],
  });

  jobId = Option.String({ name: "JOB_ID" });

  protected override noDaemonExit: number = ExitCode.MOUNT;

  async run(): Promise<number> {
    const client = this.connect();
    const base = await client.antaresBase();
    const res = await client.request("DELETE", `${base}/mounts/by-job/${encodeURIComponent(this.jobId)}`, {
      timeoutMs: Deadline.DELETE_MS,
    });
    if (res.status === 404) {
      this.err(`job ${this.jobId} not found`);
      return ExitCode.MOUNT;
    }
    if (!res.ok) {
      this.err(`failed to unmount job ${this.jobId}: ${errorText(res)}`);
      return ExitCode.MOUNT;
    }
    // The API answers 200 with a `Failed` state when the unmount itself failed.
    const state = isObject(res.json) ? res.json.state : undefined;
    if (isObject(state) && isObject(state.Failed)) {
      this.err(`failed to unmount job ${this.jobId}: ${String(state.Failed.reason ?? "unknown reason")}`);
      return ExitCode.MOUNT;
    }
    this.out(`unmounted job ${this.jobId}`);
    return ExitCode.SUCCESS;
  }
}
