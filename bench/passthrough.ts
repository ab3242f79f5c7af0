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
import { ptr, type Pointer } from "bun:ffi";
import * as fs from "node:fs";
import { Errno, FsError } from "../src/util/errno.ts";
import { lastErrno, libc } from "../src/util/libc.ts";
import type {
  AttrReply, CreateReply, DirEntry, DirEntryPlus, EntryReply, LowLevelFs, NegativeEntryReply, OpenReply,
  ReadReply, SetattrChanges, StatfsReply,
} from "../src/fuse/types.ts";

/** passthrough_ll's `-o cache=` modes: never = direct_io and timeout 0; auto = defaults; always = keep_cache. */
export type CacheMode = "never" | "auto" | "always";

export interface PassthroughOptions {
  /** attr/entry timeout in seconds (also the negative-entry timeout). */
  timeout: number;
  cache: CacheMode;
  /** Reuse a directory's getdents snapshot across opendirs while its ctime proves it unchanged. */
  reuseSnapshots?: boolean;
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
  /**
   * An O_PATH fd on the directory, opened the first time it is a lookup's parent (as passthrough_ll
   * keeps one per inode): lookups and getattrs below it resolve one name, not the whole path. -1 if none.
   */
  dirFd: number;
}

interface DirHandle {
  path: string;
  /** The directory opened at opendir: getdents and fstatat of the entries go through it. */
  fd: number;
  parent: Inode;
  listing: Listing;
}

interface Snapshot {
  ctimeSec: number;
  ctimeNsec: number;
  /** ctime was older than the snapshot by more than the timestamp granularity. */
  safe: boolean;
  listing: Listing;
}

/** sizeof(fuse_entry_out) + sizeof(fuse_dirent): a direntplus record before its padded name. */
const DIRENTPLUS_BASE = 152;
const SNAPSHOT_MARGIN_MS = 50;

const O_NOFOLLOW = 0o400000;
const O_CREAT = 0o100;
const O_PATH = 0o10000000;
const O_DIRECTORY = 0o200000;
const S_IFMT = 0o170000;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;
const TWO32 = 4294967296;

// Direct libc calls (src/util/libc.ts): node:fs has no getdents with d_ino and no fstatat, and lstatSync
// builds a Stats object per call; a struct stat read in place costs about half as much per entry (see
// docs/benchmarks.md).
const DENTS_BUF = Buffer.alloc(64 * 1024);
const DENTS_PTR = ptr(DENTS_BUF);
/** One `struct stat` (144 bytes on x86_64) filled by every stat call, read before the next one. */
// Every buffer whose pointer is used stays referenced by name below: a buffer known only by its
// pointer is garbage (an unused 8-byte buffer here was collected and fstatat("") turned into ENOENT).
// Each ArrayBuffer is created first: taking `.buffer` of a small typed array AFTER ptr() moves its
// storage out of line and leaves the pointer dangling (seen here: lstat wrote into the old copy).
const STAT_SIZE = 144;
const STAT_AB = new ArrayBuffer(STAT_SIZE);
const STAT_BUF = new Uint8Array(STAT_AB);
const ST = new DataView(STAT_AB);
const STAT_PTR = ptr(STAT_BUF);
const PATH_BUF = new Uint8Array(new ArrayBuffer(4097));
const PATH_PTR = ptr(PATH_BUF);
const utf8 = new TextEncoder();


const u64 = (off: number) => ST.getUint32(off, true) + ST.getUint32(off + 4, true) * TWO32;
const i64 = (off: number) => ST.getUint32(off, true) + ST.getInt32(off + 4, true) * TWO32;


function cPath(s: string): void {
  const r = utf8.encodeInto(s, PATH_BUF);
  if (r.read! < s.length || r.written! >= PATH_BUF.length - 1) throw new FsError(Errno.ENAMETOOLONG);
  PATH_BUF[r.written!] = 0;
}

/** lstat(2) into STAT_BUF; 0 or a positive errno. */
function lstatC(path: string): number {
  cPath(path);
  return libc.lstat(PATH_PTR, STAT_PTR) === 0 ? 0 : lastErrno();
}

/** fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW) into STAT_BUF; 0 or a positive errno. */
function fstatatC(dirfd: number, name: string): number {
  cPath(name);
  return libc.fstatat(dirfd, PATH_PTR, STAT_PTR, AT_SYMLINK_NOFOLLOW) === 0 ? 0 : lastErrno();
}

function mustLstat(path: string): void {
  const e = lstatC(path);
  if (e) throw new FsError(e, path);
}

const devC = () => u64(0);
const inoC = () => u64(8);
const modeC = () => ST.getUint32(24, true);

/**
 * A snapshot entry; `plusSize` is its direntplus record size (152 + the name padded to 8 bytes) and
 * `cname` the address of its NUL-terminated name in a copy of the getdents output (kept alive by
 * the snapshot's `chunks`), so fstatat needs no string encoding per entry.
 */
interface SnapEntry extends DirEntry {
  plusSize: number;
  cname: number;
}

interface Listing {
  entries: SnapEntry[];
  /** getdents output the `cname` pointers point into. */
  chunks: Uint8Array[];
}

/** Reads a whole directory with getdents64: name, d_ino and type (as S_IF* bits). */
function readDirents(fd: number, path: string): Listing {
  const entries: SnapEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (;;) {
    const n = Number(libc.getdents64(fd, DENTS_PTR, DENTS_BUF.length));
    if (n === 0) break;
    if (n < 0) throw new FsError(lastErrno() || Errno.EIO, `getdents64 failed on ${path}`);
    const chunk = new Uint8Array(new ArrayBuffer(n));
    chunk.set(DENTS_BUF.subarray(0, n));
    chunks.push(chunk);
    const base = ptr(chunk) as unknown as number;
    let off = 0;
    while (off < n) {
      const reclen = DENTS_BUF.readUInt16LE(off + 16);
      const type = DENTS_BUF[off + 18]!;
      const end = DENTS_BUF.indexOf(0, off + 19);
      entries.push({
        name: DENTS_BUF.toString("utf8", off + 19, end),
        ino: DENTS_BUF.readUInt32LE(off) + DENTS_BUF.readUInt32LE(off + 4) * TWO32,
        mode: type << 12, // DT_* is S_IF* >> 12
        nextOffset: entries.length + 1,
        plusSize: DIRENTPLUS_BASE + ((end - off - 19 + 7) & ~7),
        cname: base + off + 19,
      });
      off += reclen;
    }
  }
  return { entries, chunks };
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
  /** Last getdents snapshot per directory inode, reused while the directory's ctime says it is unchanged. */
  private readonly snapshots = new Map<number, Snapshot>();
  private readonly negative: NegativeEntryReply;
  /** Counters for the bench report. */
  readonly counts = { lookups: 0, forgets: 0, maxInodes: 0, snapshots: 0, snapshotReuses: 0 };

  constructor(readonly source: string, private readonly opts: PassthroughOptions) {
    mustLstat(source);
    if ((modeC() & S_IFMT) !== 0o040000) throw new FsError(Errno.ENOTDIR, `${source} is not a directory`);
    this.root = { ino: 1, dev: devC(), bino: inoC(), refs: 2, parent: null, name: "", path: source, pathGen: 0, dirFd: -1 };
    this.byIno.set(1, this.root);
    this.devMap(this.root.dev).set(this.root.bino, this.root);
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

  /** The directory's O_PATH fd, opened on first use; -1 for an inode the kernel has forgotten (use its path). */
  private dirFdOf(n: Inode): number {
    if (n.dirFd < 0 && n.refs > 0) n.dirFd = fs.openSync(this.pathOf(n), O_PATH | O_DIRECTORY | O_NOFOLLOW);
    return n.dirFd;
  }

  /** fstatat of `name` in `parent` into STAT_BUF: through the parent's fd when it has one. */
  private statIn(parent: Inode, name: string): number {
    const fd = this.dirFdOf(parent);
    return fd >= 0 ? fstatatC(fd, name) : lstatC(this.pathOf(parent) + "/" + name);
  }

  private pathOf(n: Inode): string {
    if (n.pathGen !== this.gen && n.parent) {
      n.path = this.pathOf(n.parent) + "/" + n.name;
      n.pathGen = this.gen;
    }
    return n.path;
  }

  /**
   * Finds or creates the inode of backing (dev, bino), seen as `parent/name`, and takes one kernel
   * reference. An empty `knownPath` means "parent's path + name", built only if this inode needs it.
   */
  private ref(dev: number, bino: number, parent: Inode, name: string, knownPath: string): Inode {
    const m = this.devMap(dev);
    let n = m.get(bino);
    if (n) {
      if (n.parent !== parent || n.name !== name) {
        n.parent = parent;
        n.name = name;
        n.path = knownPath || this.pathOf(parent) + "/" + name;
        n.pathGen = this.gen;
      }
      n.refs++;
      return n;
    }
    n = { ino: this.nextIno++, dev, bino, refs: 1, parent, name, path: knownPath || this.pathOf(parent) + "/" + name, pathGen: this.gen, dirFd: -1 };
    m.set(bino, n);
    this.byIno.set(n.ino, n);
    if (this.byIno.size > this.counts.maxInodes) this.counts.maxInodes = this.byIno.size;
    return n;
  }

  /**
   * An entry reply for the struct stat in STAT_BUF, handed to the binding as-is (replies to these
   * synchronous handlers are sent before the next stat call reuses the buffer).
   */
  private entry(parent: Inode, name: string, path: string): EntryReply {
    const n = this.ref(devC(), inoC(), parent, name, path);
    return { ino: n.ino, attr: STAT_BUF };
  }

  private entryAt(parent: Inode, name: string, path: string): EntryReply {
    mustLstat(path);
    return this.entry(parent, name, path);
  }

  // ---- LowLevelFs ------------------------------------------------------------------------------

  lookup(parentIno: number, name: string): EntryReply | NegativeEntryReply {
    this.counts.lookups++;
    const parent = this.node(parentIno);
    const e = this.statIn(parent, name);
    // A negative entry instead of a thrown ENOENT: same meaning (cached for `timeout`, i.e. not at 0), no exception cost.
    if (e === Errno.ENOENT) return this.negative;
    if (e) throw new FsError(e, name);
    return this.entry(parent, name, "");
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
      this.snapshots.delete(ino);
      if (n.dirFd >= 0) fs.closeSync(n.dirFd);
      n.dirFd = -1;
    }
  }

  getattr(ino: number, fh: number | undefined): AttrReply {
    // With an open handle, fstat: right even after the name was unlinked or renamed.
    // (The kernel passes a handle only for regular files, so `fh` is always one of our fds.)
    if (fh !== undefined) {
      if (libc.fstat(fh, STAT_PTR) !== 0) throw new FsError(lastErrno() || Errno.EIO);
    } else {
      const n = this.node(ino);
      const e = n.parent ? this.statIn(n.parent, n.name) : lstatC(n.path);
      if (e) throw new FsError(e, n.name);
    }
    return { attr: STAT_BUF };
  }

  setattr(ino: number, c: SetattrChanges, fh: number | undefined): AttrReply {
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
    return this.getattr(ino, useFd ? fh : undefined);
  }

  readlink(ino: number): Uint8Array {
    return fs.readlinkSync(this.pathOf(this.node(ino)), { encoding: "buffer" });
  }

  mkdir(parentIno: number, name: string, mode: number): EntryReply {
    const parent = this.node(parentIno);
    const path = this.pathOf(parent) + "/" + name;
    fs.mkdirSync(path, { mode });
    return this.entryAt(parent, name, path);
  }

  symlink(target: string, parentIno: number, name: string): EntryReply {
    const parent = this.node(parentIno);
    const path = this.pathOf(parent) + "/" + name;
    fs.symlinkSync(target, path);
    return this.entryAt(parent, name, path);
  }

  link(ino: number, newParentIno: number, newName: string): EntryReply {
    const parent = this.node(newParentIno);
    const path = this.pathOf(parent) + "/" + newName;
    fs.linkSync(this.pathOf(this.node(ino)), path);
    return this.entryAt(parent, newName, path);
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
    mustLstat(to);
    const n = this.byDev.get(devC())?.get(inoC());
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
    try {
      return { ...this.entryAt(parent, name, path), ...this.openReply(fd) };
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
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
    const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      const fh = this.nextDirFh++;
      this.dirs.set(fh, { path, fd, parent: n, listing: this.snapshot(n, fd, path) });
      return { fh, cacheReaddir: this.opts.cache === "always" };
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /**
   * The directory's entries. Parsing getdents in JS is the dearest part of a listing, so with
   * `reuseSnapshots` the last snapshot is reused while the directory's ctime is unchanged AND that
   * ctime is well before the snapshot was taken: any change after the snapshot then necessarily
   * moves ctime (timestamps are coarse-clock ticks of at most 10 ms), so a reused list is never stale.
   */
  private snapshot(n: Inode, fd: number, path: string): Listing {
    if (!this.opts.reuseSnapshots) {
      this.counts.snapshots++;
      return readDirents(fd, path);
    }
    PATH_BUF[0] = 0; // "" with AT_EMPTY_PATH: fstat of the directory fd itself
    if (libc.fstatat(fd, PATH_PTR, STAT_PTR, AT_EMPTY_PATH) !== 0) throw new FsError(lastErrno() || Errno.EIO, path);
    const cSec = i64(104), cNsec = i64(112);
    const prev = this.snapshots.get(n.ino);
    if (prev && prev.ctimeSec === cSec && prev.ctimeNsec === cNsec && prev.safe) {
      this.counts.snapshotReuses++;
      return prev.listing;
    }
    const takenMs = Date.now();
    const listing = readDirents(fd, path);
    this.counts.snapshots++;
    this.snapshots.set(n.ino, { ctimeSec: cSec, ctimeNsec: cNsec, safe: cSec * 1000 + cNsec / 1e6 < takenMs - SNAPSHOT_MARGIN_MS, listing });
    return listing;
  }

  readdir(_ino: number, fh: number, offset: number, max: number): DirEntry[] {
    const d = this.dirs.get(fh);
    if (!d) throw new FsError(Errno.EBADF);
    return d.listing.entries.slice(offset, offset + max);
  }

  readdirplus(_ino: number, fh: number, offset: number, max: number): DirEntryPlus[] {
    const d = this.dirs.get(fh);
    if (!d) throw new FsError(Errno.EBADF);
    const entries = d.listing.entries;
    // The binding sizes `max` as size/152 (fuse_direntplus without a name); stop when the real
    // record sizes fill that budget, so we do not stat entries the kernel's buffer cannot take.
    let budget = max * DIRENTPLUS_BASE;
    let end = offset;
    while (end < entries.length && (budget -= entries[end]!.plusSize) >= 0) end++;
    if (end === offset && end < entries.length) end++;
    // One block of struct stats for the whole batch: fstatat writes each entry's straight into its
    // slot and the binding copies it out as-is, with no per-entry object or conversion.
    const block = new Uint8Array(new ArrayBuffer((end - offset) * STAT_SIZE));
    const words = new Uint32Array(block.buffer);
    const base = ptr(block) as unknown as number;
    const out: DirEntryPlus[] = [];
    for (let i = offset; i < end; i++) {
      const e = entries[i]!;
      if (isDot(e.name)) { out.push(e); continue; }
      const at = (i - offset) * STAT_SIZE;
      if (libc.fstatat(d.fd, e.cname as unknown as Pointer, (base + at) as unknown as Pointer, AT_SYMLINK_NOFOLLOW) !== 0) continue; // removed since opendir
      const w = at >>> 2;
      const n = this.ref(words[w]! + words[w + 1]! * TWO32, words[w + 2]! + words[w + 3]! * TWO32, d.parent, e.name, "");
      out.push({ name: e.name, ino: e.ino, mode: e.mode, nextOffset: e.nextOffset, entry: { ino: n.ino, attr: block.subarray(at, at + STAT_SIZE) } });
    }
    return out;
  }

  releasedir(_ino: number, fh: number): void {
    const d = this.dirs.get(fh);
    this.dirs.delete(fh);
    if (d) fs.closeSync(d.fd);
  }

  statfs(): StatfsReply {
    const s = fs.statfsSync(this.source);
    return { bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, namemax: 255 };
  }
}
