/**
 * @module dicfuse/attrs — git tree entries as POSIX attributes: modes 100644/100755 as regular files,
 * 120000 as symlinks, 040000 and gitlinks (160000) as directories; the daemon's uid/gid; the stored mtime.
 */
import { S_IF, type Attr } from "../fuse/index.ts";
import type { Node } from "./types.ts";

export interface Owner {
  uid: number;
  gid: number;
  /** Shown for entries the server gave no time for (the root): when the view was opened. */
  fallbackMtime: number;
}

export function modeOf(node: Node): number {
  switch (node.kind) {
    case "dir":
    case "gitlink":
      return S_IF.DIR | 0o755;
    case "symlink":
      return S_IF.LNK | 0o777;
    default:
      return S_IF.REG | (node.mode === 0o100755 ? 0o755 : 0o644);
  }
}

/** Attributes of `node`; `size` overrides the stored size (null = unknown, shown as 0). */
export function attrOf(node: Node, owner: Owner, childDirs = 0): Attr {
  const isDir = node.kind === "dir" || node.kind === "gitlink";
  const size = isDir ? 4096 : node.kind === "symlink" && node.target !== null ? Buffer.byteLength(node.target) : node.size ?? 0;
  return {
    ino: node.ino,
    mode: modeOf(node),
    nlink: isDir ? 2 + childDirs : 1,
    uid: owner.uid,
    gid: owner.gid,
    size,
    blocks: Math.ceil(size / 512),
    atimeSec: node.mtime || owner.fallbackMtime,
    mtimeSec: node.mtime || owner.fallbackMtime,
    ctimeSec: node.mtime || owner.fallbackMtime,
  };
}
