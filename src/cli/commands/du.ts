/**
 * @module cli/commands/du — `du [--json]`: size of the local blob cache, from the daemon's
 * `GET /api/v1/cache` → `{bytes, blobs, max_bytes}`, and, when the daemon serves job mounts, the
 * engine, the upper root's filesystem use and every job's upper and CL layer size
 * (`GET /antares/usage`; the JSON output gains an `antares` member).
 */
import { Command, Option } from "clipanion";
import { ClientCommand } from "../client-command.ts";
import { errorText, isObject, type DaemonClient } from "../daemon-client.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { humanBytes } from "../format.ts";

export interface CacheStats {
  bytes: number;
  blobs: number;
  max_bytes: number | null;
}

/** The cache statistics, or null when the daemon does not serve the route (404). */
export async function fetchCacheStats(client: DaemonClient): Promise<CacheStats | null> {
  const res = await client.request("GET", "/api/v1/cache");
  if (res.status === 404) return null;
  if (!res.ok || !isObject(res.json) || typeof res.json.bytes !== "number") {
    throw new CliError(`failed to read cache statistics: ${errorText(res)}`, ExitCode.INTERNAL);
  }
  return {
    bytes: res.json.bytes,
    blobs: typeof res.json.blobs === "number" ? res.json.blobs : 0,
    max_bytes: typeof res.json.max_bytes === "number" ? res.json.max_bytes : null,
  };
}

interface JobUsage {
  mount_id: string;
  job_id: string | null;
  path: string;
  upper_bytes: number;
  cl_bytes: number;
}

interface AntaresUsage {
  engine: string;
  engine_reason: string;
  disk: { path: string; used_percent: number; free_bytes: number; warn_percent: number; max_percent: number; level: string };
  mounts: JobUsage[];
}

/** The job mounts' disk use, or null when the daemon serves no job mounts (404). */
export async function fetchAntaresUsage(client: DaemonClient): Promise<AntaresUsage | null> {
  const res = await client.request("GET", `${await client.antaresBase()}/usage`);
  if (res.status === 404) return null;
  if (!res.ok || !isObject(res.json) || !Array.isArray(res.json.mounts)) {
    throw new CliError(`failed to read job mount usage: ${errorText(res)}`, ExitCode.INTERNAL);
  }
  return res.json as unknown as AntaresUsage;
}

export function renderAntaresUsage(u: AntaresUsage): string[] {
  const d = u.disk;
  const lines = [
    `job mounts: ${u.mounts.length} (engine ${u.engine})`,
    `upper root: ${d.path} ${d.used_percent}% used, ${humanBytes(d.free_bytes)} free (warn above ${d.warn_percent}%, refuse above ${d.max_percent}%)`,
  ];
  for (const m of u.mounts) {
    lines.push(`  ${m.job_id ?? m.mount_id}  path=${m.path}  upper=${humanBytes(m.upper_bytes)}  cl=${humanBytes(m.cl_bytes)}`);
  }
  return lines;
}

export class DuCommand extends ClientCommand {
  static override paths = [["du"]];
  static override usage = Command.Usage({
    category: "Cache",
    description: "show how much disk the file-content cache and the job mounts use",
    details: `
      Asks the running daemon for the size of its blob cache under \`store_path\` and the
      configured limit (\`cache_max_bytes\`), then for every job mount's upper and CL layer size
      and how full the upper root's filesystem is. Use \`gc\` to trim the cache.
    `,
    examples: [
      ["Show the cache size", "$0 du"],
      ["As JSON", "$0 du --json"],
    ],
  });

  json = Option.Boolean("--json", false, { description: "Print JSON instead of text" });

  async run(): Promise<number> {
    const client = this.connect();
    const stats = await fetchCacheStats(client);
    if (!stats) throw new CliError(`the daemon at ${client.baseUrl} does not serve cache statistics (GET /api/v1/cache)`, ExitCode.INTERNAL);
    const antares = await fetchAntaresUsage(client);
    if (this.json) {
      this.out(JSON.stringify(antares ? { ...stats, antares } : stats, null, 2));
      return ExitCode.SUCCESS;
    }
    const limit = stats.max_bytes ? ` (limit ${humanBytes(stats.max_bytes)})` : "";
    this.out(`cache: ${humanBytes(stats.bytes)} in ${stats.blobs} blob(s)${limit}`);
    if (antares) for (const line of renderAntaresUsage(antares)) this.out(line);
    return ExitCode.SUCCESS;
  }
}
