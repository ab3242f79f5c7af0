/**
 * @module cli/commands/list — `list [--json]`: the daemon's job mounts, one line each, sorted by job id
 * (the original printed hash-map order).
 */
import { Command, Option } from "clipanion";
import { ClientCommand } from "../client-command.ts";
import { errorText, isObject } from "../daemon-client.ts";
import { CliError, ExitCode } from "../exit-codes.ts";

interface MountLine {
  job_id: string | null;
  mount_id: string;
  mountpoint: string;
  upper: string;
  cl: string | null;
}

function toLine(v: unknown): MountLine | undefined {
  if (!isObject(v)) return undefined;
  const layers = isObject(v.layers) ? v.layers : {};
  return {
    job_id: typeof v.job_id === "string" ? v.job_id : null,
    mount_id: String(v.mount_id ?? ""),
    mountpoint: String(v.mountpoint ?? ""),
    upper: String(layers.upper ?? ""),
    cl: typeof layers.cl === "string" ? layers.cl : null,
  };
}

export class ListCommand extends ClientCommand {
  static override paths = [["list"]];
  static override usage = Command.Usage({
    category: "Job mounts",
    description: "list the job mounts of the running daemon",
    details: `
      One line per mount: \`job_id=… mount=… upper=… cl=…\` (cl is \`(none)\` without a change
      list), sorted by job id; \`no active jobs\` when there is none. \`--json\` prints the daemon's
      mount records instead.
    `,
    examples: [
      ["List job mounts", "$0 list"],
      ["As JSON, for scripts", "$0 list --json"],
    ],
  });

  json = Option.Boolean("--json", false, { description: "Print JSON instead of text" });

  async run(): Promise<number> {
    const client = this.connect();
    const base = await client.antaresBase();
    const res = await client.request("GET", `${base}/mounts`);
    if (!res.ok || !isObject(res.json) || !Array.isArray(res.json.mounts)) {
      throw new CliError(`failed to list mounts: ${errorText(res)}`, ExitCode.INTERNAL);
    }
    const raw = res.json.mounts as unknown[];
    const key = (v: unknown) => {
      const l = toLine(v);
      return `${l?.job_id ?? "\uffff"}\u0000${l?.mount_id ?? ""}`;
    };
    const sorted = [...raw].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    if (this.json) {
      this.out(JSON.stringify({ mounts: sorted }, null, 2));
      return ExitCode.SUCCESS;
    }
    const lines = sorted.map(toLine).filter((l): l is MountLine => l !== undefined);
    if (lines.length === 0) {
      this.out("no active jobs");
      return ExitCode.SUCCESS;
    }
    for (const l of lines) {
      this.out(`job_id=${l.job_id ?? "(none)"} mount=${l.mountpoint} upper=${l.upper} cl=${l.cl ?? "(none)"}`);
    }
    return ExitCode.SUCCESS;
  }
}
