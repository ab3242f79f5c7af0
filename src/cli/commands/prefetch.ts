/**
 * @module cli/commands/prefetch — `prefetch <GLOB…>`: asks the daemon to download file contents
 * matching the globs into the cache ahead of use (`POST /api/v1/prefetch` with `{globs, job_id}`).
 * The daemon may stream NDJSON progress events `{done, total, bytes}` ending with
 * `{…, "finished": true}`, or answer once with `{files, bytes}`; both are accepted.
 */
import { Command, Option } from "clipanion";
import { ClientCommand } from "../client-command.ts";
import { describeFetchError, isObject } from "../daemon-client.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { humanBytes } from "../format.ts";
import { createProgress } from "../progress.ts";
import { globProblem } from "../../config/kinds.ts";

/** No byte from the daemon for this long means it is stuck. */
const IDLE_DEADLINE_MS = 120_000;

export class PrefetchCommand extends ClientCommand {
  static override paths = [["prefetch"]];
  static override usage = Command.Usage({
    category: "Cache",
    description: "download file contents matching globs into the cache ahead of use",
    details: `
      Globs are monorepo paths relative to the root (\`**\` crosses directories). Directory
      listings are always loaded lazily; this fetches file *contents*, so builds then read from the
      local cache. A progress bar (with rate and ETA) is shown when stderr is a terminal.

      Exit codes: 0 when every matched file is cached; 1 when some downloads failed (the count is
      printed; the daemon log says why) or when the globs match no file; 2 for an invalid glob.
    `,
    examples: [
      ["Prefetch a project's sources", "$0 prefetch 'project/app/**'"],
      ["Several globs at once", "$0 prefetch 'third-party/mega/**/*.rs' 'docs/*.md'"],
    ],
  });

  globs = Option.Rest({ required: 1, name: "GLOB" });
  jobId = Option.String("--job-id", { description: "Prefetch for this job mount's view (default: the root view)" });
  json = Option.Boolean("--json", false, { description: "Print the final result as JSON" });

  async run(): Promise<number> {
    for (const g of this.globs) {
      const problem = globProblem(g, "GLOB");
      if (problem) throw new CliError(problem, ExitCode.CONFIG);
    }
    const client = this.connect();
    const url = `${client.baseUrl}/api/v1/prefetch`;
    const abort = new AbortController();
    let timer = setTimeout(() => abort.abort(), IDLE_DEADLINE_MS);
    const touch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => abort.abort(), IDLE_DEADLINE_MS);
    };
    const progress = createProgress("prefetch", this.context.stderr as { isTTY?: boolean; columns?: number; write(s: string): unknown });
    let final: Record<string, unknown> | undefined;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: client.headers({ "content-type": "application/json" }),
        body: JSON.stringify({ globs: this.globs, job_id: this.jobId ?? null }),
        signal: abort.signal,
      });
      if (res.status === 404) throw new CliError(`the daemon at ${client.baseUrl} does not support prefetch (POST /api/v1/prefetch)`, ExitCode.INTERNAL);
      if (res.status === 400) throw new CliError(`prefetch refused: ${await res.text().then(errorOf)}`, ExitCode.CONFIG);
      const reader = res.body?.getReader();
      const decoder = new TextDecoder();
      let buffered = "";
      const events: unknown[] = [];
      while (reader) {
        const { done, value } = await reader.read();
        if (done) break;
        touch();
        buffered += decoder.decode(value, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (!line) continue;
          const event = parseJson(line);
          events.push(event);
          if (isObject(event) && typeof event.done === "number") {
            progress.update(event.done, typeof event.total === "number" ? event.total : undefined, typeof event.bytes === "number" ? humanBytes(event.bytes) : undefined);
          }
        }
      }
      if (buffered.trim()) events.push(parseJson(buffered.trim()));
      const last = events.at(-1);
      if (!res.ok || (isObject(last) && typeof last.error === "string")) {
        const why = isObject(last) && typeof last.error === "string" ? last.error : `HTTP ${res.status}`;
        throw new CliError(`prefetch failed: ${why}`, ExitCode.INTERNAL);
      }
      if (!isObject(last)) throw new CliError("prefetch failed: the daemon's answer is not JSON", ExitCode.INTERNAL);
      final = last;
    } catch (err) {
      if (err instanceof CliError) throw err;
      throw new CliError(`cannot reach the scorpio daemon at ${client.baseUrl}: ${describeFetchError(err, IDLE_DEADLINE_MS)}`, ExitCode.INTERNAL);
    } finally {
      clearTimeout(timer);
      progress.finish();
    }
    // Older daemons answered `{files, bytes}`; ours stream `{done, total, bytes, failed, finished}`.
    const failed = Number(final.failed ?? 0);
    const total = Number(final.total ?? final.files ?? final.done ?? 0);
    const fetched = Number(final.files ?? final.done ?? 0) - failed;
    const bytes = Number(final.bytes ?? 0);
    const code = total === 0 || failed > 0 ? ExitCode.INTERNAL : ExitCode.SUCCESS;
    if (this.json) {
      this.out(JSON.stringify({ ...final, fetched, failed, total }, null, 2));
      return code;
    }
    if (total === 0) return this.fail(`prefetch: no file matches ${this.globs.map((g) => `'${g}'`).join(", ")}`, code);
    this.out(`prefetched ${fetched} file(s), ${humanBytes(bytes)}`);
    if (failed > 0) return this.fail(`prefetch: ${failed} of ${total} file(s) failed to download (the daemon log says why)`, code);
    return code;
  }
}

function errorOf(text: string): string {
  const j = parseJson(text);
  return isObject(j) && typeof j.error === "string" ? j.error : text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
