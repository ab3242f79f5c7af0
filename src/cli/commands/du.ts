/**
 * @module cli/commands/du — `du [--json]`: size of the local blob cache, from the daemon's
 * `GET /api/v1/cache` → `{bytes, blobs, max_bytes}`.
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

export class DuCommand extends ClientCommand {
  static override paths = [["du"]];
  static override usage = Command.Usage({
    category: "Cache",
    description: "show how much disk the file-content cache uses",
    details: `
      Asks the running daemon for the size of its blob cache under \`store_path\` and the
      configured limit (\`cache_max_bytes\`). Use \`gc\` to trim it.
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
    if (this.json) {
      this.out(JSON.stringify(stats, null, 2));
      return ExitCode.SUCCESS;
    }
    const limit = stats.max_bytes ? ` (limit ${humanBytes(stats.max_bytes)})` : "";
    this.out(`cache: ${humanBytes(stats.bytes)} in ${stats.blobs} blob(s)${limit}`);
    return ExitCode.SUCCESS;
  }
}
