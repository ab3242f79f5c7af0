/**
 * @module cli/commands/stats — `stats [--json] [--watch [--interval S]]`: the daemon's metrics (`GET /metrics`)
 * summed up for a person: FUSE requests and latency per engine and op, remote requests per endpoint, cache
 * hit ratio and size, job mounts by state, watcher lag. `--watch` redraws with per-second rates.
 */
import { Command, Option } from "clipanion";
import * as t from "typanion";
import { ClientCommand } from "../client-command.ts";
import { errorText, type DaemonClient } from "../daemon-client.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { humanBytes, humanDuration } from "../format.ts";
import { parseMetricsText, summarize, type StatsSummary } from "../metrics-text.ts";

async function fetchStats(client: DaemonClient): Promise<StatsSummary> {
  const res = await client.request("GET", "/metrics");
  if (res.status === 404) throw new CliError(`the daemon at ${client.baseUrl} does not serve /metrics (an older version?)`, ExitCode.INTERNAL);
  if (!res.ok) throw new CliError(`failed to read metrics from ${client.baseUrl}: ${errorText(res)}`, ExitCode.INTERNAL);
  return summarize(parseMetricsText(res.text));
}

function ms(seconds: number, count: number): string {
  return count > 0 ? `${((seconds / count) * 1000).toFixed(2)} ms` : "-";
}

/** The text report; with `previous` and `elapsed` (seconds), request counts become rates. */
export function renderStats(s: StatsSummary, previous?: StatsSummary, elapsed?: number): string[] {
  const lines: string[] = [];
  const rate = (now: number, before: number | undefined) => (previous && elapsed ? ` (${((now - (before ?? 0)) / elapsed).toFixed(1)}/s)` : "");
  const head: string[] = [];
  if (s.uptime_secs !== null) head.push(`uptime ${humanDuration(s.uptime_secs)}`);
  if (s.rss_bytes !== null) head.push(`memory ${humanBytes(s.rss_bytes)}`);
  if (head.length) lines.push(`daemon: ${head.join(", ")}`);

  const engines = Object.entries(s.fuse).sort(([a], [b]) => a.localeCompare(b));
  if (engines.length === 0) lines.push("fuse: no requests yet");
  for (const [engine, e] of engines) {
    lines.push(`fuse ${engine}: ${e.requests} request(s)${rate(e.requests, previous?.fuse[engine]?.requests)}, ${e.errors} error(s), avg ${ms(e.seconds, e.requests)}`);
    const top = Object.entries(e.ops).sort(([, a], [, b]) => b.requests - a.requests).slice(0, 6);
    for (const [op, o] of top) {
      if (o.requests === 0) continue;
      lines.push(`  ${op.padEnd(12)} ${String(o.requests).padStart(9)}${rate(o.requests, previous?.fuse[engine]?.ops[op]?.requests)}  errors ${o.errors}  avg ${ms(o.seconds, o.requests)}`);
    }
  }

  const endpoints = Object.entries(s.remote).sort(([a], [b]) => a.localeCompare(b));
  if (endpoints.length === 0) lines.push("remote: no requests yet");
  for (const [endpoint, r] of endpoints) {
    lines.push(`remote ${endpoint}: ${r.requests} request(s)${rate(r.requests, previous?.remote[endpoint]?.requests)}, ${r.errors} failed, ${humanBytes(r.bytes)}, avg ${ms(r.seconds, r.requests)}`);
  }

  const c = s.cache;
  const lookups = c.hits + c.misses;
  const ratio = lookups > 0 ? `${((c.hits / lookups) * 100).toFixed(1)}% hits` : "no lookups yet";
  lines.push(`cache: ${humanBytes(c.bytes)} in ${c.blobs} blob(s)${c.max_bytes > 0 ? ` of ${humanBytes(c.max_bytes)}` : ""}; ${ratio} (${c.hits} hit(s), ${c.misses} miss(es))`);

  const states = Object.entries(s.job_mounts).filter(([, n]) => n > 0);
  lines.push(`job mounts: ${states.length ? states.map(([st, n]) => `${n} ${st}`).join(", ") : "none"}`);
  lines.push(`watcher: ${s.watcher_lag_secs === null ? "no check yet" : `last confirmed ${humanDuration(s.watcher_lag_secs)} ago`}`);
  return lines;
}

export class StatsCommand extends ClientCommand {
  static override paths = [["stats"]];
  static override usage = Command.Usage({
    category: "Daemon",
    description: "show the daemon's request, cache and mount statistics",
    details: `
      Reads the daemon's Prometheus metrics (\`GET /metrics\`) and sums them up: FUSE requests, errors and
      average latency per mount engine and operation; requests, failures and bytes per Mega endpoint; cache
      hit ratio and size against \`cache_max_bytes\`; job mounts by state; the change watcher's lag.
      \`--watch\` redraws every \`--interval\` seconds with per-second rates; \`--json\` prints the numbers
      (with \`--watch\`, one JSON object per line).
    `,
    examples: [
      ["Show the statistics", "$0 stats"],
      ["Watch them every 2 seconds", "$0 stats --watch"],
      ["As JSON", "$0 stats --json"],
    ],
  });

  json = Option.Boolean("--json", false, { description: "Print JSON instead of text" });
  watch = Option.Boolean("--watch", false, { description: "Keep printing until interrupted" });
  interval = Option.String("--interval", "2", {
    description: "Seconds between reports with --watch",
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(1, 3600)]),
  });
  count = Option.String("--count", {
    description: "With --watch: stop after this many reports (default: until interrupted)",
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(1)]),
  });

  async run(): Promise<number> {
    const client = this.connect();
    let previous: StatsSummary | undefined;
    let previousAt = 0;
    const reports = this.watch ? (this.count ?? Infinity) : 1;
    for (let i = 0; i < reports; i++) {
      if (i > 0) await Bun.sleep(this.interval * 1000);
      const stats = await fetchStats(client);
      const now = performance.now();
      if (this.json) this.out(JSON.stringify(stats, null, this.watch ? undefined : 2));
      else {
        // A TTY gets a redrawn screen; a pipe gets one block per report.
        if (this.watch && (this.context.stdout as { isTTY?: boolean }).isTTY) this.context.stdout.write("\x1b[H\x1b[2J");
        const lines = renderStats(stats, previous, previous ? (now - previousAt) / 1000 : undefined);
        this.out((this.watch && i > 0 ? "\n" : "") + lines.join("\n"));
      }
      previous = stats;
      previousAt = now;
    }
    return ExitCode.SUCCESS;
  }
}
