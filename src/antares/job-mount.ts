/**
 * @module antares/job-mount — one job mount, whichever engine serves it: the same three operations
 * (swap the CL layer, unmount) over kernel overlayfs or the FUSE overlay. The lower view is an
 * input (`lowerDir` for the kernel, the view object for FUSE), so a pinned view plugs in unchanged.
 *
 * CL swap on kernel overlayfs: overlayfs cannot change its layers in place, so the overlay is
 * unmounted (detached if a job process still holds files in it: those keep the old tree until
 * they close them) and mounted again with the new `lowerdir` over the same upper. Moving a job to
 * another pinned view (`setLower`, refresh) is the same remount with another bottom layer; on the
 * FUSE overlay it swaps the view the overlay reads and drops the kernel's caches of the mount.
 */
import { mkdirSync } from "node:fs";
import type { DicfuseView } from "../dicfuse/index.ts";
import type { OverlayMount, OverlayMountOptions } from "../overlay/index.ts";
import type { OverlayEngine } from "./engine.ts";
import { mountKernelOverlay, unmountKernelOverlay } from "./kernel-overlay.ts";

export interface JobMount {
  readonly engine: OverlayEngine;
  /** Swaps the CL layer (null = none); the upper layer is kept. */
  setClDir(dir: string | null): Promise<void>;
  /** Drops everything the mount cached of its lower layers (after a following view moved to a newer commit). */
  refreshLower(): Promise<void>;
  /**
   * Puts another read-only view under the mount (the upper and CL layers stay). Resolves true when
   * job processes may still read the old view (a busy kernel overlay was detached, not unmounted).
   */
  setLower(lower: JobLowerLayer): Promise<boolean>;
  /** Resolves true when a busy kernel overlay was detached (its processes may still read its lower). */
  unmount(): Promise<boolean>;
}

/** The bottom layer: the view, and its mounted directory for kernel overlayfs (null on the FUSE engine). */
export interface JobLowerLayer {
  view: DicfuseView;
  dir: string | null;
}

export interface KernelJobSpec {
  mountpoint: string;
  upperDir: string;
  /** overlayfs work dir; for a read-only mount an empty directory used as the top layer instead. */
  workDir: string;
  clDir: string | null;
  /** The mounted read-only view of the job's path (bottom layer). */
  lowerDir: string;
  readOnly: boolean;
  source: string;
}

/**
 * Top first. A read-only mount has no upper: its empty work dir goes on top, so the mount's root
 * takes that directory's mode (the daemon sets it, see `rootMode`) and overlayfs has the two lower
 * layers it wants without an upper.
 */
function lowerDirsOf(spec: KernelJobSpec, clDir: string | null): string[] {
  const dirs = clDir !== null ? [clDir, spec.lowerDir] : [spec.lowerDir];
  return spec.readOnly ? [spec.workDir, ...dirs] : dirs;
}

export async function mountKernelJob(spec: KernelJobSpec): Promise<JobMount> {
  let clDir = spec.clDir;
  let lowerDir = spec.lowerDir;
  const mountWith = async (cl: string | null, lower = lowerDir) => {
    mkdirSync(spec.workDir, { recursive: true });
    await mountKernelOverlay({
      mountpoint: spec.mountpoint,
      lowerDirs: lowerDirsOf({ ...spec, lowerDir: lower }, cl),
      upperDir: spec.readOnly ? null : spec.upperDir,
      workDir: spec.readOnly ? null : spec.workDir,
      source: spec.source,
    });
  };
  await mountWith(clDir);
  return {
    engine: "kernel-overlayfs",
    async setClDir(dir) {
      if (dir === clDir) return;
      await unmountKernelOverlay(spec.mountpoint);
      await mountWith(dir);
      clDir = dir;
    },
    // overlayfs caches lower dentries for the life of the mount: a remount is the way to drop them.
    async refreshLower() {
      await unmountKernelOverlay(spec.mountpoint);
      await mountWith(clDir);
    },
    async setLower(lower) {
      if (lower.dir === null) throw new Error("a kernel overlay needs the mounted directory of its lower view");
      const detached = await unmountKernelOverlay(spec.mountpoint);
      try {
        await mountWith(clDir, lower.dir);
      } catch (err) {
        // Put the job back on its old view rather than leave it unmounted.
        await mountWith(clDir).catch(() => {});
        throw err;
      }
      lowerDir = lower.dir;
      return detached;
    },
    unmount: () => unmountKernelOverlay(spec.mountpoint),
  };
}

export interface FuseJobSpec extends Omit<OverlayMountOptions, "lower"> {
  lower: DicfuseView;
}

export async function mountFuseJob(spec: FuseJobSpec, mount: (opts: OverlayMountOptions) => Promise<OverlayMount>): Promise<JobMount> {
  const overlay = await mount(spec);
  return {
    engine: "fuse-overlay",
    setClDir: (dir) => overlay.setClDir(dir),
    // Re-setting the same CL layer invalidates every kernel entry and inode the mount handed out.
    refreshLower: () => overlay.setClDir(overlay.fs.clDir),
    // Open files of the old view hold their content, not the view: it can go at once.
    setLower: (lower) => overlay.setLower(lower.view).then(() => false),
    unmount: () => overlay.unmount().then(() => false),
  };
}
