/**
 * @module overlay/copy-up — materializes an entry of the CL or lower layer in the upper directory
 * before it is changed: the file's bytes, its mode (exec bit included), its mtime, a symlink's
 * target, and a directory's parent chain. Files are copied to a hidden temporary beside the target
 * and renamed into place, so a crash never leaves a half-copied file under the real name.
 * Reads the CL directory and the blob cache, never writes to them.
 */
import { chmodSync, copyFileSync, lchownSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Errno, FsError } from "../util/errno.ts";
import { fsPath } from "../util/names.ts";
import { lutimens, type TimeSpec } from "./host-syscalls.ts";
import { joinRel, splitRel, type Layers, type Resolved } from "./layers.ts";
import { clearWhiteout, WH_PREFIX, writeOpaque, type WhiteoutFormat } from "./whiteout.ts";

let tmpCounter = 0;

/** A hidden scratch name in `dir` (names with the marker prefix never show through the overlay). */
export function scratchPath(dir: string): string {
  return join(dir, `${WH_PREFIX}${WH_PREFIX}tmp.${process.pid}.${++tmpCounter}`);
}

const IS_ROOT = process.getuid?.() === 0;

function mtimeOf(r: Resolved): TimeSpec {
  const h = r.cl ?? r.upper;
  if (h && r.top !== "lower") return { sec: Number(h.st.mtimeNs / 1_000_000_000n), nsec: Number(h.st.mtimeNs % 1_000_000_000n) };
  return { sec: r.lower?.mtime ?? 0, nsec: 0 };
}

function modeOf(r: Resolved): number {
  if (r.top === "cl" && r.cl) return Number(r.cl.st.mode) & 0o7777;
  if (r.kind === "dir") return 0o755;
  return r.lower?.mode === 0o100755 ? 0o755 : 0o644;
}

/** Host ownership of a CL entry is kept when the daemon may set it. */
function copyOwner(r: Resolved, path: string): void {
  if (IS_ROOT && r.top === "cl" && r.cl) lchownSync(fsPath(path), Number(r.cl.st.uid), Number(r.cl.st.gid));
}

export class CopyUp {
  constructor(private readonly layers: Layers, private readonly format: () => WhiteoutFormat) {}

  /** Makes sure directory `rel` exists in upper (with its parents); returns its host path. */
  async dir(rel: string): Promise<string> {
    const up = this.layers.upperPath(rel);
    if (rel === "") return up;
    const r = await this.layers.resolve(rel);
    if (!r) throw new FsError(Errno.ENOENT, rel);
    if (r.kind !== "dir") throw new FsError(Errno.ENOTDIR, rel);
    if (r.upper) return up;
    await this.dir(splitRel(rel).parent);
    mkdirSync(fsPath(up));
    chmodSync(fsPath(up), modeOf(r));
    copyOwner(r, up);
    lutimens(up, "omit", mtimeOf(r));
    this.layers.invalidate();
    return up;
  }

  /** Makes sure the entry `r` is in upper: a directory alone (not its children) or a whole non-directory. */
  async entry(r: Resolved): Promise<string> {
    const up = this.layers.upperPath(r.rel);
    if (r.upper) return up;
    if (r.kind === "dir") return this.dir(r.rel);
    const parentUp = await this.dir(splitRel(r.rel).parent);
    const tmp = scratchPath(parentUp);
    try {
      if (r.kind === "symlink") {
        // A CL link's target is copied as bytes, a lower one's as the exact name it spells.
        const target = r.cl ? readlinkSync(fsPath(r.cl.path), { encoding: "buffer" }) : fsPath(await this.layers.lower.readlink(r.lower!));
        symlinkSync(target, fsPath(tmp));
      } else if (r.kind === "file") {
        if (r.cl) copyFileSync(fsPath(r.cl.path), fsPath(tmp));
        else {
          const h = await this.layers.lower.openContent(r.lower!);
          try {
            if (h) copyFileSync(h.path, fsPath(tmp));
            else writeFileSync(fsPath(tmp), "");
          } finally {
            h?.close();
          }
        }
        chmodSync(fsPath(tmp), modeOf(r));
      } else {
        throw new FsError(Errno.EPERM, `cannot copy up special file ${r.rel}`);
      }
      copyOwner(r, tmp);
      lutimens(tmp, "omit", mtimeOf(r));
      clearWhiteout(up);
      renameSync(fsPath(tmp), fsPath(up));
    } catch (err) {
      rmSync(fsPath(tmp), { force: true });
      throw err;
    }
    this.layers.invalidate();
    return up;
  }

  /**
   * Copies up a whole directory tree so it can move as one upper directory. Every directory of the
   * tree becomes opaque: its upper copy is now complete, and it must not merge with whatever the
   * lower layers hold at its new place.
   */
  async tree(rel: string): Promise<void> {
    const r = await this.layers.resolve(rel);
    if (!r) throw new FsError(Errno.ENOENT, rel);
    if (r.kind !== "dir") {
      await this.entry(r);
      return;
    }
    const up = await this.dir(rel);
    const merged = r.dir!.cl !== null || r.dir!.lower !== null;
    // A directory without lower parts has none below it either: children inherit their parent's layers.
    if (!merged) return;
    const d = await this.layers.dirLayers(rel);
    for (const c of await this.layers.list(d)) await this.tree(joinRel(rel, c.name));
    writeOpaque(up, this.format());
    this.layers.invalidate();
  }
}
