/**
 * @module antares/paths — request normalisation and the on-disk layout of a job mount:
 * mountpoint `{antares_mount_root}/{id}`, upper `{antares_upper_root}/{id}`, CL `{antares_cl_root}/{id}`,
 * overlayfs work dir `{antares_upper_root}/.work/{id}` (beside the upper: overlayfs wants both on
 * one filesystem, and the work dir must not be inside the upper).
 */
import { basename, dirname, join } from "node:path";
import { invalidRequest } from "./errors.ts";

/**
 * The original's rule (trim; prepend `/`; strip trailing `/`s) plus what it let through and we refuse:
 * NUL and other control characters, `.` and `..` segments, and empty segments (`a//b` is collapsed).
 */
export function normalizeMountPath(raw: string): string {
  const trimmed = raw.trim();
  if (trimmed === "") throw invalidRequest("path cannot be empty");
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(trimmed)) throw invalidRequest("path must not contain control characters");
  if (!trimmed.isWellFormed()) throw invalidRequest(NOT_UNICODE("path"));
  const parts = trimmed.split("/").filter((p) => p.length > 0);
  if (parts.some((p) => p === "." || p === "..")) throw invalidRequest(`path '${trimmed}' must not contain '.' or '..' segments`);
  return "/" + parts.join("/");
}

/** JSON can carry lone UTF-16 surrogates; stored in a state file they would come back changed (U+FFFD). */
const NOT_UNICODE = (what: string) => `${what} must be valid Unicode (it contains a lone surrogate)`;

/**
 * Why a (trimmed, non-empty) job id is unusable, or undefined. Shared by the API and the CLI, which also
 * refuses an empty id (the API reads it as "no job", a mount `umount <id>` could never remove).
 */
export function jobIdProblem(id: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(id)) return "job_id/build_id must not contain control characters";
  if (!id.isWellFormed()) return NOT_UNICODE("job_id/build_id");
  return undefined;
}

/** `job_id` if present (even empty), else `build_id`; trimmed; empty → none (the original's rule). */
export function taskIdOf(req: { job_id?: string | null; build_id?: string | null }): string | null {
  const raw = req.job_id ?? req.build_id ?? null;
  if (raw === null) return null;
  const id = raw.trim();
  if (id === "") return null;
  const problem = jobIdProblem(id);
  if (problem) throw invalidRequest(problem);
  return id;
}

export function checkClId(cl: string): string {
  if (cl === "") throw invalidRequest("cl link cannot be empty");
  if (!cl.isWellFormed()) throw invalidRequest(NOT_UNICODE("cl link"));
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f/\\]/.test(cl) || cl === "." || cl === "..") throw invalidRequest(`invalid cl link '${cl}'`);
  return cl;
}

export interface MountLayout {
  mountpoint: string;
  upperDir: string;
  clDir: string;
  workDir: string;
}

export interface LayoutRoots {
  antares_mount_root: string;
  antares_upper_root: string;
  antares_cl_root: string;
}

export function layoutFor(roots: LayoutRoots, mountId: string): MountLayout {
  return {
    mountpoint: join(roots.antares_mount_root, mountId),
    upperDir: join(roots.antares_upper_root, mountId),
    clDir: join(roots.antares_cl_root, mountId),
    workDir: workDirFor(join(roots.antares_upper_root, mountId)),
  };
}

/** The overlayfs work dir that belongs to an upper dir (derived, so a recovered record needs no new field). */
export function workDirFor(upperDir: string): string {
  return join(dirname(upperDir), ".work", basename(upperDir));
}

/** Mount ids, the names under every Antares root (staging dirs are `{id}.staging-…`, VCS object stores `{id}.vcs`). */
export const MOUNT_ID_NAME = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(\.staging-[0-9a-f]+|\.vcs)?$/;
