/**
 * @module overlay/attrs — attributes of a resolved entry as the overlay reports them: the top
 * layer's (a host stat for upper/CL, the git entry for lower) with `st_ino` replaced by the overlay
 * inode. A merged directory reports nlink 1 ("unknown"), so `find` never trusts a link count that
 * covers only one layer.
 */
import type { BigIntStats } from "node:fs";
import { attrOf as lowerAttr, type DicfuseView } from "../dicfuse/index.ts";
import type { Attr } from "../fuse/index.ts";
import type { Resolved } from "./layers.ts";

const NS = 1_000_000_000n;
/** Shown for lower entries the server gave no time for (the root): when this module loaded. */
const FALLBACK_MTIME = Math.floor(Date.now() / 1000);

/** Seconds and nanoseconds (0..999,999,999) of a time in ns: times before 1970 round towards -∞. */
function split(ns: bigint): [number, number] {
  const nsec = ((ns % NS) + NS) % NS;
  return [Number((ns - nsec) / NS), Number(nsec)];
}

export function hostAttr(st: BigIntStats, ino: number): Attr {
  const [atimeSec, atimeNsec] = split(st.atimeNs);
  const [mtimeSec, mtimeNsec] = split(st.mtimeNs);
  const [ctimeSec, ctimeNsec] = split(st.ctimeNs);
  return {
    ino,
    mode: Number(st.mode),
    nlink: Number(st.nlink),
    uid: Number(st.uid),
    gid: Number(st.gid),
    rdev: Number(st.rdev),
    size: Number(st.size),
    blocks: Number(st.blocks),
    blksize: Number(st.blksize),
    atimeSec,
    atimeNsec,
    mtimeSec,
    mtimeNsec,
    ctimeSec,
    ctimeNsec,
  };
}

/** Attributes of `r` under overlay inode `ino` (resolves unknown lower sizes first). */
export async function attrOfResolved(r: Resolved, ino: number, view: DicfuseView): Promise<Attr> {
  const merged = r.dir !== null && ((r.top === "upper" && (r.dir.cl !== null || r.dir.lower !== null)) || (r.top === "cl" && r.dir.lower !== null));
  let a: Attr;
  if (r.top === "lower") {
    const node = await view.withSize(r.lower!);
    const target = node.kind === "symlink" && node.target === null ? await view.readlink(node).catch(() => null) : null;
    a = lowerAttr(target === null ? node : { ...node, target }, { uid: view.opts.uid ?? process.getuid?.() ?? 0, gid: view.opts.gid ?? process.getgid?.() ?? 0, fallbackMtime: FALLBACK_MTIME });
    a = { ...a, ino };
  } else {
    a = hostAttr((r.top === "upper" ? r.upper : r.cl)!.st, ino);
  }
  if (r.kind === "dir" && (merged || r.top === "lower")) a.nlink = 1;
  return a;
}
