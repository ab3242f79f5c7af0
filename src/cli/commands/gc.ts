/**
 * @module cli/commands/gc — `gc [--target SIZE]`: asks the daemon to evict least-recently-used blobs
 * (`POST /api/v1/cache/gc` with `{target_bytes}` → `{removed_blobs, freed_bytes, bytes}`). Blobs of
 * open files and of copied-up files are pinned by the daemon and never evicted.
 */
import { Command, Option } from "clipanion";
import { ClientCommand } from "../client-command.ts";
import { Deadline, errorText, isObject } from "../daemon-client.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { humanBytes, parseSize } from "../format.ts";

export class GcCommand extends ClientCommand {
  static override paths = [["gc"]];
  static override usage = Command.Usage({
    category: "Cache",
    description: "trim the file-content cache",
    details: `
      Evicts least-recently-used blobs until the cache is at most \`--target\` bytes (default: the
      configured \`cache_max_bytes\`). Evicted files are fetched again on next read.
    `,
    examples: [
      ["Trim to the configured limit", "$0 gc"],
      ["Trim to 2 GiB", "$0 gc --target 2G"],
      ["Empty the cache", "$0 gc --target 0"],
    ],
  });

  target = Option.String("--target", { description: "Size to trim to, e.g. 500M, 2G or a byte count" });
  json = Option.Boolean("--json", false, { description: "Print JSON instead of text" });

  async run(): Promise<number> {
    let targetBytes: number | undefined;
    if (this.target !== undefined) {
      try {
        targetBytes = parseSize(this.target);
      } catch (err) {
        throw new CliError((err as Error).message, ExitCode.CONFIG);
      }
    }
    const client = this.connect();
    const res = await client.request("POST", "/api/v1/cache/gc", {
      body: targetBytes === undefined ? {} : { target_bytes: targetBytes },
      timeoutMs: Deadline.CREATE_MS,
    });
    if (res.status === 404) throw new CliError(`the daemon at ${client.baseUrl} does not support gc (POST /api/v1/cache/gc)`, ExitCode.INTERNAL);
    if (!res.ok || !isObject(res.json)) throw new CliError(`gc failed: ${errorText(res)}`, ExitCode.INTERNAL);
    if (this.json) {
      this.out(JSON.stringify(res.json, null, 2));
      return ExitCode.SUCCESS;
    }
    const r = res.json;
    this.out(`removed ${Number(r.removed_blobs ?? 0)} blob(s), freed ${humanBytes(Number(r.freed_bytes ?? 0))}; cache now ${humanBytes(Number(r.bytes ?? 0))}`);
    return ExitCode.SUCCESS;
  }
}
