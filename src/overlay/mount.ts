/**
 * @module overlay/mount — puts an overlay on a mountpoint: a FUSE session serving `OverlayFs`, lower
 * layer change events turned into kernel cache invalidations, and a live CL layer swap that drops
 * every kernel cache the swap can have made stale.
 */
import { lstatSync } from "node:fs";
import { join } from "node:path";
import type { DicfuseView } from "../dicfuse/index.ts";
import { FuseSession } from "../fuse/index.ts";
import { logger } from "../util/log.ts";
import { readDirTyped } from "../util/names.ts";
import { ROOT_INO } from "./inode-table.ts";
import { joinRel, splitRel } from "./layers.ts";
import { OverlayFs, type OverlayLayers } from "./overlay-fs.ts";
import type { WhiteoutFormat } from "./whiteout.ts";

const log = logger("overlay");

export interface OverlayMountOptions extends OverlayLayers {
  mountpoint: string;
  allowOther?: boolean;
  /** Mount read-only (the kernel refuses every write with EROFS; the upper stays untouched). */
  readOnly?: boolean;
  /** Busy-poll window of the FUSE session, µs (MountOptions.spinMicros); the binding's default when left out. */
  spinMicros?: number;
  fsname?: string;
  /** Kernel cache lifetimes, seconds. Default 1. */
  attrTimeout?: number;
  entryTimeout?: number;
  /** Marker form to write; probed in the upper directory when left out. */
  whiteoutFormat?: WhiteoutFormat;
}

export interface OverlayMount {
  readonly session: FuseSession;
  readonly fs: OverlayFs;
  /** Swaps the CL layer (null = none) and invalidates what the kernel cached of the old one. */
  setClDir(dir: string | null): Promise<void>;
  /** Swaps the lower view (the upper and CL layers stay) and invalidates every kernel cache of the mount. */
  setLower(view: DicfuseView): Promise<void>;
  unmount(): Promise<void>;
}

/** Every path (files, directories, whiteouts) inside a CL directory, relative to it. */
function clPaths(dir: string | null): string[] {
  if (!dir || !lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return [];
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readDirTyped(join(dir, rel))) {
      const name = e.name.startsWith(".wh.") && e.name !== ".wh..wh..opq" ? e.name.slice(4) : e.name;
      const p = joinRel(rel, name);
      out.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  walk("");
  return out;
}

/** The view-relative path of a lower inode ("" = root), or null when it is gone. */
function lowerRel(view: DicfuseView, ino: number): string | null {
  try {
    const remote = view.remotePath(ino);
    const base = view.opts.basePath === "/" ? "" : view.opts.basePath;
    return remote.slice(base.length).replace(/^\/+/, "");
  } catch {
    return null;
  }
}

export async function mountOverlay(opts: OverlayMountOptions): Promise<OverlayMount> {
  const attrTimeout = opts.attrTimeout ?? 1;
  const entryTimeout = opts.entryTimeout ?? 1;
  const fs = new OverlayFs({ upperDir: opts.upperDir, clDir: opts.clDir ?? null, lower: opts.lower }, { attrTimeout, entryTimeout, ...(opts.whiteoutFormat ? { whiteoutFormat: opts.whiteoutFormat } : {}) });
  const session = await FuseSession.mount(fs, {
    mountpoint: opts.mountpoint,
    fsname: opts.fsname ?? "scorpio-overlay",
    subtype: "scorpio",
    engine: "overlay",
    allowOther: opts.allowOther ?? false,
    // The kernel checks mode bits and ownership for every caller (the daemon may be root), and
    // nothing in the mount runs setuid/setgid or opens devices with the daemon's rights.
    defaultPermissions: true,
    extraOptions: ["nosuid", "nodev"],
    readOnly: opts.readOnly ?? false,
    ...(opts.spinMicros !== undefined ? { spinMicros: opts.spinMicros } : {}),
    attrTimeout,
    entryTimeout,
  });
  const quiet = (p: Promise<unknown>) => p.catch((err) => log.debug("invalidation failed", { error: err as Error }));
  const invalidatePath = (rel: string) => {
    if (rel === "") return [];
    const { parent, name } = splitRel(rel);
    const pino = fs.table.peek(parent);
    return pino === undefined ? [] : [quiet(session.invalidateEntry(pino, name))];
  };
  const follow = (lower: DicfuseView) =>
    lower.onChange((changes) => {
      fs.layers.invalidate();
      for (const c of changes) {
        if (c.kind === "entry") {
          const prel = lowerRel(lower, c.parent);
          if (prel !== null) void Promise.all(invalidatePath(joinRel(prel, c.name)));
        } else {
          const rel = lowerRel(lower, c.ino);
          const ino = rel === null ? undefined : fs.table.peek(rel);
          if (ino !== undefined) void quiet(session.invalidateInode(ino));
        }
      }
    });
  let unsubscribe = follow(opts.lower);
  void session.closed.then(() => unsubscribe());
  /** Drops every kernel entry and inode the mount handed out, and the entries at `changed` paths. */
  const invalidateAll = async (changed: Set<string>) => {
    const pending: Promise<unknown>[] = [];
    for (const p of changed) pending.push(...invalidatePath(p));
    for (const { path, ino } of fs.table.referencedPaths()) {
      pending.push(quiet(session.invalidateInode(ino)));
      if (changed.has(path)) continue;
      pending.push(...invalidatePath(path));
    }
    pending.push(quiet(session.invalidateInode(ROOT_INO)));
    await Promise.all(pending);
  };
  return {
    session,
    fs,
    async setClDir(dir) {
      const changed = new Set([...clPaths(fs.clDir), ...clPaths(dir)]);
      fs.setClDir(dir);
      await invalidateAll(changed);
    },
    async setLower(view) {
      unsubscribe();
      unsubscribe = follow(view);
      fs.setLower(view);
      // Names the new lower adds may sit in the kernel as negative entries: drop those of every
      // directory the kernel holds (the old names go with the referenced paths).
      const changed = new Set<string>();
      for (const { path } of fs.table.referencedPaths()) {
        const d = await fs.layers.dirLayers(path).catch(() => null);
        if (d?.lower === null || d?.lower === undefined) continue;
        for (const n of await Promise.resolve(view.children(d.lower)).catch(() => [])) changed.add(joinRel(path, n.name));
      }
      await invalidateAll(changed);
    },
    async unmount() {
      unsubscribe();
      await session.unmount();
    },
  };
}
