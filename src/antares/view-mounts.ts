/**
 * @module antares/view-mounts — the read-only FUSE mounts of the pooled views that kernel-overlayfs
 * job mounts use as their bottom `lowerdir`: one per view — (path, pinned commit), or path for a
 * following view — at `{antares_mount_root}/.views/{first 16 hex of sha256(path[@commit])}`, shared by
 * every job on that view, mounted on first use, reference-counted (unmounted when its last job lets
 * go) and unmounted at shutdown. `allow_other` follows `mount_allow_other`, so
 * other users can reach the view too (overlayfs itself reads lower layers with the mounter's
 * credentials and checks the caller's permissions on the merged inode).
 */
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { rmdir } from "node:fs/promises";
import { join } from "node:path";
import type { ScorpioConfig } from "../config/index.ts";
import { mountDicfuse, type DicfuseMount, type DicfuseView } from "../dicfuse/index.ts";
import { findMount, lazyUnmount } from "../fuse/index.ts";
import { logger } from "../util/log.ts";
import { readDirNamesIfAny } from "../util/names.ts";

const log = logger("antares/views");

export function viewsRootOf(config: Pick<ScorpioConfig, "antares_mount_root">): string {
  return join(config.antares_mount_root, ".views");
}

export function viewDirFor(config: Pick<ScorpioConfig, "antares_mount_root">, basePath: string, pinnedCommit?: string | null): string {
  const key = pinnedCommit ? `${basePath}@${pinnedCommit}` : basePath;
  return join(viewsRootOf(config), createHash("sha256").update(key).digest("hex").slice(0, 16));
}

interface ViewMountEntry {
  mounted: Promise<DicfuseMount>;
  refs: number;
}

export class ViewMounts {
  private readonly mounts = new Map<string, ViewMountEntry>();
  /** Unmounts in progress, by directory: a new mount at the same place waits for them. */
  private readonly unmounting = new Map<string, Promise<void>>();

  constructor(private readonly config: ScorpioConfig) {}

  /** Detaches view mounts left by a daemon that died (their FUSE server is gone). */
  clearStale(): void {
    const root = viewsRootOf(this.config);
    const names = readDirNamesIfAny(root);
    for (const n of names) {
      const dir = join(root, n);
      if (!findMount(dir)) continue;
      try {
        lazyUnmount(dir);
        log.info("detached a view mount left by a previous daemon", { dir });
      } catch (err) {
        log.warn("could not detach a stale view mount", { dir, error: err as Error });
      }
    }
  }

  /** Mounted view directories (for status and tests). */
  get size(): number {
    return this.mounts.size;
  }

  /**
   * The mounted directory of `view` (mounted now if it is not yet), held until `release` with the
   * same arguments.
   */
  async acquire(basePath: string, pinnedCommit: string | null, view: DicfuseView): Promise<string> {
    const dir = viewDirFor(this.config, basePath, pinnedCommit);
    await this.unmounting.get(dir);
    let m = this.mounts.get(dir);
    if (!m) {
      const entry: ViewMountEntry = { refs: 0, mounted: Promise.resolve(undefined as never) };
      entry.mounted = (async () => {
        mkdirSync(dir, { recursive: true });
        if (findMount(dir)) lazyUnmount(dir);
        const label = pinnedCommit ? `${basePath}@${pinnedCommit.slice(0, 12)}` : basePath;
        const mounted = await mountDicfuse(view, {
          mountpoint: dir,
          fsname: `scorpio-view:${label}`,
          allowOther: this.config.mount_allow_other,
          spinMicros: this.config.fuse_spin_micros,
        });
        log.info("view mounted for kernel overlays", { path: basePath, commit: pinnedCommit, dir });
        return mounted;
      })();
      entry.mounted.catch(() => this.mounts.get(dir) === entry && this.mounts.delete(dir));
      this.mounts.set(dir, entry);
      m = entry;
    }
    m.refs++;
    try {
      await m.mounted;
    } catch (err) {
      m.refs--;
      throw err;
    }
    return dir;
  }

  /** Lets go of one `acquire`; the last one unmounts the view (after the overlays above it are gone). */
  async release(basePath: string, pinnedCommit: string | null): Promise<void> {
    const dir = viewDirFor(this.config, basePath, pinnedCommit);
    const m = this.mounts.get(dir);
    if (!m || --m.refs > 0) return;
    this.mounts.delete(dir);
    const done = (async () => {
      const mounted = await m.mounted.catch(() => null);
      await mounted?.unmount().catch((err) => log.warn("unmounting a view failed", { dir, error: err as Error }));
      await rmdir(dir).catch(() => {});
      log.info("view unmounted (its last job mount went)", { path: basePath, commit: pinnedCommit, dir });
    })().finally(() => {
      if (this.unmounting.get(dir) === done) this.unmounting.delete(dir);
    });
    this.unmounting.set(dir, done);
    await done;
  }

  async close(): Promise<void> {
    const all = [...this.mounts.values()];
    this.mounts.clear();
    await Promise.all([...this.unmounting.values()]);
    await Promise.all(all.map(async (m) => (await m.mounted.catch(() => null))?.unmount().catch((err) => log.warn("unmounting a view failed", { error: err as Error }))));
  }
}
