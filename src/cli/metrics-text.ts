/**
 * @module cli/metrics-text — reads the daemon's `GET /metrics` (Prometheus text format) and sums it up
 * for people (`scorpio stats`) and for diagnostic bundles. Only what the daemon exposes is parsed:
 * `name{label="value",...} number` lines; comments and the timestamp column are ignored.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescapeLabel(v: string): string {
  return v.replace(/\\(.)/g, (_m, c: string) => (c === "n" ? "\n" : c));
}

function parseNumber(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  return Number(text);
}

export function parseMetricsText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(LABEL)) labels[l[1]!] = unescapeLabel(l[2]!);
    out.push({ name: m[1]!, labels, value: parseNumber(m[3]!) });
  }
  return out;
}

export interface OpSummary {
  requests: number;
  errors: number;
  /** Sum of request durations in seconds (average = seconds / requests). */
  seconds: number;
}

export interface StatsSummary {
  fuse: Record<string, { requests: number; errors: number; seconds: number; ops: Record<string, OpSummary> }>;
  remote: Record<string, { requests: number; errors: number; seconds: number; bytes: number; statuses: Record<string, number> }>;
  cache: { hits: number; misses: number; bytes: number; max_bytes: number; blobs: number };
  job_mounts: Record<string, number>;
  watcher_lag_secs: number | null;
  uptime_secs: number | null;
  rss_bytes: number | null;
}

function single(samples: Sample[], name: string): number | null {
  const s = samples.find((x) => x.name === name);
  return s ? s.value : null;
}

/** The numbers `scorpio stats` shows, grouped. */
export function summarize(samples: Sample[]): StatsSummary {
  const fuse: StatsSummary["fuse"] = {};
  const remote: StatsSummary["remote"] = {};
  const cache = { hits: 0, misses: 0, bytes: 0, max_bytes: 0, blobs: 0 };
  const jobs: Record<string, number> = {};
  const engineOf = (engine: string) => (fuse[engine] ??= { requests: 0, errors: 0, seconds: 0, ops: {} });
  const opOf = (engine: string, op: string) => (engineOf(engine).ops[op] ??= { requests: 0, errors: 0, seconds: 0 });
  const endpointOf = (e: string) => (remote[e] ??= { requests: 0, errors: 0, seconds: 0, bytes: 0, statuses: {} });
  for (const s of samples) {
    const l = s.labels;
    switch (s.name) {
      case "scorpio_fuse_requests_total": {
        const e = engineOf(l.engine ?? "?");
        const o = opOf(l.engine ?? "?", l.op ?? "?");
        e.requests += s.value;
        o.requests += s.value;
        if (l.result === "error") {
          e.errors += s.value;
          o.errors += s.value;
        }
        break;
      }
      case "scorpio_fuse_request_duration_seconds_sum":
        engineOf(l.engine ?? "?").seconds += s.value;
        opOf(l.engine ?? "?", l.op ?? "?").seconds += s.value;
        break;
      case "scorpio_remote_requests_total": {
        const e = endpointOf(l.endpoint ?? "?");
        e.requests += s.value;
        e.statuses[l.status ?? "?"] = (e.statuses[l.status ?? "?"] ?? 0) + s.value;
        if (!/^[1-4]\d\d$/.test(l.status ?? "")) e.errors += s.value;
        break;
      }
      case "scorpio_remote_request_duration_seconds_sum":
        endpointOf(l.endpoint ?? "?").seconds += s.value;
        break;
      case "scorpio_remote_bytes_total":
        endpointOf(l.endpoint ?? "?").bytes += s.value;
        break;
      case "scorpio_cache_lookups_total":
        if (l.result === "hit") cache.hits += s.value;
        else cache.misses += s.value;
        break;
      case "scorpio_cache_bytes":
        cache.bytes = s.value;
        break;
      case "scorpio_cache_max_bytes":
        cache.max_bytes = s.value;
        break;
      case "scorpio_cache_blobs":
        cache.blobs = s.value;
        break;
      case "scorpio_job_mounts":
        jobs[l.state ?? "?"] = s.value;
        break;
    }
  }
  return {
    fuse,
    remote,
    cache,
    job_mounts: jobs,
    watcher_lag_secs: single(samples, "scorpio_watcher_lag_seconds"),
    uptime_secs: single(samples, "scorpio_uptime_seconds"),
    rss_bytes: single(samples, "scorpio_resident_memory_bytes"),
  };
}
