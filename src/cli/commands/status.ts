/**
 * @module cli/commands/status — `info [--json]` (and `status` outside any writable mount): is the daemon
 * up, which version, since when, how many mounts, how big is the cache. Inside a writable mount (or
 * with `--mount`) `status` shows the mount's changes instead: see cli/commands/vcs.
 */
import { Command, Option } from "clipanion";
import { ClientCommand } from "../client-command.ts";
import { errorText, isObject } from "../daemon-client.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { humanBytes, humanDuration } from "../format.ts";
import { fetchCacheStats, type CacheStats } from "./du.ts";

export interface StatusReport {
  endpoint: string;
  pid: number | null;
  started_at: string | null;
  status: string;
  version: string | null;
  uptime_secs: number | null;
  mount_count: number | null;
  job_mounts: number | null;
  cache: CacheStats | null;
}

export class InfoCommand extends ClientCommand {
  static override paths = [["info"]];
  static override usage = Command.Usage({
    category: "Daemon",
    description: "show whether the daemon runs, its version, uptime, mounts and cache size",
    details: `
      Reads the daemon's address from the runtime state file (or \`--endpoint\`) and queries its
      \`/health\`, job mounts and cache statistics. Exit code 1 if no daemon is running.
    `,
    examples: [
      ["Show the daemon's status", "$0 info"],
      ["As JSON", "$0 info --json"],
    ],
  });

  json = Option.Boolean("--json", false, { description: "Print JSON instead of text" });

  async run(): Promise<number> {
    return this.printInfo();
  }

  protected async printInfo(): Promise<number> {
    const client = this.connect();
    const health = await client.request("GET", "/health");
    if (!health.ok || !isObject(health.json)) {
      throw new CliError(`the daemon at ${client.baseUrl} answered /health with ${errorText(health)}`, ExitCode.INTERNAL);
    }
    const h = health.json;
    const base = await client.antaresBase();
    const mounts = await client.request("GET", `${base}/mounts`);
    const jobMounts = mounts.ok && isObject(mounts.json) && Array.isArray(mounts.json.mounts) ? mounts.json.mounts.length : null;
    const cache = await fetchCacheStats(client);
    const record = client.location.record;
    const report: StatusReport = {
      endpoint: client.baseUrl,
      pid: record?.pid ?? null,
      started_at: record?.started_at ?? null,
      status: String(h.status ?? "unknown"),
      version: typeof h.version === "string" ? h.version : null,
      uptime_secs: typeof h.uptime_secs === "number" ? h.uptime_secs : null,
      mount_count: typeof h.mount_count === "number" ? h.mount_count : null,
      job_mounts: jobMounts,
      cache,
    };
    if (this.json) {
      this.out(JSON.stringify(report, null, 2));
      return ExitCode.SUCCESS;
    }
    this.out(`daemon: running at ${report.endpoint}${report.pid !== null ? ` (pid ${report.pid})` : ""}`);
    this.out(`status: ${report.status}`);
    if (report.version) this.out(`version: ${report.version}`);
    if (report.uptime_secs !== null) this.out(`uptime: ${humanDuration(report.uptime_secs)}`);
    // /health mount_count counts every mount (workspace, job mounts, legacy checkouts), not only workspaces.
    this.out(`mounts (total): ${report.mount_count ?? "unknown"}`);
    this.out(`job mounts: ${report.job_mounts ?? "unknown"}`);
    this.out(cache ? `cache: ${humanBytes(cache.bytes)} in ${cache.blobs} blob(s)${cache.max_bytes ? ` (limit ${humanBytes(cache.max_bytes)})` : ""}` : "cache: unknown (the daemon does not report cache statistics)");
    return ExitCode.SUCCESS;
  }
}
