/**
 * @module dicfuse/mount — puts a view on a mountpoint: a FUSE session serving `DicfuseFs`, with the
 * view's change events turned into kernel cache invalidations.
 */
import { FuseSession, type MountOptions } from "../fuse/index.ts";
import { logger } from "../util/log.ts";
import { DicfuseFs } from "./fuse-adapter.ts";
import type { DicfuseView } from "./view.ts";

const log = logger("dicfuse");

export interface DicfuseMount {
  readonly session: FuseSession;
  readonly fs: DicfuseFs;
  unmount(): Promise<void>;
}

export async function mountDicfuse(view: DicfuseView, opts: Omit<MountOptions, "readOnly">): Promise<DicfuseMount> {
  const fs = new DicfuseFs(view);
  const session = await FuseSession.mount(fs, {
    fsname: "scorpio",
    subtype: "scorpio",
    engine: "dicfuse",
    // Listings are local once loaded, and an entry whose size is unknown goes without attributes:
    // a walk then costs one READDIRPLUS per block and no LOOKUP per file.
    readdirplus: "always",
    attrTimeout: view.opts.replyTtlSecs,
    entryTimeout: view.opts.replyTtlSecs,
    ...opts,
    readOnly: true,
    // Mode bits hold for every caller once other users may enter. Alone, the mounting user owns
    // every entry and the view answers access(2) itself, without the kernel's extra GETATTRs.
    defaultPermissions: opts.allowOther === true,
  });
  fs.attachKernel(session);
  const unsubscribe = view.onChange((changes) => {
    // Fire and forget: notifications are sent from a worker thread and must not block replies.
    for (const c of changes) {
      const p = c.kind === "entry" ? session.invalidateEntry(c.parent, c.name) : session.invalidateInode(c.ino);
      p.catch((err) => log.debug("invalidation failed", { error: err as Error }));
    }
  });
  void session.closed.then(unsubscribe);
  return {
    session,
    fs,
    async unmount() {
      unsubscribe();
      await session.unmount();
    },
  };
}
