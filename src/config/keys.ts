/**
 * @module config/keys — the key table: the one source of truth for every configuration key (section form,
 * type, default, lower bound, documentation). Defaults, env var names, validation, `config show`, the
 * `config init` template, `scorpio.toml.example` and docs/configuration.md are all derived from it.
 * Adding a key = adding a row here plus its field in `ScorpioConfig` (the compiler checks they agree).
 */
import type { Kind, KindValue } from "./kinds.ts";
import type { DefaultDirs } from "./paths.ts";
import type { ScorpioConfig } from "./types.ts";

export type Section = "server" | "dicfuse" | "antares";
export const SECTIONS: readonly Section[] = ["server", "dicfuse", "antares"];

export interface KeySpec<K extends Kind = Kind> {
  kind: K;
  section: Section;
  /** Name inside the section: `[dicfuse].load_dir_depth`. */
  short: string;
  default: KindValue[K] | ((dirs: DefaultDirs) => KindValue[K]);
  /** How the default is written in docs when it depends on the machine. */
  defaultDoc?: string;
  /** Inclusive lower bound checked after parsing (`must be >= 1`). */
  min?: number;
  /** Inclusive upper bound checked after parsing (new keys only; `must be <= N`). */
  max?: number;
  /** A string that must not be empty (the original's "required" list). */
  required?: boolean;
  /** Added by this product (not in scorpiofs 0.2.3). */
  isNew?: boolean;
  /** A credential: every output (`config show`, JSON, diagnostic bundles) prints it redacted. */
  secret?: boolean;
  /** One or two sentences for docs and the example file. */
  doc: string;
}

/** Kinds whose value type is exactly T (so a `number` field cannot be given a `bool` spec). */
type KindsFor<T> = { [K in Kind]: [KindValue[K]] extends [T] ? ([T] extends [KindValue[K]] ? K : never) : never }[Kind];
type SpecFor<K> = K extends Kind ? KeySpec<K> : never;
export type KeyTable = { readonly [F in keyof ScorpioConfig]: SpecFor<KindsFor<ScorpioConfig[F]>> };
export type KeyName = keyof ScorpioConfig;

const DATA = "$XDG_DATA_HOME/scorpio";
const STATE = "$XDG_STATE_HOME/scorpio";

/** Rows in the original's documentation order (§2.3), new keys last. Object order is the iteration order. */
export const KEYS: KeyTable = {
  base_url: { kind: "url", section: "server", short: "base_url", default: "http://localhost:8000",
    doc: "Mega server URL; every tree and blob request goes to `{base_url}/api/v1/...`. A trailing `/` is removed." },
  lfs_url: { kind: "url", section: "server", short: "lfs_url", default: "http://localhost:8000/info/lfs", defaultDoc: "{base_url}/info/lfs",
    doc: "Git LFS endpoint (the batch API is `{lfs_url}/objects/batch`). Unset: `{base_url}/info/lfs`, where Mega serves it (also under `/api/v1/lfs`). A trailing `/` is removed." },
  workspace: { kind: "path", section: "server", short: "workspace", required: true,
    default: (d) => `${d.data}/mount`, defaultDoc: `${DATA}/mount`,
    doc: "Mountpoint of the workspace view mounted by `scorpio serve`. Created at start." },
  store_path: { kind: "path", section: "server", short: "store_path", required: true,
    default: (d) => `${d.data}/store`, defaultDoc: `${DATA}/store`,
    doc: "Store directory: metadata databases, cached blobs, legacy workspace data. Created at start." },
  git_author: { kind: "string", section: "server", short: "git_author", default: "MEGA", required: true,
    doc: "Author name of commits made from a mount." },
  git_email: { kind: "string", section: "server", short: "git_email", default: "admin@mega.org", required: true,
    doc: "Author e-mail of commits made from a mount." },
  config_file: { kind: "path", section: "server", short: "config_file", required: true,
    default: (d) => `${d.state}/runtime.toml`, defaultDoc: `${STATE}/runtime.toml`,
    doc: "Runtime state file (legacy workspace list and the running daemon's address); not the configuration. Created at start." },
  log_level: { kind: "directive", section: "server", short: "log_level", default: "info",
    doc: "Log filter used when neither `--log-level`, `SCORPIO_LOG` nor `RUST_LOG` is set, e.g. `info,fuse=debug`." },
  dicfuse_readable: { kind: "bool", section: "dicfuse", short: "readable", default: true,
    doc: "If false, reads of the read-only view return no data and nothing is fetched on open." },
  load_dir_depth: { kind: "usize", section: "dicfuse", short: "load_dir_depth", default: 3, min: 1,
    doc: "Directory levels of the root view whose listings are loaded in the background after start (listings only, no contents; only while the mount has had no request for 100 ms)." },
  fetch_file_thread: { kind: "usize", section: "dicfuse", short: "fetch_file_thread", default: 10, min: 1,
    doc: "Concurrent blob downloads of the process's object store (all views, prefetch, CL layers)." },
  dicfuse_import_concurrency: { kind: "usize", section: "dicfuse", short: "import_concurrency", default: 4, min: 1,
    doc: "Read-only views that may import their tree at the same time (process-wide)." },
  dicfuse_dir_sync_ttl_secs: { kind: "u64", section: "dicfuse", short: "dir_sync_ttl_secs", default: 5,
    doc: "Upper bound in seconds on how late an upstream change shows in the root view: the watcher's interval is the smaller of this and `watch_interval_secs`. Listings are never re-checked on the request path (they are content-addressed; changes arrive as kernel invalidations)." },
  dicfuse_reply_ttl_secs: { kind: "u64", section: "dicfuse", short: "reply_ttl_secs", default: 2,
    doc: "Seconds the kernel may remember that a name does not exist in the root view (negative entries). Entries and attributes of existing names are cached by the kernel for a day and invalidated when the watcher applies a change." },
  dicfuse_fetch_dir_timeout_secs: { kind: "u64", section: "dicfuse", short: "fetch_dir_timeout_secs", default: 10, min: 1,
    doc: "Deadline in seconds of one request to the server, and of a FUSE request's whole wait for a listing or size (content downloads get 3x): an uncached access fails with EIO within it, never once per ancestor." },
  dicfuse_connect_timeout_secs: { kind: "u64", section: "dicfuse", short: "connect_timeout_secs", default: 3, min: 1,
    doc: "TCP connect deadline in seconds of every request to the Mega server." },
  dicfuse_fetch_dir_max_retries: { kind: "u32", section: "dicfuse", short: "fetch_dir_max_retries", default: 3,
    doc: "Attempts for a directory listing (0 counts as 1)." },
  dicfuse_stat_mode: { kind: "stat_mode", section: "dicfuse", short: "stat_mode", default: "accurate",
    doc: "`accurate` asks the server for file sizes; `fast` trusts the listing (sizes may show as 0 until read). Root view." },
  dicfuse_open_buff_max_bytes: { kind: "u64", section: "dicfuse", short: "open_buff_max_bytes", default: 268435456,
    doc: "Bytes of file contents kept in memory for open files of the root view (0 disables)." },
  dicfuse_open_buff_max_files: { kind: "usize", section: "dicfuse", short: "open_buff_max_files", default: 4096, min: 1,
    doc: "Files kept in that in-memory cache (root view)." },
  antares_load_dir_depth: { kind: "usize", section: "antares", short: "load_dir_depth", default: 3, min: 1,
    doc: "Preload depth of the read-only views of Antares mounts of a sub-path." },
  antares_dicfuse_dir_sync_ttl_secs: { kind: "u64", section: "antares", short: "dir_sync_ttl_secs", default: 120,
    doc: "Upper bound in seconds on how late an upstream change shows in a following sub-path view (the watcher interval is the smaller of this and `dicfuse.watch_interval_secs`). Pinned views never change." },
  antares_dicfuse_reply_ttl_secs: { kind: "u64", section: "antares", short: "reply_ttl_secs", default: 60,
    doc: "Seconds the kernel may remember a missing name in sub-path views (negative entries); existing entries are cached long and invalidated on change." },
  antares_dicfuse_stat_mode: { kind: "stat_mode", section: "antares", short: "stat_mode", default: "fast",
    doc: "Size discovery mode of sub-path views." },
  antares_dicfuse_open_buff_max_bytes: { kind: "u64", section: "antares", short: "open_buff_max_bytes", default: 67108864,
    doc: "In-memory open-file cache bound in bytes of sub-path views (0 disables)." },
  antares_dicfuse_open_buff_max_files: { kind: "usize", section: "antares", short: "open_buff_max_files", default: 1024, min: 1,
    doc: "In-memory open-file cache bound in files of sub-path views." },
  antares_upper_root: { kind: "path", section: "antares", short: "upper_root", required: true,
    default: (d) => `${d.data}/antares/upper`, defaultDoc: `${DATA}/antares/upper`,
    doc: "Parent of each job mount's writable upper directory. CLI: `--upper-root`." },
  antares_cl_root: { kind: "path", section: "antares", short: "cl_root", required: true,
    default: (d) => `${d.data}/antares/cl`, defaultDoc: `${DATA}/antares/cl`,
    doc: "Parent of each job mount's CL layer directory. CLI: `--cl-root`." },
  antares_mount_root: { kind: "path", section: "antares", short: "mount_root", required: true,
    default: (d) => `${d.data}/antares/mnt`, defaultDoc: `${DATA}/antares/mnt`,
    doc: "Parent of job mountpoints. CLI: `--mount-root`." },
  antares_state_file: { kind: "path", section: "antares", short: "state_file", required: true,
    default: (d) => `${d.state}/antares/state.toml`, defaultDoc: `${STATE}/antares/state.toml`,
    doc: "Antares job mount records, used to recover mounts after a restart. CLI: `--state-file`." },
  cache_max_bytes: { kind: "size", section: "dicfuse", short: "cache_max_bytes", default: 10 * 1024 ** 3, isNew: true,
    defaultDoc: "10GiB (10737418240)",
    doc: "Bound of the on-disk blob cache under `store_path`, shared by every view of the daemon (workspace, job mounts, checkouts, CL layers); least recently used blobs are evicted as the cache grows past it. Only files held open (overlay opens, copy-ups) may exceed it. 0 = unbounded." },
  prefetch: { kind: "globs", section: "dicfuse", short: "prefetch", default: [], isNew: true, defaultDoc: "[] (nothing)",
    doc: "Monorepo path globs whose file contents are fetched when the daemon starts, e.g. `[\"tools/**\", \"*.md\"]`. Env/CLI: comma-separated." },
  log_format: { kind: "log_format", section: "server", short: "log_format", default: "text", isNew: true,
    doc: "Format of log lines on stderr: `text` for people, `json` (one object per line) for log collectors." },
  antares_purge_on_delete: { kind: "bool", section: "antares", short: "purge_on_delete", default: false, isNew: true,
    doc: "Delete a job's upper, CL and mountpoint directories when its mount is deleted (the original always kept them)." },
  http_token: { kind: "secret", section: "server", short: "http_token", default: "", isNew: true, secret: true, defaultDoc: "\"\" (no auth)",
    doc: "If set, the HTTP API requires `Authorization: Bearer <token>` (except `/health`). Prefer `SCORPIO_HTTP_TOKEN` to writing it in the file." },
  mount_allow_other: { kind: "bool", section: "server", short: "mount_allow_other", default: false, isNew: true,
    doc: "Mount with `allow_other` so other users (e.g. a build user) can enter mounts; unprivileged daemons need `user_allow_other` in /etc/fuse.conf. Every caller's permissions are enforced (docs/overlay.md \"Permissions\"); versions before that fix must not run with it (docs/compat.md)." },
  dicfuse_dir_readahead: { kind: "usize", section: "dicfuse", short: "dir_readahead", default: 16, isNew: true,
    doc: "When a file is read cold, fetch the contents of up to this many following files of its directory in the background (files up to 1 MiB; at most 4 downloads at once). Tools that read one file of a directory usually read its neighbours next. 0 = off." },
  fuse_spin_micros: { kind: "u64", section: "server", short: "fuse_spin_micros", default: 200, max: 10_000, isNew: true,
    doc: "After answering FUSE requests, busy-poll /dev/fuse this many microseconds for the next one, but only while a client issues requests back to back: each request caught this way skips two thread wake-ups (uncached `stat` runs about twice as fast). Costs CPU only during such bursts. 0 = never busy-poll (lowest CPU use)." },
  dicfuse_watch_interval_secs: { kind: "u64", section: "dicfuse", short: "watch_interval_secs", default: 10, isNew: true,
    doc: "Seconds between background checks for a new commit (one `latest-commit` request); on a new commit the changed trees are walked top-down and exactly the changed kernel entries invalidated. The effective interval is the smaller of this and `dir_sync_ttl_secs`; 0 = use `dir_sync_ttl_secs` alone." },
  antares_overlay_engine: { kind: "overlay_engine", section: "antares", short: "overlay_engine", default: "auto", isNew: true,
    doc: "What serves job mounts: `kernel-overlayfs` (Linux overlayfs over the read-only FUSE view; writes at native speed; needs CAP_SYS_ADMIN and an upper root overlayfs accepts), `fuse-overlay` (the overlay served by this daemon), or `auto` (kernel when a probe mount works, else FUSE; `scorpio doctor` says which and why)." },
  antares_disk_max_use_percent: { kind: "u32", section: "antares", short: "disk_max_use_percent", default: 92, min: 1, max: 100, isNew: true,
    doc: "Refuse new job mounts (HTTP 507 `INSUFFICIENT_STORAGE`) while the filesystem of `upper_root` is used above this percentage; `/health` reports `degraded`." },
  antares_disk_warn_use_percent: { kind: "u32", section: "antares", short: "disk_warn_use_percent", default: 85, min: 1, max: 100, isNew: true,
    doc: "`/health` reports `degraded` (and a warning is logged) while the filesystem of `upper_root` is used above this percentage." },
  mega_token: { kind: "secret", section: "server", short: "mega_token", default: "", isNew: true, defaultDoc: "\"\" (none)",
    doc: "Mega access token sent as `Authorization: Bearer` by `scorpio push` (git-receive-pack needs one), also to the LFS batch API (reads of LFS files, uploads at push). Never printed; prefer `SCORPIO_MEGA_TOKEN` to writing it in the file." },
};

export const KEY_NAMES = Object.keys(KEYS) as KeyName[];

export function keySpec(name: KeyName): KeySpec {
  return KEYS[name] as KeySpec;
}

/** `SCORPIO_` + upper-cased flat key. Section names never form env names. */
export function envName(name: KeyName): string {
  return `SCORPIO_${name.toUpperCase()}`;
}

/** True for credentials (`secret: true`, or the `secret` kind), which every output redacts. */
export function isSecretKey(name: KeyName): boolean {
  const s = keySpec(name);
  return s.secret === true || s.kind === "secret";
}

export function sectionForm(name: KeyName): string {
  const s = keySpec(name);
  return `[${s.section}].${s.short}`;
}

export function defaultValue<F extends KeyName>(name: F, dirs: DefaultDirs): ScorpioConfig[F] {
  const d = keySpec(name).default;
  return (typeof d === "function" ? d(dirs) : d) as ScorpioConfig[F];
}

/** Field order of the original's `ScorpioConfig` struct, which `config show` prints (byte parity). */
export const SHOW_ORDER: readonly KeyName[] = [
  "base_url", "workspace", "store_path", "git_author", "git_email", "config_file", "lfs_url", "log_level",
  "dicfuse_readable", "load_dir_depth", "fetch_file_thread", "dicfuse_import_concurrency",
  "dicfuse_dir_sync_ttl_secs", "dicfuse_reply_ttl_secs", "dicfuse_fetch_dir_timeout_secs",
  "dicfuse_connect_timeout_secs", "dicfuse_fetch_dir_max_retries", "dicfuse_stat_mode",
  "dicfuse_open_buff_max_bytes", "dicfuse_open_buff_max_files", "antares_load_dir_depth",
  "antares_dicfuse_dir_sync_ttl_secs", "antares_dicfuse_reply_ttl_secs", "antares_dicfuse_stat_mode",
  "antares_dicfuse_open_buff_max_bytes", "antares_dicfuse_open_buff_max_files", "antares_upper_root",
  "antares_cl_root", "antares_mount_root", "antares_state_file",
  // New keys, appended so the original's lines keep their positions.
  "cache_max_bytes", "prefetch", "log_format", "antares_purge_on_delete", "http_token", "mount_allow_other",
  "dicfuse_watch_interval_secs", "dicfuse_dir_readahead", "fuse_spin_micros",
  "antares_overlay_engine", "antares_disk_max_use_percent", "antares_disk_warn_use_percent", "mega_token",
];

/** Order in which `config validate` reports per-key resolution problems (the original's order, §2.5). */
export const VALIDATE_ORDER: readonly KeyName[] = [
  "base_url", "lfs_url", "workspace", "store_path", "git_author", "git_email", "config_file", "log_level",
  "dicfuse_readable", "load_dir_depth", "fetch_file_thread", "dicfuse_import_concurrency",
  "dicfuse_connect_timeout_secs", "dicfuse_fetch_dir_timeout_secs", "dicfuse_open_buff_max_files",
  "dicfuse_stat_mode", "antares_load_dir_depth", "antares_dicfuse_open_buff_max_files",
  "antares_dicfuse_stat_mode", "antares_upper_root", "antares_cl_root", "antares_mount_root",
  "antares_state_file", "dicfuse_dir_sync_ttl_secs", "dicfuse_reply_ttl_secs", "dicfuse_fetch_dir_max_retries",
  "dicfuse_open_buff_max_bytes", "antares_dicfuse_dir_sync_ttl_secs", "antares_dicfuse_reply_ttl_secs",
  "antares_dicfuse_open_buff_max_bytes",
  "cache_max_bytes", "prefetch", "log_format", "antares_purge_on_delete", "http_token", "mount_allow_other",
  "dicfuse_watch_interval_secs", "dicfuse_dir_readahead", "fuse_spin_micros",
  "antares_overlay_engine", "antares_disk_max_use_percent", "antares_disk_warn_use_percent", "mega_token",
];

/** Keys whose `>= min` bound is checked, in the original's order. */
export const BOUND_ORDER: readonly KeyName[] = [
  "load_dir_depth", "fetch_file_thread", "dicfuse_import_concurrency", "dicfuse_open_buff_max_files",
  "antares_load_dir_depth", "antares_dicfuse_open_buff_max_files", "dicfuse_fetch_dir_timeout_secs",
  "dicfuse_connect_timeout_secs", "fuse_spin_micros",
  "antares_disk_max_use_percent", "antares_disk_warn_use_percent",
];
