/**
 * @module cli/commands/mount — `mount <JOB_ID> [--cl CL]`: asks the running daemon for a job mount of
 * the whole monorepo (POST {antares}/mounts). The original mounted in-process and left a dead mount
 * when the CLI exited; here the daemon owns the mount.
 */
import { Command, Option } from "clipanion";
import { ClientCommand } from "../client-command.ts";
import { Deadline, errorText, isObject } from "../daemon-client.ts";
import { ExitCode } from "../exit-codes.ts";
import { checkJobId } from "../job-id.ts";

export class MountCommand extends ClientCommand {
  static override paths = [["mount"]];
  static override usage = Command.Usage({
    category: "Job mounts",
    description: "mount the monorepo for a build job (through the running daemon)",
    details: `
      Creates an Antares job mount: a private writable layer over the read-only monorepo view,
      optionally with the files of change list \`--cl\` on top. The call is idempotent per job id.
      Prints \`mounted job <JOB_ID> at <mountpoint>\` (\`--json\`: \`{job_id, mount_id, mountpoint}\`).
      Exit code 2 for an empty or invalid job id, 3 if the mount fails or no daemon runs.
    `,
    examples: [
      ["Mount the monorepo for job build-42", "$0 mount build-42"],
      ["Mount it with change list 12345 applied", "$0 mount build-42 --cl 12345"],
      ["Get the mountpoint in a script", "$0 mount build-42 --json | jq -r .mountpoint"],
    ],
  });

  jobId = Option.String({ name: "JOB_ID" });
  cl = Option.String("--cl", { description: "Change list to layer over the monorepo" });
  json = Option.Boolean("--json", false, { description: "Print JSON instead of text" });

  protected override noDaemonExit: number = ExitCode.MOUNT;

  async run(): Promise<number> {
    checkJobId(this.jobId);
    const client = this.connect();
    const base = await client.antaresBase();
    const res = await client.request("POST", `${base}/mounts`, {
      body: { job_id: this.jobId, path: "/", cl: this.cl ?? null },
      timeoutMs: Deadline.CREATE_MS,
    });
    if (!res.ok) return this.fail(`failed to mount job ${this.jobId}: ${errorText(res)}`, ExitCode.MOUNT);
    const mountpoint = isObject(res.json) && typeof res.json.mountpoint === "string" ? res.json.mountpoint : "(unknown)";
    const mountId = isObject(res.json) && typeof res.json.mount_id === "string" ? res.json.mount_id : null;
    if (this.json) this.out(JSON.stringify({ job_id: this.jobId, mount_id: mountId, mountpoint }));
    else this.out(`mounted job ${this.jobId} at ${mountpoint}`);
    return ExitCode.SUCCESS;
  }
}
