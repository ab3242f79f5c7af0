/**
 * @module antares/state-file — the job-mount records in `antares_state_file`: one schema for the
 * daemon and every client (QUIRK 10.3.4 fixed: CLI commands go through the daemon and never write
 * this file), rewritten atomically after every change. A record is what recovery needs to mount
 * the job again over the same upper and CL directories:
 *
 * ```toml
 * version = 1
 * [[mounts]]
 * mount_id = "550e8400-…"
 * job_id = "job-1"                 # omitted when none
 * path = "/third-party/mega"
 * cl = "12345"                     # omitted when none
 * mountpoint = ".../mnt/550e8400-…"
 * upper_dir = ".../upper/550e8400-…"
 * cl_dir = ".../cl/550e8400-…"     # omitted when none
 * created_at_epoch_ms = 1702800000000
 * labels = ["ci"]                  # omitted when none
 * readonly = true                  # omitted when false
 * base_commit = "9f3c…"           # head of {path}.git when the mount was created; omitted when unknown
 * base_tree = "4b82…"             # tree id of `path` in that commit
 * cl_link = "AB12CD34"             # the CL the mount's commits were pushed to; omitted until a push
 * ```
 *
 * The original's field names are kept, so its files load too (its records have no `version`).
 */
import { readFileSync } from "node:fs";
import TOML from "@iarna/toml";
import { writeFileAtomic } from "../util/atomic-write.ts";
import { Errno, errnoOf } from "../util/errno.ts";
import { logger } from "../util/log.ts";

const log = logger("antares/state");

export const STATE_VERSION = 1;

export interface MountRecord {
  mount_id: string;
  job_id: string | null;
  path: string;
  cl: string | null;
  mountpoint: string;
  upper_dir: string;
  cl_dir: string | null;
  created_at_epoch_ms: number;
  labels: string[];
  readonly: boolean;
  /** The commit the mount's lower view showed at creation (status/commit are against it). */
  base_commit?: string | null;
  /** The root tree id of the mounted path in `base_commit`. */
  base_tree?: string | null;
  /** Sub-path mounts: the monorepo root's head read with `base_commit` (lists base trees after main moved). */
  base_root_commit?: string | null;
  /** The Mega CL the mount's commits were pushed to. */
  cl_link?: string | null;
}

const HEX40 = /^[0-9a-f]{40}$/;

function oidOrNull(v: unknown): string | null {
  return typeof v === "string" && HEX40.test(v) ? v : null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

function parseRecord(v: unknown): MountRecord | null {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const r = v as Record<string, unknown>;
  const id = str(r.mount_id);
  const path = str(r.path);
  const mountpoint = str(r.mountpoint);
  const upper = str(r.upper_dir);
  if (!id || !UUID.test(id) || !path || !mountpoint || !upper) return null;
  const created = typeof r.created_at_epoch_ms === "number" ? r.created_at_epoch_ms : Date.now();
  const labels = Array.isArray(r.labels) ? r.labels.filter((l): l is string => typeof l === "string") : [];
  const readonly = r.readonly === true;
  return { mount_id: id.toLowerCase(), job_id: str(r.job_id), path, cl: str(r.cl), mountpoint, upper_dir: upper, cl_dir: str(r.cl_dir), created_at_epoch_ms: created, labels, readonly, ...optionalVcsFields(r) };
}

/** The VCS fields, present only when recorded (records written before them load unchanged). */
function optionalVcsFields(r: Record<string, unknown>): Pick<MountRecord, "base_commit" | "base_tree" | "base_root_commit" | "cl_link"> {
  const out: Pick<MountRecord, "base_commit" | "base_tree" | "base_root_commit" | "cl_link"> = {};
  const commit = oidOrNull(r.base_commit);
  const tree = oidOrNull(r.base_tree);
  const root = oidOrNull(r.base_root_commit);
  const link = str(r.cl_link);
  if (commit) out.base_commit = commit;
  if (tree) out.base_tree = tree;
  if (root) out.base_root_commit = root;
  if (link) out.cl_link = link;
  return out;
}

/** Missing file → []; unreadable/unparsable file or records → logged and skipped (never fatal). */
export function readMountRecords(file: string): MountRecord[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if (errnoOf(err) !== Errno.ENOENT) log.warn("cannot read the Antares state file; starting empty", { file, error: err as Error });
    return [];
  }
  let table: Record<string, unknown>;
  try {
    table = TOML.parse(text) as Record<string, unknown>;
  } catch (err) {
    log.warn("the Antares state file is not valid TOML; starting empty", { file, error: err as Error });
    return [];
  }
  const mounts = Array.isArray(table.mounts) ? table.mounts : [];
  const out: MountRecord[] = [];
  for (const [i, m] of mounts.entries()) {
    const r = parseRecord(m);
    if (r) out.push(r);
    else log.warn("skipping an unreadable record in the Antares state file", { file, index: i });
  }
  return out;
}

export function renderMountRecords(records: readonly MountRecord[]): string {
  const clean = records.map((r) => {
    const o: Record<string, string | number | boolean | string[]> = { mount_id: r.mount_id };
    if (r.job_id !== null) o.job_id = r.job_id;
    o.path = r.path;
    if (r.cl !== null) o.cl = r.cl;
    o.mountpoint = r.mountpoint;
    o.upper_dir = r.upper_dir;
    if (r.cl_dir !== null) o.cl_dir = r.cl_dir;
    o.created_at_epoch_ms = r.created_at_epoch_ms;
    if (r.labels.length > 0) o.labels = r.labels;
    if (r.readonly) o.readonly = true;
    if (r.base_commit) o.base_commit = r.base_commit;
    if (r.base_tree) o.base_tree = r.base_tree;
    if (r.base_root_commit) o.base_root_commit = r.base_root_commit;
    if (r.cl_link) o.cl_link = r.cl_link;
    return o;
  });
  if (clean.length === 0) return `version = ${STATE_VERSION}\nmounts = []\n`;
  return TOML.stringify({ version: STATE_VERSION, mounts: clean } as unknown as TOML.JsonMap);
}

/** Serialises writes so that the last state always lands last. */
export class StateFile {
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  read(): MountRecord[] {
    return readMountRecords(this.file);
  }

  /** Writes `snapshot()` as of when the write actually runs (so a burst collapses to the latest). */
  write(snapshot: () => readonly MountRecord[]): Promise<void> {
    const next = this.chain.then(() => writeFileAtomic(this.file, renderMountRecords(snapshot())));
    this.chain = next.catch((err) => log.error("failed to persist the Antares state file", { file: this.file, error: err as Error }));
    return next;
  }
}
