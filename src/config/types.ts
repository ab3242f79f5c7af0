/**
 * @module config/types — the shapes the rest of the product sees: the resolved, frozen `ScorpioConfig`, CLI
 * overrides and the runtime state file. Field names are the original's snake_case flat key names on purpose:
 * they are the names users write in scorpio.toml, in `SCORPIO_*` variables and see in `config show`.
 * Holds no logic.
 */

/** How Dicfuse learns file sizes: `fast` trusts listings (size may be unknown), `accurate` asks the server. */
export type StatMode = "fast" | "accurate";
/** Which overlay serves Antares job mounts (`auto` = kernel overlayfs when it can be used). */
export type OverlayEngineMode = "auto" | "kernel-overlayfs" | "fuse-overlay";
/** Log line format on stderr. */
export type LogFormat = "text" | "json";

/** Every configuration key, resolved (CLI > env > file > default), validated and frozen. */
export interface ScorpioConfig {
  /** Mega server base URL, without a trailing slash. */
  readonly base_url: string;
  /** Git LFS server URL, without a trailing slash. */
  readonly lfs_url: string;
  /** Mountpoint of the workspace view (`scorpio serve`). Absolute. */
  readonly workspace: string;
  /** Store directory (metadata databases, blob files, legacy workspace data). Absolute. */
  readonly store_path: string;
  readonly git_author: string;
  readonly git_email: string;
  /** Runtime state file (legacy `works` list + running daemon address). Absolute. */
  readonly config_file: string;
  /** Fallback log filter directive (lowest precedence after the built-in `info`). */
  readonly log_level: string;
  readonly dicfuse_readable: boolean;
  readonly load_dir_depth: number;
  readonly fetch_file_thread: number;
  readonly dicfuse_import_concurrency: number;
  readonly dicfuse_dir_sync_ttl_secs: number;
  readonly dicfuse_reply_ttl_secs: number;
  readonly dicfuse_fetch_dir_timeout_secs: number;
  readonly dicfuse_connect_timeout_secs: number;
  /** Attempts for a directory listing; 0 must be treated as 1 by the caller (kept raw for `config show`). */
  readonly dicfuse_fetch_dir_max_retries: number;
  readonly dicfuse_stat_mode: StatMode;
  /** In-memory open-file cache bound in bytes; 0 disables that cache. */
  readonly dicfuse_open_buff_max_bytes: number;
  readonly dicfuse_open_buff_max_files: number;
  readonly antares_load_dir_depth: number;
  readonly antares_dicfuse_dir_sync_ttl_secs: number;
  readonly antares_dicfuse_reply_ttl_secs: number;
  readonly antares_dicfuse_stat_mode: StatMode;
  readonly antares_dicfuse_open_buff_max_bytes: number;
  readonly antares_dicfuse_open_buff_max_files: number;
  readonly antares_upper_root: string;
  readonly antares_cl_root: string;
  readonly antares_mount_root: string;
  readonly antares_state_file: string;
  /** New: bound of the on-disk blob cache in bytes; 0 = unbounded. */
  readonly cache_max_bytes: number;
  /** New: globs (monorepo paths) whose file contents are prefetched when the daemon starts. */
  readonly prefetch: readonly string[];
  /** New: stderr log format. */
  readonly log_format: LogFormat;
  /** New: delete a job's upper/CL/mountpoint directories when its mount is deleted. */
  readonly antares_purge_on_delete: boolean;
  /** New: bearer token required by the HTTP API when non-empty. Secret: redacted by `config show`. */
  readonly http_token: string;
  /** New: mount with `allow_other` (needs `user_allow_other` in /etc/fuse.conf when unprivileged). */
  readonly mount_allow_other: boolean;
  /** New: seconds between background checks for new commits; 0 = no watcher. */
  readonly dicfuse_watch_interval_secs: number;
  /** New: files after a cold-read one whose contents are fetched in the background; 0 = off. */
  readonly dicfuse_dir_readahead: number;
  readonly fuse_spin_micros: number;
  /** New: the job-mount engine (`auto`, `kernel-overlayfs`, `fuse-overlay`). */
  readonly antares_overlay_engine: OverlayEngineMode;
  /** New: refuse new job mounts (507) above this use % of the upper root's filesystem. */
  readonly antares_disk_max_use_percent: number;
  /** New: /health says degraded above this use % of the upper root's filesystem. */
  readonly antares_disk_warn_use_percent: number;
  /** New: Mega access token for `scorpio push`. Secret: redacted by `config show`. */
  readonly mega_token: string;
}

/** CLI overrides, the highest precedence level. Values are raw strings, parsed like env values. */
export type ConfigOverrides = Partial<Record<keyof ScorpioConfig, string>>;

/** Input of `loadConfig`, `initConfig` and `validateConfigFile`. */
export interface LoadOptions {
  configPath: string;
  /** With an empty `configPath`: resolve from the environment and defaults alone (doctor without a file). */
  allowMissing?: boolean;
  overrides?: ConfigOverrides;
  /** Environment to read `SCORPIO_*`, `HOME` and `XDG_*` from; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
}

export interface LoadResult {
  config: ScorpioConfig;
  /** Non-fatal findings (flat/section conflicts, unknown keys); the caller prints them once logging is up. */
  warnings: string[];
}

/** One legacy workspace recorded in the runtime state file. */
export interface WorkDir {
  /** Monorepo path without a leading slash, e.g. `third-party/mega/scorpio`. */
  path: string;
  /** Dicfuse inode of that directory. */
  node: number;
  /** Tree id (legacy fetch) or SHA-1 of the path (temporary mount). */
  hash: string;
}

/** Where a running daemon can be reached; written by `serve`, read by client commands. */
export interface DaemonRecord {
  http_addr: string;
  pid: number;
  /** RFC 3339 timestamp. */
  started_at: string;
}

export interface RuntimeState {
  works: WorkDir[];
  daemon?: DaemonRecord;
}
