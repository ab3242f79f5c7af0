/**
 * @module util/metrics — the daemon's Prometheus metrics: one prom-client registry and small typed
 * recording functions, so instrumented modules never touch prom-client themselves and a metric's name,
 * labels and buckets are decided here only. Served as text by `GET /metrics`, summarised by `scorpio stats`.
 *
 * Hot paths (FUSE requests, cache lookups) get pre-resolved label children; values that a module already
 * keeps (cache usage, job mount states, watcher progress) are read at scrape time through providers.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export const registry = new Registry();

/** Request latencies from 50 µs (kernel-cached answers are not seen at all) to 30 s (a slow remote fetch). */
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

// ---- FUSE ---------------------------------------------------------------------------------------

const fuseRequests = new Counter({
  name: "scorpio_fuse_requests_total",
  help: "FUSE requests answered, by mount engine, operation and result (ok or error).",
  labelNames: ["engine", "op", "result"] as const,
  registers: [registry],
});
const fuseLatency = new Histogram({
  name: "scorpio_fuse_request_duration_seconds",
  help: "Time from a FUSE request's arrival to its reply, by mount engine and operation.",
  labelNames: ["engine", "op"] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

/** Records one answered FUSE request: its duration in seconds and whether the reply was an error. */
export type FuseOpRecorder = (seconds: number, ok: boolean) => void;

/** A recorder for one (engine, op) pair; resolve it once per session and op, call it per request. */
export function fuseOpRecorder(engine: string, op: string): FuseOpRecorder {
  const ok = fuseRequests.labels(engine, op, "ok");
  const error = fuseRequests.labels(engine, op, "error");
  const latency = fuseLatency.labels(engine, op);
  return (seconds, success) => {
    (success ? ok : error).inc();
    latency.observe(seconds);
  };
}

// ---- remote (Mega server) -------------------------------------------------------------------------

const remoteRequests = new Counter({
  name: "scorpio_remote_requests_total",
  help: "HTTP requests to the Mega server, by endpoint and status (a number, or error/timeout when no answer came).",
  labelNames: ["endpoint", "status"] as const,
  registers: [registry],
});
const remoteLatency = new Histogram({
  name: "scorpio_remote_request_duration_seconds",
  help: "Duration of one attempt of an HTTP request to the Mega server, by endpoint.",
  labelNames: ["endpoint"] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});
const remoteBytes = new Counter({
  name: "scorpio_remote_bytes_total",
  help: "Response bytes fetched from the Mega server, by endpoint.",
  labelNames: ["endpoint"] as const,
  registers: [registry],
});

/** The endpoint template of a Mega URL: ids and CL links are replaced so the label set stays bounded. */
export function endpointLabel(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return "invalid";
  }
  return path
    .replace(/\/file\/blob\/[^/]+$/, "/file/blob/{id}")
    .replace(/\/cl\/[^/]+\//, "/cl/{link}/")
    .replace(/\/lfs\/.*$/, "/lfs/{object}");
}

/** What the last request to the Mega server showed: /health reports the server unreachable from it. */
export interface RemoteReachability {
  /** False after a network failure, a timeout or a 5xx; true after any other answer. */
  reachable: boolean;
  atMs: number;
  error?: string;
}
let lastRemote: RemoteReachability | undefined;

export function remoteReachability(): RemoteReachability | undefined {
  return lastRemote;
}

/**
 * Records one attempt of a request to the Mega server. `status` is the HTTP status, or "error"/"timeout"
 * when no answer came; `error` describes the failure for /health.
 */
export function recordRemoteRequest(url: string, status: number | "error" | "timeout", seconds: number, bytes: number, error?: string): void {
  const endpoint = endpointLabel(url);
  remoteRequests.labels(endpoint, String(status)).inc();
  remoteLatency.labels(endpoint).observe(seconds);
  if (bytes > 0) remoteBytes.labels(endpoint).inc(bytes);
  const reachable = typeof status === "number" && status < 500;
  lastRemote = { reachable, atMs: Date.now(), ...(reachable ? {} : { error: error ?? `HTTP ${status}` }) };
}

// ---- cache --------------------------------------------------------------------------------------

const cacheLookups = new Counter({
  name: "scorpio_cache_lookups_total",
  help: "Blob cache lookups, by origin of the answer (memory: an open handle, disk: the blob store, remote: a download) and result (hit or miss).",
  labelNames: ["origin", "result"] as const,
  registers: [registry],
});

export type CacheOrigin = "memory" | "disk" | "remote";

/** Records a lookup answered from `origin`; a remote answer is a miss of every local tier. */
export function recordCacheLookup(origin: CacheOrigin): void {
  cacheLookups.labels(origin, origin === "remote" ? "miss" : "hit").inc();
}

export interface CacheUsage {
  bytes: number;
  maxBytes: number;
  blobs: number;
}
const cacheProviders = new Set<() => CacheUsage>();

/** Registers a store whose usage is reported at scrape time; returns the unregister function. */
export function registerCacheUsage(provider: () => CacheUsage): () => void {
  cacheProviders.add(provider);
  return () => cacheProviders.delete(provider);
}

function totalCacheUsage(): CacheUsage {
  const total = { bytes: 0, maxBytes: 0, blobs: 0 };
  for (const p of cacheProviders) {
    try {
      const u = p();
      total.bytes += u.bytes;
      total.maxBytes += u.maxBytes;
      total.blobs += u.blobs;
    } catch {
      // A closed store: skip it rather than fail the scrape.
    }
  }
  return total;
}

new Gauge({
  name: "scorpio_cache_bytes",
  help: "Bytes of blob contents in the on-disk cache.",
  registers: [registry],
  collect() {
    this.set(totalCacheUsage().bytes);
  },
});
new Gauge({
  name: "scorpio_cache_max_bytes",
  help: "Bound of the on-disk blob cache (cache_max_bytes; 0 = unbounded).",
  registers: [registry],
  collect() {
    this.set(totalCacheUsage().maxBytes);
  },
});
new Gauge({
  name: "scorpio_cache_blobs",
  help: "Blobs in the on-disk cache.",
  registers: [registry],
  collect() {
    this.set(totalCacheUsage().blobs);
  },
});

// ---- job mounts ---------------------------------------------------------------------------------

const jobStateProviders = new Set<() => Record<string, number>>();

/** Registers a source of job mount counts by lifecycle state (Ready, Failed, ...), read at scrape time. */
export function registerJobMountStates(provider: () => Record<string, number>): () => void {
  jobStateProviders.add(provider);
  return () => jobStateProviders.delete(provider);
}

new Gauge({
  name: "scorpio_job_mounts",
  help: "Antares job mounts, by lifecycle state.",
  labelNames: ["state"] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const p of jobStateProviders) for (const [state, n] of Object.entries(p())) this.inc({ state }, n);
  },
});

// ---- change watcher -----------------------------------------------------------------------------

const watcherChecks = new Counter({
  name: "scorpio_watcher_checks_total",
  help: "Background checks for new commits on the Mega server, by result (ok or error).",
  labelNames: ["result"] as const,
  registers: [registry],
});
let lastWatcherSuccessMs: number | undefined;

/** Records one watcher check; lag is measured from the last successful one. */
export function recordWatcherCheck(ok: boolean): void {
  watcherChecks.labels(ok ? "ok" : "error").inc();
  if (ok) lastWatcherSuccessMs = Date.now();
}

/** Seconds since the watcher last saw the server's current commit; undefined before the first check. */
export function watcherLagSeconds(): number | undefined {
  return lastWatcherSuccessMs === undefined ? undefined : (Date.now() - lastWatcherSuccessMs) / 1000;
}

new Gauge({
  name: "scorpio_watcher_lag_seconds",
  help: "Seconds since the change watcher last confirmed the view is at the server's latest commit (absent before the first check).",
  registers: [registry],
  collect() {
    const lag = watcherLagSeconds();
    if (lag === undefined) this.reset();
    else this.set(lag);
  },
});

// ---- process ------------------------------------------------------------------------------------

const startedAtMs = Date.now();
new Gauge({
  name: "scorpio_uptime_seconds",
  help: "Seconds since the daemon process started.",
  registers: [registry],
  collect() {
    this.set((Date.now() - startedAtMs) / 1000);
  },
});
new Gauge({
  name: "scorpio_resident_memory_bytes",
  help: "Resident set size of the daemon process.",
  registers: [registry],
  collect() {
    this.set(process.memoryUsage.rss());
  },
});

/** The Prometheus text exposition of every metric. */
export async function metricsText(): Promise<string> {
  return registry.metrics();
}

export const METRICS_CONTENT_TYPE = registry.contentType;

/** Every metric as JSON (prom-client's structured form), for `scorpio stats`. */
export async function metricsJson() {
  return registry.getMetricsAsJSON();
}
