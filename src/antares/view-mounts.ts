/**
 * @module antares/view-mounts — the read-only FUSE mounts of the pooled views that kernel-overlayfs
 * job mounts use as their bottom `lowerdir`: one per base path, at
 * `{antares_mount_root}/.views/{first 16 hex of sha256(path)}`, shared by every job on that path,
 * mounted on first use and unmounted at shutdown. `allow_other` follows `mount_allow_other`, so
 * other users can reach the view too (overlayfs itself reads lower layers with the mounter's
 * credentials and checks the caller's permissions on the merged inode).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { ScorpioConfig } from "../config/index.ts";
import { mountDicfuse, type DicfuseMount, type DicfuseView } from "../dicfuse/index.ts";
import { findMount, lazyUnmount } from "../fuse/index.ts";
import { logger } from "../util/log.ts";

const log = logger("antares/views");

export function viewsRootOf(config: Pick<ScorpioConfig, "antares_mount_root">): string {
  return join(config.antares_mount_root, ".views");
}

export function viewDirFor(config: Pick<ScorpioConfig, "antares_mount_root">, basePath: string): string {
  return join(viewsRootOf(config), createHash("sha256").update(basePath).digest("hex").slice(0, 16));
}

export class ViewMounts {
  private readonly mounts = new Map<string, Promise<DicfuseMount>>();

  constructor(private readonly config: ScorpioConfig) {}

  /** Detaches view mounts left by a daemon that died (their FUSE server is gone). */
  clearStale(): void {
    const root = viewsRootOf(this.config);
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      return;
    }
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

  /** The mounted directory of `view` (mounted now if it is not yet). */
  async dirFor(basePath: string, view: DicfuseView): Promise<string> {
    const dir = viewDirFor(this.config, basePath);
    let m = this.mounts.get(basePath);
    if (!m) {
      m = (async () => {
        mkdirSync(dir, { recursive: true });
        if (findMount(dir)) lazyUnmount(dir);
        const mounted = await mountDicfuse(view, {
          mountpoint: dir,
          fsname: `scorpio-view:${basePath}`,
          allowOther: this.config.mount_allow_other,
          spinMicros: this.config.fuse_spin_micros,
        });
        log.info("view mounted for kernel overlays", { path: basePath, dir });
        return mounted;
      })();
      this.mounts.set(basePath, m);
      m.catch(() => this.mounts.get(basePath) === m && this.mounts.delete(basePath));
    }
    await m;
    return dir;
  }

  async close(): Promise<void> {
    const all = [...this.mounts.values()];
    this.mounts.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => null))?.unmount().catch((err) => log.warn("unmounting a view failed", { error: err as Error }))));
  }
}
