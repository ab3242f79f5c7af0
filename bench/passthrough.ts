/**
 * @module bench/passthrough — a passthrough `LowLevelFs` over a host directory, modelled on libfuse's
 * example/passthrough_ll.c, so the binding can be compared with C on equal work.
 *
 * Inodes: one table keyed by the backing (st_dev, st_ino) with kernel lookup counts; `forget` drops
 * an inode when its count reaches zero. Each inode remembers the (parent, name) it was last seen
 * under and so has a backing path (passthrough_ll keeps an O_PATH fd instead; Node has no fstatat).
 * Lookups and getattr are synchronous `lstat`s on the BACKING directory — it is not our mount, so
 * blocking calls are safe and fastest. Open files are real fds on the backing file: `read` answers
 * `{fd, offset, length}` so libfuse splices/copies the bytes without them entering JS.
 * Directories are snapshotted per opendir handle with getdents64 (which, unlike `readdirSync`,
 * gives `d_ino`, the inode number passthrough_ll reports in plain READDIR replies).
 *
 * Bench code, not product code: it never touches its own mount and knows nothing of Scorpio.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import * as fs from "node:fs";
import { Errno, FsError } from "../src/util/errno.ts";
import type {
  Attr, CreateReply, DirEntry, DirEntryPlus, EntryReply, LowLevelFs, NegativeEntryReply, OpenReply,
  ReadReply, SetattrChanges, StatfsReply,
} from "../src/fuse/types.ts";

/** passthrough_ll's `-o cache=` modes: never = direct_io and timeout 0; auto = defaults; always = keep_cache. */
export type CacheMode = "never" | "auto" | "always";

export interface PassthroughOptions {
  /** attr/entry timeout in seconds (also the negative-entry timeout). */
  timeout: number;
  cache: CacheMode;
}

interface Inode {
  ino: number;
  dev: number;
  bino: number;
  /** Kernel lookup count; the root is pinned. */
  refs: number;
  parent: Inode | null;
  name: string;
  path: string;
  /** `path` is valid while it equals the table's rename generation. */
  pathGen: number;
}

interface DirHandle {
  path: string;
  parent: Inode;
  entries: DirEntry[];
}

const O_NOFOLLOW = 0o400000;
const O_CREAT = 0o100;
const S_IFMT = 0o170000;

const libc = dlopen("libc.so.6", {
  getdents64: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
});
const DENTS_BUF = Buffer.alloc(64 * 1024);
const DENTS_PTR = ptr(DENTS_BUF);

/** Reads a whole directory with getdents64: name, d_ino and type (as S_IF* bits). */
function readDirents(path: string): DirEntry[] {
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  const out: DirEntry[] = [];
  try {
    for (;;) {
      const n = Number(libc.symbols.getdents64(fd, DENTS_PTR, DENTS_BUF.length));
      if (n === 0) break;
      if (n < 0) throw new FsError(Errno.EIO, `getdents64 failed on ${path}`);
      let off = 0;
      while (off < n) {
        const reclen = DENTS_BUF.readUInt16LE(off + 16);
        const type = DENTS_BUF[off + 18]!;
        const end = DENTS_BUF.indexOf(0, off + 19);
        out.push({
          name: DENTS_BUF.toString("utf8", off + 19, end),
          ino: DENTS_BUF.readUInt32LE(off) + DENTS_BUF.readUInt32LE(off + 4) * 4294967296,
          mode: type << 12, // DT_* is S_IF* >> 12
          nextOffset: out.length + 1,
        });
        off += reclen;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

function attrOf(st: fs.Stats): Attr {
  const a = st.atimeMs, m = st.mtimeMs, c = st.ctimeMs;
  const as = Math.floor(a / 1000), ms = Math.floor(m / 1000), cs = Math.floor(c / 1000);
  return {
    ino: st.ino, mode: st.mode, nlink: st.nlink, uid: st.uid, gid: st.gid, rdev: st.rdev,
    size: st.size, blocks: st.blocks, blksize: st.blksize,
    atimeSec: as, atimeNsec: Math.round((a - as * 1000) * 1e6) % 1e9,
    mtimeSec: ms, mtimeNsec: Math.round((m - ms * 1000) * 1e6) % 1e9,
    ctimeSec: cs, ctimeNsec: Math.round((c - cs * 1000) * 1e6) % 1e9,
  };
}

const isDot = (name: string) => name === "." || name === "..";

export class PassthroughFs implements LowLevelFs {
  private readonly byIno = new Map<number, Inode>();
  /** dev -> backing ino -> inode. Nested maps avoid building a string key per lookup. */
  private readonly byDev = new Map<number, Map<number, Inode>>();
  private readonly root: Inode;
  private nextIno = 2;
  private gen = 0;
  private nextDirFh = 1;
  private readonly dirs = new Map<number, DirHandle>();
  private readonly timeout: number;
  private readonly negative: NegativeEntryReply;
  /** Counters for the bench report. */
  readonly counts = { lookups: 0, forgets: 0, maxInodes: 0 };

  constructor(readonly source: string, private readonly opts: PassthroughOptions) {
    const st = fs.lstatSync(source);
    if (!st.isDirectory()) throw new FsError(Errno.ENOTDIR, `${source} is not a directory`);
    this.root = { ino: 1, dev: st.dev, bino: st.ino, refs: 2, parent: null, name: "", path: source, pathGen: 0 };
    this.byIno.set(1, this.root);
    this.devMap(st.dev).set(st.ino, this.root);
    this.timeout = opts.timeout;
    this.negative = { ino: 0, entryTimeout: opts.timeout };
  }

  get inodeCount(): number {
    return this.byIno.size;
  }

  // ---- inode table ----------------------------------------------------------------------------

  private devMap(dev: number): Map<number, Inode> {
    let m = this.byDev.get(dev);
    if (!m) this.byDev.set(dev, (m = new Map()));
    return m;
  }

  private node(ino: number): Inode {
    const n = this.byIno.get(ino);
    if (!n) throw new FsError(Errno.ESTALE, `no inode ${ino}`);
    return n;
  }

  private pathOf(n: Inode): string {
    if (n.pathGen !== this.gen && n.parent) {
      n.path = this.pathOf(n.parent) + "/" + n.name;
      n.pathGen = this.gen;
    }
    return n.path;
  }

  /** Finds or creates the inode for `st` seen as `parent/name` and takes one kernel reference. */
  private ref(st: fs.Stats, parent: Inode, name: string, path: string): Inode {
    const m = this.devMap(st.dev);
    let n = m.get(st.ino);
    if (n) {
      if (n.parent !== parent || n.name !== name) {
        n.parent = parent;
        n.name = name;
        n.path = path;
        n.pathGen = this.gen;
      }
      n.refs++;
      return n;
    }
    n = { ino: this.nextIno++, dev: st.dev, bino: st.ino, refs: 1, parent, name, path, pathGen: this.gen };
    m.set(st.ino, n);
    this.byIno.set(n.ino, n);
    if (this.byIno.size > this.counts.maxInodes) this.counts.maxInodes = this.byIno.size;
    return n;
  }

  private entry(st: fs.Stats, parent: Inode, name: string, path: string): EntryReply {
    const n = this.ref(st, parent, name, path);
    return { ino: n.ino, attr: attrOf(st), attrTimeout: this.timeout, entryTimeout: this.timeout };
  }

  // ---- LowLevelFs ------------------------------------------------------------------------------

  lookup(parentIno: number, name: string): EntryReply | NegativeEntryReply {
    this.counts.lookups++;
    const parent = this.node(parentIno);
    const path = this.pathOf(parent) + "/" + name;
    const st = fs.lstatSync(path, { throwIfNoEntry: false });
    // A negative entry instead of a thrown ENOENT: same meaning (cached for `timeout`, i.e. not at 0), no exception cost.
    if (!st) return this.negative;
    return this.entry(st, parent, name, path);
  }

  forget(ino: number, nlookup: number): void {
    this.counts.forgets++;
    const n = this.byIno.get(ino);
    if (!n || n === this.root) return;
    n.refs -= nlookup;
    if (n.refs <= 0) {
      this.byIno.delete(ino);
      const m = this.byDev.get(n.dev);
      if (m?.get(n.bino) === n) m.delete(n.bino);
    }
  }

  getattr(ino: number, fh: number | undefined): { attr: Attr; attrTimeout: number } {
    // With an open handle, fstat: right even after the name was unlinked or renamed.
    // (The kernel passes a handle only for regular files, so `fh` is always one of our fds.)
    const st = fh !== undefined ? fs.fstatSync(fh) : fs.lstatSync(this.pathOf(this.node(ino)));
    return { attr: attrOf(st), attrTimeout: this.timeout };
  }

  setattr(ino: number, c: SetattrChanges, fh: number | undefined): { attr: Attr; attrTimeout: number } {
    const path = this.pathOf(this.node(ino));
    const useFd = fh !== undefined && fh > 0;
    if (c.mode !== undefined) useFd ? fs.fchmodSync(fh!, c.mode & 0o7777) : fs.chmodSync(path, c.mode & 0o7777);
    if (c.uid !== undefined || c.gid !== undefined) {
      const uid = c.uid ?? -1, gid = c.gid ?? -1;
      useFd ? fs.fchownSync(fh!, uid, gid) : fs.lchownSync(path, uid, gid);
    }
    if (c.size !== undefined) useFd ? fs.ftruncateSync(fh!, c.size) : fs.truncateSync(path, c.size);
    if (c.atime !== undefined || c.mtime !== undefined) {
      const cur = fs.lstatSync(path);
      const t = (v: SetattrChanges["atime"], keep: number) =>
        v === undefined ? keep / 1000 : v === "now" ? Date.now() / 1000 : v.sec + v.nsec / 1e9;
      const at = t(c.atime, cur.atimeMs), mt = t(c.mtime, cur.mtimeMs);
      useFd ? fs.futimesSync(fh!, at, mt) : fs.lutimesSync(path, at, mt);
    }
    return this.getattr(ino, fh);
  }

  readlink(ino: number): Uint8Array {
    return fs.readlinkSync(this.pathOf(this.node(ino)), { encoding: "buffer" });
  }

  mkdir(parentIno: number, name: string, mode: number): EntryReply {
    const parent = this.node(parentIno);
    const path = this.pathOf(parent) + "/" + name;
    fs.mkdirSync(path, { mode });
    return this.entry(fs.lstatSync(path), parent, name, path);
  }

  symlink(target: string, parentIno: number, name: string): EntryReply {
    const parent = this.node(parentIno);
    const path = this.pathOf(parent) + "/" + name;
    fs.symlinkSync(target, path);
    return this.entry(fs.lstatSync(path), parent, name, path);
  }

  link(ino: number, newParentIno: number, newName: string): EntryReply {
    const parent = this.node(newParentIno);
    const path = this.pathOf(parent) + "/" + newName;
    fs.linkSync(this.pathOf(this.node(ino)), path);
    return this.entry(fs.lstatSync(path), parent, newName, path);
  }

  unlink(parentIno: number, name: string): void {
    fs.unlinkSync(this.pathOf(this.node(parentIno)) + "/" + name);
  }

  rmdir(parentIno: number, name: string): void {
    fs.rmdirSync(this.pathOf(this.node(parentIno)) + "/" + name);
  }

  rename(parentIno: number, name: string, newParentIno: number, newName: string, flags: number): void {
    if (flags !== 0) throw new FsError(Errno.EINVAL, "rename flags are not supported");
    const parent = this.node(parentIno), newParent = this.node(newParentIno);
    const to = this.pathOf(newParent) + "/" + newName;
    fs.renameSync(this.pathOf(parent) + "/" + name, to);
    // Re-home the moved inode; every cached descendant path is recomputed on next use.
    const st = fs.lstatSync(to);
    const n = this.byDev.get(st.dev)?.get(st.ino);
    this.gen++;
    if (n) { n.parent = newParent; n.name = newName; }
  }

  open(ino: number, flags: number): OpenReply {
    const fd = fs.openSync(this.pathOf(this.node(ino)), flags & ~(O_NOFOLLOW | O_CREAT));
    return this.openReply(fd);
  }

  private openReply(fd: number): OpenReply {
    return { fh: fd, directIo: this.opts.cache === "never", keepCache: this.opts.cache === "always" };
  }

  create(parentIno: number, name: string, mode: number, flags: number): CreateReply {
    const parent = this.node(parentIno);
    const path = this.pathOf(parent) + "/" + name;
    const fd = fs.openSync(path, (flags | O_CREAT) & ~O_NOFOLLOW, mode);
    return { ...this.entry(fs.fstatSync(fd), parent, name, path), ...this.openReply(fd) };
  }

  read(_ino: number, size: number, offset: number, fh: number): ReadReply {
    return { fd: fh, offset, length: size };
  }

  write(_ino: number, data: Uint8Array, offset: number, fi: { fh: number }): number {
    return fs.writeSync(fi.fh, data, 0, data.byteLength, offset);
  }

  release(_ino: number, fi: { fh: number }): void {
    fs.closeSync(fi.fh);
  }

  fsync(_ino: number, datasync: boolean, fh: number): void {
    datasync ? fs.fdatasyncSync(fh) : fs.fsyncSync(fh);
  }

  opendir(ino: number): OpenReply {
    const n = this.node(ino);
    const path = this.pathOf(n);
    const fh = this.nextDirFh++;
    this.dirs.set(fh, { path, parent: n, entries: readDirents(path) });
    return { fh, cacheReaddir: this.opts.cache === "always" };
  }

  readdir(_ino: number, fh: number, offset: number, max: number): DirEntry[] {
    const d = this.dirs.get(fh);
    if (!d) throw new FsError(Errno.EBADF);
    return d.entries.slice(offset, offset + max);
  }

  readdirplus(_ino: number, fh: number, offset: number, max: number): DirEntryPlus[] {
    const d = this.dirs.get(fh);
    if (!d) throw new FsError(Errno.EBADF);
    const out: DirEntryPlus[] = [];
    const end = Math.min(d.entries.length, offset + max);
    for (let i = offset; i < end; i++) {
      const e = d.entries[i]!;
      if (isDot(e.name)) { out.push(e); continue; }
      const path = d.path + "/" + e.name;
      const st = fs.lstatSync(path, { throwIfNoEntry: false });
      if (!st) continue; // removed since opendir
      out.push({ name: e.name, ino: e.ino, mode: st.mode & S_IFMT, nextOffset: e.nextOffset, entry: this.entry(st, d.parent, e.name, path) });
    }
    return out;
  }

  releasedir(_ino: number, fh: number): void {
    this.dirs.delete(fh);
  }

  statfs(): StatfsReply {
    const s = fs.statfsSync(this.source);
    return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, namemax: 255 };
  }
}
