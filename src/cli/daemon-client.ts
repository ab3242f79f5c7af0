/**
 * @module cli/daemon-client — how client commands find and talk to the running daemon.
 *
 * The daemon records `daemon = {http_addr, pid, started_at}` in the runtime state file (`config_file`)
 * after it binds; `--endpoint` overrides that. Every request has a deadline. The Antares routes live
 * under `/antares` on `scorpio serve` and at the root on `antares serve`; the client tells them apart
 * by the /health body (only the main daemon's has `version`).
 */
import { readRuntimeState } from "../config/index.ts";
import { dialableUrl } from "../server/socket-addr.ts";
import { CliError, ExitCode } from "./exit-codes.ts";

/** Deadlines per request class (the original's docs recommended these client timeouts). */
export const Deadline = {
  QUERY_MS: 5_000,
  CREATE_MS: 120_000,
  DELETE_MS: 60_000,
} as const;

export interface DaemonRecordInfo {
  http_addr: string;
  pid: number;
  started_at: string;
}

export interface DaemonLocation {
  baseUrl: string;
  /** The state-file record, when the daemon was found through it. */
  record?: DaemonRecordInfo;
}

export interface DaemonResponse {
  status: number;
  ok: boolean;
  text: string;
  /** The parsed body, or undefined if it is not JSON. */
  json: unknown;
}

/** True when a process with this pid exists (EPERM: it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Finds the daemon. `noDaemonExit` is the exit code used when none runs (mount/umount use 3).
 * Throws CliError with an actionable message when there is none.
 */
export function locateDaemon(opts: { endpoint?: string; stateFile?: string; noDaemonExit?: number }): DaemonLocation {
  const exit = opts.noDaemonExit ?? ExitCode.INTERNAL;
  if (opts.endpoint) {
    let url: URL;
    try {
      url = new URL(opts.endpoint);
    } catch {
      throw new CliError(`invalid --endpoint '${opts.endpoint}': expected a URL such as http://127.0.0.1:2725`, ExitCode.CONFIG);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new CliError(`invalid --endpoint '${opts.endpoint}': expected an http:// or https:// URL`, ExitCode.CONFIG);
    }
    return { baseUrl: opts.endpoint.replace(/\/+$/, "") };
  }
  const stateFile = opts.stateFile ?? "config.toml";
  const hint = "start it with 'scorpio serve' (or pass --endpoint <url>)";
  let record: DaemonRecordInfo | undefined;
  try {
    record = readRuntimeState(stateFile).daemon;
  } catch (err) {
    throw new CliError(`no scorpio daemon is running (cannot read state file ${stateFile}: ${(err as Error).message}); ${hint}`, exit);
  }
  if (!record) throw new CliError(`no scorpio daemon is running (state file ${stateFile}); ${hint}`, exit);
  if (!pidAlive(record.pid)) {
    throw new CliError(
      `no scorpio daemon is running (state file ${stateFile} names pid ${record.pid} at ${record.http_addr}, which has exited); ${hint}`,
      exit,
    );
  }
  let baseUrl: string;
  try {
    baseUrl = dialableUrl(record.http_addr);
  } catch {
    throw new CliError(`state file ${stateFile} records an invalid daemon address '${record.http_addr}'`, exit);
  }
  return { baseUrl, record };
}

export class DaemonClient {
  private antaresPrefix: string | undefined;

  constructor(
    readonly location: DaemonLocation,
    /** Exit code for transport failures (cannot reach the daemon). */
    private readonly unreachableExit: number = ExitCode.INTERNAL,
    /** Bearer token for a daemon started with `http_token`. */
    private readonly token: string = "",
  ) {}

  /** Request headers: the bearer token when one is configured, plus `extra`. */
  headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}`, ...extra } : extra;
  }

  get baseUrl(): string {
    return this.location.baseUrl;
  }

  async request(method: string, path: string, opts: { body?: unknown; timeoutMs?: number } = {}): Promise<DaemonResponse> {
    const timeoutMs = opts.timeoutMs ?? Deadline.QUERY_MS;
    const url = this.baseUrl + path;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers: this.headers(opts.body === undefined ? {} : { "content-type": "application/json" }),
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw new CliError(`cannot reach the scorpio daemon at ${this.baseUrl}: ${describeFetchError(err, timeoutMs)}`, this.unreachableExit);
    }
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, ok: res.ok, text, json };
  }

  /** `/antares` on the main daemon, `` on a standalone Antares daemon. */
  async antaresBase(): Promise<string> {
    if (this.antaresPrefix !== undefined) return this.antaresPrefix;
    const health = await this.request("GET", "/health");
    const isMain = isObject(health.json) && "version" in health.json;
    this.antaresPrefix = isMain ? "/antares" : "";
    return this.antaresPrefix;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The `error` text of an `{error, code}` body, or the raw body. */
export function errorText(res: DaemonResponse): string {
  if (isObject(res.json) && typeof res.json.error === "string") return res.json.error;
  return res.text.trim() || `HTTP ${res.status}`;
}

export function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return `no answer within ${timeoutMs / 1000}s`;
  }
  return err instanceof Error ? err.message : String(err);
}
