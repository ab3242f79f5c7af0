/**
 * @module antares/job-lower — the read-only bottom layer of one job mount: a lease on a pooled view
 * (pinned at the monorepo commit the job was created or last refreshed at, or following the server
 * when Mega could not tell) and, for kernel overlayfs, a lease on that view's shared FUSE mount.
 * Releasing lets go of both, the FUSE mount first (a view must outlive its mount); the last job of a
 * pinned view unmounts and closes it.
 */
import type { DicfuseView } from "../dicfuse/index.ts";
import { isOid, type Oid } from "../remote/oid.ts";
import type { MountBase } from "../vcs/mega-base.ts";
import type { DicfusePool } from "./dicfuse-pool.ts";
import type { ViewMounts } from "./view-mounts.ts";

export interface JobLower {
  readonly view: DicfuseView;
  /** `layers.dicfuse`: "shared" for the root following view, else the view's tree store directory. */
  readonly label: string;
  /** The monorepo commit the view is pinned at; null for a following view. */
  readonly pinnedCommit: Oid | null;
  /** The view's FUSE mount directory (kernel overlayfs `lowerdir`), held from the first call until release. */
  mountDir(): Promise<string>;
  release(): Promise<void>;
}

/**
 * The monorepo commit a job of `path` with base `base` is pinned at: the root's head for `/`, the
 * root's head read with the base for a sub-path (its base_commit is Mega's path commit). Null when
 * Mega could not tell (the job then follows the server).
 */
export function pinnedCommitOf(path: string, base: Pick<MountBase, "base_commit" | "base_root_commit"> | null): Oid | null {
  if (!base) return null;
  const commit = path === "/" ? base.base_commit : base.base_root_commit;
  return commit !== undefined && isOid(commit) ? commit : null;
}

export async function acquireLower(pool: DicfusePool, views: ViewMounts, path: string, pinnedCommit: Oid | null): Promise<JobLower> {
  const lease = await pool.acquire(path, { pinnedCommit });
  let mounted: Promise<string> | null = null;
  let released = false;
  return {
    view: lease.view,
    label: lease.label,
    pinnedCommit,
    mountDir() {
      if (released) return Promise.reject(new Error("the job's lower view was released"));
      if (!mounted) {
        const m = views.acquire(path, pinnedCommit, lease.view);
        mounted = m;
        m.catch(() => {
          if (mounted === m) mounted = null;
        });
      }
      return mounted;
    },
    async release() {
      if (released) return;
      released = true;
      if (mounted && (await mounted.then(() => true, () => false))) await views.release(path, pinnedCommit);
      await lease.release();
    },
  };
}
