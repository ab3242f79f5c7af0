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
      local cache. A progress bar is shown when stderr is a terminal.
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
    if (this.json) {
      this.out(JSON.stringify(final, null, 2));
      return ExitCode.SUCCESS;
    }
    const files = Number(final.files ?? final.done ?? 0);
    this.out(`prefetched ${files} file(s), ${humanBytes(Number(final.bytes ?? 0))}`);
    return ExitCode.SUCCESS;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
