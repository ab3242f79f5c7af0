/**
 * @module overlay/inode-table — overlay inode numbers, keyed by path in the merged tree.
 *
 * A path keeps its number whatever layer serves it, so copy-up never changes `st_ino` and the
 * kernel's dentries and open files stay valid. Hard links: an upper file with several names maps to
 * one inode (keyed by its host device and inode), which then has several paths. Numbers are never
 * reused within a mount, so every generation is 0.
 *
 * Lookup counts follow the libfuse contract: each entry reply adds one (`ref`), `forget` gives them
 * back, and a count that would go negative is an internal error, never absorbed. A record is
 * dropped once it has neither kernel references nor a path, so a path keeps its number for the life
 * of the mount (memory grows with the paths seen, as the kernel's own inode cache would).
 * Knows nothing of layers or FUSE.
 */
import { Errno, FsError } from "../util/errno.ts";

export const ROOT_INO = 1;

interface InodeRecord {
  readonly ino: number;
  /** Merged-tree paths ("" = root); empty once every name is gone (unlinked while referenced). */
  paths: string[];
  nlookup: number;
  /** `dev:ino` of the upper host file when it has several links. */
  hostKey: string | null;
}

export class OverlayInodeTable {
  private readonly byIno = new Map<number, InodeRecord>();
  private readonly byPath = new Map<string, number>();
  private readonly byHost = new Map<string, number>();
  private next = ROOT_INO + 1;

  constructor() {
    this.byIno.set(ROOT_INO, { ino: ROOT_INO, paths: [""], nlookup: 1, hostKey: null });
    this.byPath.set("", ROOT_INO);
  }

  /** Inodes the table knows (for status and leak checks). */
  get size(): number {
    return this.byIno.size;
  }

  /** Inodes the kernel holds references to. */
  get referenced(): number {
    let n = 0;
    for (const r of this.byIno.values()) if (r.nlookup > 0 && r.ino !== ROOT_INO) n++;
    return n;
  }

  peek(path: string): number | undefined {
    return this.byPath.get(path);
  }

  has(ino: number): boolean {
    return this.byIno.has(ino);
  }

  /** The (first) path of `ino`, or null when all its names are gone. Unknown inode → ESTALE. */
  pathOf(ino: number): string | null {
    const r = this.byIno.get(ino);
    if (!r) throw new FsError(Errno.ESTALE, `overlay inode ${ino} is unknown`);
    return r.paths[0] ?? null;
  }

  /** Like `pathOf` but an unlinked inode is ENOENT. */
  livePath(ino: number): string {
    const p = this.pathOf(ino);
    if (p === null) throw new FsError(Errno.ENOENT, `overlay inode ${ino} has been removed`);
    return p;
  }

  /**
   * The inode for `path`, creating it if needed (without a reference). `hostKey` identifies a
   * multi-link upper file, so a second name of the same host file gets the same inode.
   */
  assign(path: string, hostKey: string | null = null): number {
    const known = this.byPath.get(path);
    if (known !== undefined) {
      const r = this.byIno.get(known)!;
      if (hostKey && r.hostKey !== hostKey) this.bindHost(r, hostKey);
      return known;
    }
    if (hostKey) {
      const same = this.byHost.get(hostKey);
      if (same !== undefined) {
        const r = this.byIno.get(same)!;
        r.paths.push(path);
        this.byPath.set(path, same);
        return same;
      }
    }
    const ino = this.next++;
    const r: InodeRecord = { ino, paths: [path], nlookup: 0, hostKey: null };
    this.byIno.set(ino, r);
    this.byPath.set(path, ino);
    if (hostKey) this.bindHost(r, hostKey);
    return ino;
  }

  private bindHost(r: InodeRecord, hostKey: string): void {
    if (r.hostKey && this.byHost.get(r.hostKey) === r.ino) this.byHost.delete(r.hostKey);
    r.hostKey = hostKey;
    this.byHost.set(hostKey, r.ino);
  }

  /** Adds `path` as another name of `ino` (a hard link made through the overlay). */
  addPath(ino: number, path: string, hostKey: string): void {
    const r = this.byIno.get(ino);
    if (!r) throw new FsError(Errno.ESTALE);
    this.dropPath(path);
    r.paths.push(path);
    this.byPath.set(path, ino);
    this.bindHost(r, hostKey);
  }

  ref(ino: number, n = 1): void {
    const r = this.byIno.get(ino);
    if (!r) throw new Error(`INTERNAL ERROR: reference to unknown overlay inode ${ino}`);
    r.nlookup += n;
  }

  forget(ino: number, n: number): void {
    const r = this.byIno.get(ino);
    if (!r) throw new Error(`INTERNAL ERROR: forget of unknown overlay inode ${ino}`);
    if (r.nlookup - n < 0) throw new Error(`INTERNAL ERROR: lookup count of overlay inode ${ino} would go negative (${r.nlookup} - ${n})`);
    r.nlookup -= n;
    // A forgotten inode keeps its number while its path exists: the kernel may forget and look up
    // again at any time (it does right after a stat on recent kernels), and `st_ino` must not move.
    if (r.nlookup === 0 && r.paths.length === 0 && ino !== ROOT_INO) this.drop(r);
  }

  private drop(r: InodeRecord): void {
    this.byIno.delete(r.ino);
    for (const p of r.paths) if (this.byPath.get(p) === r.ino) this.byPath.delete(p);
    if (r.hostKey && this.byHost.get(r.hostKey) === r.ino) this.byHost.delete(r.hostKey);
  }

  /** The name `path` is gone (unlink, rmdir, replaced by rename). */
  dropPath(path: string): void {
    const ino = this.byPath.get(path);
    if (ino === undefined) return;
    this.byPath.delete(path);
    const r = this.byIno.get(ino)!;
    r.paths = r.paths.filter((p) => p !== path);
    if (r.paths.length === 0 && r.nlookup === 0) this.drop(r);
  }

  /** Drops `path` and every path below it. */
  dropSubtree(path: string): void {
    for (const p of this.pathsUnder(path)) this.dropPath(p);
    this.dropPath(path);
  }

  private pathsUnder(path: string): string[] {
    const prefix = path === "" ? "" : path + "/";
    const out: string[] = [];
    for (const p of this.byPath.keys()) if (p.startsWith(prefix) && p !== path) out.push(p);
    return out;
  }

  /** `from` (and everything below it) is now called `to`; whatever was at `to` is gone. */
  rename(from: string, to: string): void {
    this.dropSubtree(to);
    const moves = [from, ...this.pathsUnder(from)].filter((p) => this.byPath.has(p));
    for (const p of moves) this.movePath(p, to + p.slice(from.length));
  }

  /** RENAME_EXCHANGE: `a` and `b` (and their subtrees) swap names. */
  exchange(a: string, b: string): void {
    const tmp = `\0exchange\0${a}`;
    this.rename(a, tmp);
    this.rename(b, a);
    this.rename(tmp, b);
  }

  private movePath(from: string, to: string): void {
    const ino = this.byPath.get(from)!;
    this.byPath.delete(from);
    this.byPath.set(to, ino);
    const r = this.byIno.get(ino)!;
    r.paths = r.paths.map((p) => (p === from ? to : p));
  }

  /** Every (path, ino) pair with a kernel reference, for cache invalidation after a layer swap. */
  referencedPaths(): Array<{ path: string; ino: number }> {
    const out: Array<{ path: string; ino: number }> = [];
    for (const [path, ino] of this.byPath) if ((this.byIno.get(ino)?.nlookup ?? 0) > 0) out.push({ path, ino });
    return out;
  }
}
