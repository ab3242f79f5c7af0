/**
 * @module overlay/overlay-fs — the union as a FUSE filesystem (`LowLevelFs`): maps kernel inodes to
 * merged-tree paths, keeps the lookup counts, hands out file handles (host fds for upper and CL
 * files, pinned blob files for lower ones, both read by libfuse straight from the fd) and directory
 * snapshots, and shapes replies. The semantics live in union.ts and layers.ts.
 *
 * Permissions: the mount uses `default_permissions`, so the kernel checks mode bits and ownership
 * for every caller; each change is checked again here with the caller's credentials
 * (fuse/permissions) before the daemon, which may be root, applies it, and new entries get the
 * caller's ownership (or a setgid directory's group) whatever the daemon's own.
 *
 * Metadata changes run one at a time (`serial`): each resolves paths across layers, may wait for the
 * lower layer, then changes upper; letting two interleave at those waits could act on a stale view.
 * Reads, data writes and lookups are not serialized.
 */
import { closeSync, fchmodSync, fchownSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, futimesSync, mkdirSync, openSync, readlinkSync, statfsSync, writeSync } from "node:fs";
import type { DicfuseView } from "../dicfuse/index.ts";
import { ACCESS, checkAccess, checkCreate, checkRemove, checkSetattr, newEntryOwnership, O, RENAME, S_IF, type Attr, type Caller, type AttrReply, type CreateReply, type DirEntry, type EntryReply, type FileInfo, type LowLevelFs, type NegativeEntryReply, type OpenReply, type ReadReply, type RequestContext, type SetattrChanges, type StatfsReply, type XattrReply } from "../fuse/index.ts";
import type { BlobHandle } from "../store/index.ts";
import { Errno, FsError } from "../util/errno.ts";
import { decodeName, fsPath } from "../util/names.ts";
import { attrOfResolved, hostAttr } from "./attrs.ts";
import { OverlayInodeTable, ROOT_INO } from "./inode-table.ts";
import { joinRel, Layers, splitRel, type EntryKind, type Resolved } from "./layers.ts";
import { Union, type Owner } from "./union.ts";
import { probeWhiteoutFormat, type WhiteoutFormat } from "./whiteout.ts";
import { fallocate, lseek } from "./host-syscalls.ts";

export interface OverlayLayers {
  /** Writable host directory; created if missing. */
  upperDir: string;
  /** Optional read-only host directory built from a change list (files and whiteouts). */
  clDir?: string | null;
  lower: DicfuseView;
}

export interface OverlayFsOptions {
  /** Marker form to write; probed in the upper directory when left out. */
  whiteoutFormat?: WhiteoutFormat;
  /** Kernel cache lifetimes in seconds for entries and attributes. Default 1. */
  attrTimeout?: number;
  entryTimeout?: number;
}

/**
 * An open file: a host fd (an upper file, or a CL file when `below`) or a lower file's blob, which
 * keeps the entry it was opened from (fstat answers from it once no name is left; `attr` once
 * changed through the handle). Handles reading from below move to the upper copy when the file is
 * copied up (`promoteReaders`).
 */
type FileHandle = { kind: "host"; fd: number; below?: boolean } | { kind: "blob"; blob: BlobHandle | null; entry: Resolved; attr?: Attr };

interface DirHandle {
  entries: Array<{ name: string; ino: number; mode: number }>;
  parent: number;
  /** True until the first readdir: a later read from offset 0 is a rewinddir and takes a new snapshot. */
  fresh: boolean;
}

const WRITE_ACCESS = O.WRONLY | O.RDWR;
const SEEK_DATA = 3;
const SEEK_HOLE = 4;

const KIND_MODE: Record<EntryKind, number> = { dir: S_IF.DIR, file: S_IF.REG, symlink: S_IF.LNK, special: 0 };

export class OverlayFs implements LowLevelFs {
  readonly layers: Layers;
  readonly union: Union;
  readonly table = new OverlayInodeTable();
  readonly whiteoutFormat: WhiteoutFormat;
  private readonly files = new Map<number, FileHandle>();
  /** Open handles per inode: an unlinked file stays usable through them (fstat, ftruncate, ...). */
  private readonly openByIno = new Map<number, Set<number>>();
  private readonly dirs = new Map<number, DirHandle>();
  /** Attributes of removed directories the kernel still holds (a process's cwd), until forgotten. */
  private readonly removedDirs = new Map<number, Attr>();
  private nextFh = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly attrTimeout: number;
  private readonly entryTimeout: number;

  constructor(layers: OverlayLayers, opts: OverlayFsOptions = {}) {
    mkdirSync(layers.upperDir, { recursive: true });
    this.layers = new Layers(layers.upperDir, layers.clDir ?? null, layers.lower);
    this.whiteoutFormat = opts.whiteoutFormat ?? probeWhiteoutFormat(layers.upperDir);
    this.union = new Union(this.layers, () => this.whiteoutFormat);
    this.attrTimeout = opts.attrTimeout ?? 1;
    this.entryTimeout = opts.entryTimeout ?? 1;
  }

  get upperDir(): string {
    return this.layers.upperDir;
  }

  get clDir(): string | null {
    return this.layers.clDir;
  }

  /** Swaps the CL layer. The caller drops kernel caches afterwards (`OverlayMount.setClDir` does). */
  setClDir(dir: string | null): void {
    this.layers.clDir = dir;
    this.layers.invalidate();
  }

  /**
   * Swaps the lower view (a job moved to a newer commit). Open files keep the content they opened;
   * the caller drops kernel caches afterwards (`OverlayMount.setLower` does).
   */
  setLower(view: DicfuseView): void {
    this.layers.lower = view;
    this.layers.invalidate();
  }

  /** Open file handles (for status and leak checks). */
  get openFiles(): number {
    return this.files.size;
  }

  /** Runs metadata changes one at a time, in arrival order. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Attributes of merged path `rel` for permission checks (the inode number is left 0). */
  private async attrAt(rel: string): Promise<Attr> {
    return attrOfResolved(await this.union.mustResolve(rel), 0, this.layers.lower);
  }

  /**
   * Checks that `ctx` may add `name` to `parentRel`, and the owner and mode bits (umask applied)
   * of the new entry of type `type`.
   */
  private async newEntry(parentRel: string, type: number, mode: number, ctx: RequestContext): Promise<{ owner: Owner; mode: number }> {
    const dir = await this.attrAt(parentRel);
    if ((dir.mode & S_IF.MT) !== S_IF.DIR) throw new FsError(Errno.ENOTDIR, parentRel);
    checkCreate(dir, ctx);
    const own = newEntryOwnership(dir, type, mode & ~ctx.umask, ctx);
    return { owner: { uid: own.uid, gid: own.gid }, mode: own.mode };
  }

  /** Checks that `ctx` may remove (or move away) `name` from directory `parentRel`; returns the entry's path. */
  private async removable(parentRel: string, name: string, ctx: Caller): Promise<string> {
    const rel = joinRel(parentRel, name);
    if (ctx.uid === 0) return rel; // root passes both checks: spare the lookups
    const entry = await this.attrAt(rel);
    checkRemove(await this.attrAt(parentRel), entry, ctx);
    return rel;
  }

  private async resolveIno(ino: number): Promise<Resolved> {
    return this.union.mustResolve(this.table.livePath(ino));
  }

  // ---- entries -----------------------------------------------------------------------------------

  private inoFor(r: Resolved): number {
    const st = r.top === "upper" ? r.upper?.st : undefined;
    const hostKey = st && st.isFile() && st.nlink > 1n ? `${st.dev}:${st.ino}` : null;
    return this.table.assign(r.rel, hostKey);
  }

  /** An entry reply for `r`: the one place that takes a kernel reference. */
  private async entryOf(r: Resolved, ino = this.inoFor(r)): Promise<EntryReply> {
    const attr = await attrOfResolved(r, ino, this.layers.lower);
    this.table.ref(ino);
    return { ino, generation: 0, attr, attrTimeout: this.attrTimeout, entryTimeout: this.entryTimeout };
  }

  private async entryAt(rel: string, ino?: number): Promise<EntryReply> {
    return this.entryOf(await this.union.mustResolve(rel), ino);
  }

  async lookup(parent: number, name: string): Promise<EntryReply | NegativeEntryReply> {
    const r = await this.union.resolve(joinRel(this.table.livePath(parent), name));
    if (!r) return { ino: 0, entryTimeout: this.entryTimeout };
    return this.entryOf(r);
  }

  forget(ino: number, nlookup: number): void {
    this.table.forget(ino, nlookup);
    if (!this.table.has(ino)) this.removedDirs.delete(ino);
  }

  async getattr(ino: number, fh: number | undefined): Promise<AttrReply & { attr: Attr }> {
    const h = fh !== undefined ? this.files.get(fh) : undefined;
    const fd = h?.kind === "host" ? h.fd : this.orphanFd(ino);
    if (fd !== null) return { attr: hostAttr(fstatSync(fd, { bigint: true }), ino), attrTimeout: this.attrTimeout };
    const removedDir = this.removedDirs.get(ino);
    if (removedDir && this.table.pathOf(ino) === null) return { attr: removedDir, attrTimeout: this.attrTimeout };
    const lowerOrphan = this.orphan(ino);
    if (lowerOrphan?.kind === "blob") return { attr: { ...(await this.blobAttr(lowerOrphan, ino)), nlink: 0 }, attrTimeout: this.attrTimeout };
    const r = await this.resolveIno(ino);
    return { attr: await attrOfResolved(r, ino, this.layers.lower), attrTimeout: this.attrTimeout };
  }

  setattr(ino: number, changes: SetattrChanges, fh: number | undefined, ctx: RequestContext): Promise<AttrReply> {
    return this.serial(async () => {
      const h = fh !== undefined ? this.files.get(fh) : undefined;
      const allowed = checkSetattr((await this.getattr(ino, fh)).attr, changes, ctx, h !== undefined);
      const orphan = this.orphan(ino);
      if (orphan !== null) {
        // Unlinked but open: only its open handles reach it now (a lower file's: its attributes).
        if (orphan.kind === "host") applyToFd(orphan.fd, allowed);
        else for (const other of this.openByIno.get(ino) ?? []) {
          const b = this.files.get(other);
          if (b?.kind === "blob") b.attr = applyToAttr(await this.blobAttr(b, ino), allowed);
        }
        return this.getattr(ino, undefined);
      }
      const fd = h?.kind === "host" ? h.fd : null;
      await this.union.setattr(this.table.livePath(ino), allowed, fd);
      await this.promoteReaders(ino);
      return this.getattr(ino, undefined);
    });
  }

  async access(ino: number, mask: number, ctx: RequestContext): Promise<void> {
    checkAccess((await this.getattr(ino, undefined)).attr, mask, ctx);
  }

  async readlink(ino: number): Promise<string> {
    const r = await this.resolveIno(ino);
    if (r.kind !== "symlink") throw new FsError(Errno.EINVAL);
    if (r.top === "lower") return this.layers.lower.readlink(r.lower!);
    return decodeName(readlinkSync(fsPath((r.top === "upper" ? r.upper : r.cl)!.path), { encoding: "buffer" }));
  }

  mknod(parent: number, name: string, mode: number, rdev: number, ctx: RequestContext): Promise<EntryReply> {
    return this.serial(async () => {
      const parentRel = this.table.livePath(parent);
      const type = mode & S_IF.MT;
      const n = await this.newEntry(parentRel, type, mode, ctx);
      if (type === S_IF.REG) {
        const { rel, fd } = await this.union.create(parentRel, name, n.mode, O.WRONLY | O.EXCL, n.owner);
        closeSync(fd);
        return this.entryAt(rel);
      }
      return this.entryAt(await this.union.mknod(parentRel, name, type | n.mode, rdev, n.owner));
    });
  }

  mkdir(parent: number, name: string, mode: number, ctx: RequestContext): Promise<EntryReply> {
    return this.serial(async () => {
      const parentRel = this.table.livePath(parent);
      const n = await this.newEntry(parentRel, S_IF.DIR, mode, ctx);
      return this.entryAt(await this.union.mkdir(parentRel, name, n.mode, n.owner));
    });
  }

  symlink(target: string, parent: number, name: string, ctx: RequestContext): Promise<EntryReply> {
    return this.serial(async () => {
      const parentRel = this.table.livePath(parent);
      const n = await this.newEntry(parentRel, S_IF.LNK, 0o777, ctx);
      return this.entryAt(await this.union.symlink(target, parentRel, name, n.owner));
    });
  }

  link(ino: number, newParent: number, newName: string, ctx: RequestContext): Promise<EntryReply> {
    return this.serial(async () => {
      if (ctx.uid !== 0) checkCreate(await this.attrAt(this.table.livePath(newParent)), ctx);
      const { rel, st } = await this.union.link(this.table.livePath(ino), this.table.livePath(newParent), newName);
      this.table.addPath(ino, rel, `${st.dev}:${st.ino}`);
      await this.promoteReaders(ino);
      return this.entryAt(rel, ino);
    });
  }

  unlink(parent: number, name: string, ctx: RequestContext): Promise<void> {
    return this.serial(async () => {
      const rel = await this.removable(this.table.livePath(parent), name, ctx);
      await this.union.unlink(rel);
      this.table.dropPath(rel);
    });
  }

  rmdir(parent: number, name: string, ctx: RequestContext): Promise<void> {
    return this.serial(async () => {
      const rel = await this.removable(this.table.livePath(parent), name, ctx);
      const ino = this.table.peek(rel);
      const attr = ino !== undefined ? await this.attrAt(rel) : null;
      await this.union.rmdir(rel);
      this.table.dropSubtree(rel);
      // It may be someone's cwd: fstat of it keeps working (nlink 0), as natively.
      if (ino !== undefined && attr && this.table.has(ino)) this.removedDirs.set(ino, { ...attr, ino, nlink: 0 });
    });
  }

  rename(parent: number, name: string, newParent: number, newName: string, flags: number, ctx: RequestContext): Promise<void> {
    return this.serial(async () => {
      const fromParent = this.table.livePath(parent);
      const toParent = this.table.livePath(newParent);
      const from = await this.removable(fromParent, name, ctx);
      const to = joinRel(toParent, newName);
      if (ctx.uid !== 0) {
        if (await this.union.resolve(to)) await this.removable(toParent, newName, ctx);
        else checkCreate(await this.attrAt(toParent), ctx);
        // A directory that changes parent rewrites its "..": that needs write permission on it.
        const moved = await this.attrAt(from);
        if (fromParent !== toParent && (moved.mode & S_IF.MT) === S_IF.DIR) checkAccess(moved, ACCESS.W_OK, ctx);
      }
      await this.union.rename(from, to, flags);
      if (from === to) return;
      if (flags & RENAME.EXCHANGE) this.table.exchange(from, to);
      else this.table.rename(from, to);
      await this.promoteReadersUnder(to);
      if (flags & RENAME.EXCHANGE) await this.promoteReadersUnder(from);
    });
  }

  // ---- files -------------------------------------------------------------------------------------

  private addFile(h: FileHandle, ino: number): number {
    const fh = this.nextFh++;
    this.files.set(fh, h);
    let open = this.openByIno.get(ino);
    if (!open) this.openByIno.set(ino, (open = new Set()));
    open.add(fh);
    return fh;
  }

  /**
   * An open handle of `ino` when none of its names is left (unlinked or renamed over while open),
   * a host one if there is one; else null.
   */
  private orphan(ino: number): FileHandle | null {
    const open = this.openByIno.get(ino);
    if (!open || open.size === 0 || !this.table.has(ino) || this.table.pathOf(ino) !== null) return null;
    let found: FileHandle | null = null;
    for (const fh of open) {
      const h = this.files.get(fh);
      if (h && (h.kind === "host" || !found)) found = h;
    }
    return found;
  }

  /**
   * Moves the read handles of `ino` that still read a CL or lower file to its upper copy, once there
   * is one: as on a native filesystem (and kernel overlayfs), a file opened before another open
   * copied it up sees what is written through the other.
   */
  private async promoteReaders(ino: number | undefined): Promise<void> {
    const open = ino === undefined ? undefined : this.openByIno.get(ino);
    if (!open) return;
    let upper: string | null | undefined;
    for (const fh of open) {
      const h = this.files.get(fh);
      if (!h || (h.kind === "host" && !h.below)) continue;
      if (upper === undefined) {
        const rel = this.table.pathOf(ino!);
        const r = rel === null ? null : await this.union.resolve(rel);
        upper = r?.top === "upper" && r.kind === "file" ? r.upper!.path : null;
      }
      if (upper === null) return;
      const fd = openSync(fsPath(upper), O.RDONLY);
      if (h.kind === "blob") h.blob?.close();
      else closeSync(h.fd);
      this.files.set(fh, { kind: "host", fd });
    }
  }

  /** `promoteReaders` for every open file at `rel` or under it (a renamed tree was copied up). */
  private async promoteReadersUnder(rel: string): Promise<void> {
    for (const ino of [...this.openByIno.keys()]) {
      const p = this.table.pathOf(ino);
      if (p !== null && (p === rel || p.startsWith(rel + "/"))) await this.promoteReaders(ino);
    }
  }

  private async blobAttr(h: Extract<FileHandle, { kind: "blob" }>, ino: number): Promise<Attr> {
    return h.attr ?? attrOfResolved(h.entry, ino, this.layers.lower);
  }

  /** An open host fd of an orphaned `ino` (see `orphan`), else null. */
  private orphanFd(ino: number): number | null {
    const h = this.orphan(ino);
    return h?.kind === "host" ? h.fd : null;
  }

  async open(ino: number, flags: number, ctx: RequestContext): Promise<OpenReply> {
    if ((flags & WRITE_ACCESS) || (flags & O.TRUNC)) {
      return this.serial(async () => {
        const r = await this.resolveIno(ino);
        if (ctx.uid !== 0) checkAccess(await attrOfResolved(r, ino, this.layers.lower), ACCESS.W_OK, ctx);
        const fd = await this.union.openWrite(r, flags);
        await this.promoteReaders(ino);
        return { fh: this.addFile({ kind: "host", fd }, ino) };
      });
    }
    const r = await this.resolveIno(ino);
    if (r.kind === "dir") throw new FsError(Errno.EISDIR);
    const host = r.top === "upper" ? r.upper : r.top === "cl" ? r.cl : null;
    if (host) return { fh: this.addFile({ kind: "host", fd: openSync(fsPath(host.path), O.RDONLY | (flags & O.NONBLOCK)), below: r.top === "cl" }, ino) };
    const blob = await this.layers.lower.openContent(r.lower!);
    return { fh: this.addFile({ kind: "blob", blob, entry: r }, ino) };
  }

  create(parent: number, name: string, mode: number, flags: number, ctx: RequestContext): Promise<CreateReply> {
    return this.serial(async () => {
      const parentRel = this.table.livePath(parent);
      // The kernel sends CREATE for a name it has no entry for; another caller may have made it since.
      const existing = (flags & O.EXCL) === 0 ? await this.union.resolve(joinRel(parentRel, name)) : null;
      let n: { owner: Owner; mode: number } = { owner: { uid: ctx.uid, gid: ctx.gid }, mode: 0 };
      if (existing) {
        if (ctx.uid !== 0 && existing.kind !== "dir") checkAccess(await attrOfResolved(existing, 0, this.layers.lower), ACCESS.W_OK, ctx);
      } else n = await this.newEntry(parentRel, S_IF.REG, mode, ctx);
      const { rel, fd } = await this.union.create(parentRel, name, n.mode, flags, n.owner);
      try {
        const e = await this.entryAt(rel);
        if (existing) await this.promoteReaders(e.ino);
        return { ...e, fh: this.addFile({ kind: "host", fd }, e.ino) };
      } catch (err) {
        closeSync(fd);
        throw err;
      }
    });
  }

  read(_ino: number, size: number, offset: number, fh: number): ReadReply {
    const h = this.files.get(fh);
    if (!h) throw new FsError(Errno.EBADF);
    const fd = h.kind === "host" ? h.fd : h.blob?.fd;
    if (fd === undefined) return new Uint8Array(0);
    // Clamp to the current size: a spliced reply (MountOptions.splice) must not ask past the end.
    const fileSize = h.kind === "host" ? fstatSync(fd).size : h.blob!.size;
    if (offset >= fileSize) return new Uint8Array(0);
    return { fd, offset, length: Math.min(size, fileSize - offset) };
  }

  write(_ino: number, data: Uint8Array, offset: number, fi: FileInfo): number {
    const h = this.files.get(fi.fh);
    if (!h || h.kind !== "host") throw new FsError(Errno.EBADF);
    // An O_APPEND host fd appends whatever the offset: the kernel's idea of the size may be stale.
    return writeSync(h.fd, data, 0, data.length, offset);
  }

  // No flush(): writes reach the host fd when they arrive, so a FLUSH on close would have nothing to
  // do. libfuse answers the first one ENOSYS and the kernel then stops sending them (one request
  // fewer per closed file).

  release(ino: number, fi: FileInfo): void {
    const h = this.files.get(fi.fh);
    this.files.delete(fi.fh);
    if (!h) return;
    const open = this.openByIno.get(ino);
    open?.delete(fi.fh);
    if (open?.size === 0) this.openByIno.delete(ino);
    if (h.kind === "host") closeSync(h.fd);
    else h.blob?.close();
  }

  fallocate(_ino: number, mode: number, offset: number, length: number, fh: number): void {
    const h = this.files.get(fh);
    if (!h || h.kind !== "host") throw new FsError(Errno.EBADF, "fallocate needs a file opened for writing");
    fallocate(h.fd, mode, offset, length);
  }

  /**
   * SEEK_DATA / SEEK_HOLE (the kernel handles the other whences): asked of the host file, so holes
   * in upper files are found as on the host; a lower file is all data.
   */
  lseek(_ino: number, offset: number, whence: number, fh: number): number {
    const h = this.files.get(fh);
    if (!h) throw new FsError(Errno.EBADF);
    const fd = h.kind === "host" ? h.fd : h.blob?.fd;
    if (fd === undefined) throw new FsError(Errno.ENXIO); // an empty lower file
    if (whence !== SEEK_DATA && whence !== SEEK_HOLE) throw new FsError(Errno.EINVAL);
    return lseek(fd, offset, whence);
  }

  fsync(_ino: number, datasync: boolean, fh: number): void {
    const h = this.files.get(fh);
    if (h?.kind !== "host") return;
    if (datasync) fdatasyncSync(h.fd);
    else fsyncSync(h.fd);
  }

  // ---- directories -------------------------------------------------------------------------------

  async opendir(ino: number): Promise<OpenReply> {
    const fh = this.nextFh++;
    this.dirs.set(fh, await this.snapshot(ino));
    return { fh };
  }

  /**
   * The listing of directory `ino` now. Snapshot at opendir (and rewinddir): offsets stay valid
   * however the directory changes while it is read.
   */
  private async snapshot(ino: number): Promise<DirHandle> {
    // A removed directory that is still open (a cwd) lists as empty, as natively.
    if (this.table.has(ino) && this.table.pathOf(ino) === null) return { entries: [], parent: ROOT_INO, fresh: true };
    const rel = this.table.livePath(ino);
    const d = await this.layers.dirLayers(rel);
    const names = await this.layers.list(d);
    const entries = names.map((n) => ({ name: n.name, ino: this.table.assign(joinRel(rel, n.name)), mode: KIND_MODE[n.kind] }));
    const parent = rel === "" ? ROOT_INO : this.table.peek(splitRel(rel).parent) ?? ROOT_INO;
    return { entries, parent, fresh: true };
  }

  async readdir(ino: number, fh: number, offset: number, max: number): Promise<DirEntry[]> {
    let d = this.dirs.get(fh);
    if (!d) throw new FsError(Errno.EBADF);
    // Reading from 0 again is rewinddir: POSIX has the stream show the directory as it is now.
    if (offset === 0 && !d.fresh) this.dirs.set(fh, (d = await this.snapshot(ino)));
    d.fresh = false;
    const out: DirEntry[] = [];
    // Offsets: 1 = after ".", 2 = after "..", 3 + i = after child i. Resume strictly after `offset`.
    if (offset < 1) out.push({ name: ".", ino, mode: S_IF.DIR, nextOffset: 1 });
    if (offset < 2) out.push({ name: "..", ino: d.parent, mode: S_IF.DIR, nextOffset: 2 });
    for (let i = Math.max(0, offset - 2); i < d.entries.length && out.length < max; i++) {
      const e = d.entries[i]!;
      out.push({ name: e.name, ino: e.ino, mode: e.mode, nextOffset: i + 3 });
    }
    return out;
  }

  releasedir(_ino: number, fh: number): void {
    this.dirs.delete(fh);
  }

  fsyncdir(): void {}

  statfs(): StatfsReply {
    const s = statfsSync(this.layers.upperDir);
    return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, namemax: 255 };
  }

  // ---- xattrs ------------------------------------------------------------------------------------

  async getxattr(ino: number, name: string, size: number): Promise<XattrReply> {
    const v = await this.union.getxattr(this.table.livePath(ino), name);
    if (size === 0) return { size: v.length };
    if (size < v.length) throw new FsError(Errno.ERANGE);
    return v;
  }

  listxattr(ino: number): Promise<string[]> {
    return this.union.listxattr(this.table.livePath(ino));
  }

  setxattr(ino: number, name: string, value: Uint8Array, flags: number, ctx: RequestContext): Promise<void> {
    return this.serial(async () => {
      await this.checkXattrWrite(ino, name, ctx);
      await this.union.setxattr(this.table.livePath(ino), name, value, flags);
      await this.promoteReaders(ino);
    });
  }

  removexattr(ino: number, name: string, ctx: RequestContext): Promise<void> {
    return this.serial(async () => {
      await this.checkXattrWrite(ino, name, ctx);
      await this.union.removexattr(this.table.livePath(ino), name);
      await this.promoteReaders(ino);
    });
  }

  /**
   * As the kernel's xattr_permission: user.* needs write permission, other namespaces the owner;
   * trusted.* and file capabilities root.
   */
  private async checkXattrWrite(ino: number, name: string, ctx: RequestContext): Promise<void> {
    if (ctx.uid === 0) return;
    const attr = (await this.getattr(ino, undefined)).attr;
    if (name.startsWith("user.")) checkAccess(attr, ACCESS.W_OK, ctx);
    else if (name.startsWith("trusted.") || name === "security.capability" || attr.uid !== ctx.uid) throw new FsError(Errno.EPERM, `${name}: not permitted`);
  }

  destroy(): void {
    for (const h of this.files.values()) {
      if (h.kind === "host") closeSync(h.fd);
      else h.blob?.close();
    }
    this.files.clear();
    this.dirs.clear();
  }
}

/** setattr on a lower file that has no name left: only its open handles' attributes can change. */
function applyToAttr(a: Attr, ch: SetattrChanges): Attr {
  if (ch.size !== undefined) throw new FsError(Errno.EINVAL, "a lower file without a name cannot be truncated");
  const now = Date.now();
  const nowSpec = { sec: Math.floor(now / 1000), nsec: (now % 1000) * 1_000_000 };
  const t = (v: SetattrChanges["atime"]) => (v === "now" ? nowSpec : v);
  const atime = t(ch.atime);
  const mtime = t(ch.mtime);
  return {
    ...a,
    mode: ch.mode !== undefined ? (a.mode & S_IF.MT) | (ch.mode & 0o7777) : a.mode,
    uid: ch.uid ?? a.uid,
    gid: ch.gid ?? a.gid,
    ...(atime ? { atimeSec: atime.sec, atimeNsec: atime.nsec } : {}),
    ...(mtime ? { mtimeSec: mtime.sec, mtimeNsec: mtime.nsec } : {}),
    ctimeSec: nowSpec.sec,
    ctimeNsec: nowSpec.nsec,
  };
}

/** setattr on an fd alone (an unlinked open file): the changes node:fs can apply by descriptor. */
function applyToFd(fd: number, ch: SetattrChanges): void {
  if (ch.uid !== undefined || ch.gid !== undefined) {
    const st = fstatSync(fd);
    fchownSync(fd, ch.uid ?? st.uid, ch.gid ?? st.gid);
  }
  if (ch.mode !== undefined) fchmodSync(fd, ch.mode & 0o7777);
  if (ch.size !== undefined) ftruncateSync(fd, ch.size);
  if (ch.atime !== undefined || ch.mtime !== undefined) {
    const st = fstatSync(fd);
    const secs = (v: SetattrChanges["atime"], old: number) => (v === undefined ? old / 1000 : v === "now" ? Date.now() / 1000 : v.sec + v.nsec / 1e9);
    futimesSync(fd, secs(ch.atime, st.atimeMs), secs(ch.mtime, st.mtimeMs));
  }
}
