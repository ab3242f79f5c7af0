/**
 * @module cli/commands/refresh — `refresh <JOB_ID>`: moves a job mount to a view pinned at the newest
 * commit, keeping its upper and CL layers (`GET {antares}/mounts/by-job/{id}`, then
 * `POST {antares}/mounts/{mount_id}/refresh`). Unknown job → `job <id> not found`, exit 3.
 */
import { Command, Option } from "clipanion";
import { ClientCommand } from "../client-command.ts";
import { Deadline, errorText, isObject } from "../daemon-client.ts";
import { ExitCode } from "../exit-codes.ts";

export class RefreshCommand extends ClientCommand {
  static override paths = [["refresh"]];
  static override usage = Command.Usage({
    category: "Job mounts",
    description: "move a job mount to the newest commit now (its writes are kept)",
    details: `
      A job mount sees the commit it was created at. This asks the running daemon to move the job
      to the newest commit of its path (a read-only view pinned there) and to drop what the mount
      cached of the old one. The job's upper layer (its writes) and CL layer are kept; its recorded
      base moves too, so status and commit are then against the new commit. Refused while the
      mount has local commits. Prints \`refreshed job <JOB_ID> (commit <ID>)\`. Exit code 3 if the
      job is unknown or the refresh fails.
    `,
    examples: [["Refresh job build-42", "$0 refresh build-42"]],
  });

  jobId = Option.String({ name: "JOB_ID" });

  protected override noDaemonExit: number = ExitCode.MOUNT;

  async run(): Promise<number> {
    const client = this.connect();
    const base = await client.antaresBase();
    const found = await client.request("GET", `${base}/mounts/by-job/${encodeURIComponent(this.jobId)}`);
    if (found.status === 404 || !isObject(found.json) || typeof found.json.mount_id !== "string") {
      this.err(found.status === 404 ? `job ${this.jobId} not found` : `failed to find job ${this.jobId}: ${errorText(found)}`);
      return ExitCode.MOUNT;
    }
    const res = await client.request("POST", `${base}/mounts/${found.json.mount_id}/refresh`, { timeoutMs: Deadline.CREATE_MS });
    if (!res.ok) {
      this.err(`failed to refresh job ${this.jobId}: ${errorText(res)}`);
      return ExitCode.MOUNT;
    }
    const commit = isObject(res.json) && typeof res.json.pinned_commit === "string" ? res.json.pinned_commit : null;
    this.out(`refreshed job ${this.jobId}${commit ? ` (commit ${commit.slice(0, 12)})` : " (not pinned: Mega did not tell the commit)"}`);
    return ExitCode.SUCCESS;
  }
}
