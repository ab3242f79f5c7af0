/**
 * @module dicfuse/fuse-adapter — the view as a read-only FUSE filesystem: shapes view results into
 * replies, keeps the kernel's lookup counts, serves reads from blob files (read straight from the fd)
 * and answers every write with EROFS. Warm requests (loaded directory, known size) are answered
 * synchronously: nothing on the request path waits for the server to confirm data the view has.
 *
 * Files use the kernel's no-open mode: `open` answers ENOSYS once, after which the kernel sends no
 * open/release for files at all and keeps their page cache, so a warm read costs no round trip. Reads
 * then arrive by inode and use the object store's shared, unpinned fds. On kernels without no-open
 * support, each open pins its blob until the matching release.
 */
import { Errno, FsError } from "../util/errno.ts";
import { CAP, checkAccess, O, type StoreFile, type ConnectionInfo, type FileInfo, type RequestContext, type AttrReply, type DirEntryPlus, type EntryReply, type LowLevelFs, type NegativeEntryReply, type OpenReply, type ReadReply, type StatfsReply } from "../fuse/index.ts";
import type { BlobHandle, Ino, Opened } from "../store/index.ts";
import { attrOf, modeOf, type Owner } from "./attrs.ts";
import type { Node } from "./types.ts";
import type { DicfuseView } from "./view.ts";
import { logger } from "../util/log.ts";
import { setBounded } from "../util/bounded-map.ts";

const log = logger("dicfuse");

const WRITE_FLAGS = O.WRONLY | O.RDWR | O.APPEND | O.CREAT | O.TRUNC;
const erofs = () => new FsError(Errno.EROFS, "the monorepo view is read-only");

type Maybe<T> = T | Promise<T>;
/** One listing entry: the dirent, and the tree node behind it (null for "." and ".."). */
interface Listed {
  readonly e: DirEntryPlus;
  readonly node: Node | null;
}

const then = <T, U>(v: Maybe<T>, f: (t: T) => Maybe<U>): Maybe<U> => (v instanceof Promise ? v.then(f) : f(v));

/** Push-ahead (see `pushAhead`): at most this many files past the one being read, */
const PUSH_AHEAD_FILES = 32;
/** each at most this big (larger files are read in big requests anyway), */
const PUSH_MAX_FILE = 128 * 1024;
/** and this many bytes per push. */
const PUSH_AHEAD_BYTES = 1024 * 1024;
/** Pushed inodes remembered (so each is pushed once); the oldest are forgotten first. */
const MAX_PUSHED = 100_000;
/** Directories whose reading order is followed (for push-ahead); the least recently read are dropped. */
const MAX_READ_DIRS = 1_000;

/** The kernel side a filesystem can push content to (the FUSE session). */
export interface KernelCache {
  storeContents(files: ReadonlyArray<StoreFile>): Promise<void>;
}

export class DicfuseFs implements LowLevelFs {
  private readonly owner: Owner;
  private readonly lookups = new Map<number, number>();
  /** Files whose content went into the kernel's page cache, by inode, with the blob pushed. */
  private readonly pushed = new Map<number, string>();
  /** Per directory: the listing position a reader going through it in order would READ next. */
  private readonly nextRead = new Map<number, number>();
  private kernel: KernelCache | null = null;
  /** Blobs pinned by kernel opens (only without no-open support), by file handle. */
  private readonly pinned = new Map<number, BlobHandle | null>();
  private nextFh = 1;
  /** What the kernel offered at INIT: whether ENOSYS on open/opendir switches it to no-open modes. */
  private noOpen = false;
  private noOpendir = false;

  init(conn: ConnectionInfo): void {
    this.noOpen = (conn.capable & CAP.NO_OPEN_SUPPORT) !== 0;
    this.noOpendir = (conn.capable & CAP.NO_OPENDIR_SUPPORT) !== 0;
    log.info("kernel caching modes", { noOpen: this.noOpen, noOpendir: this.noOpendir });
  }

  constructor(private readonly view: DicfuseView) {
    this.owner = { uid: view.opts.uid ?? process.getuid?.() ?? 0, gid: view.opts.gid ?? process.getgid?.() ?? 0, fallbackMtime: Math.floor(Date.now() / 1000) };
  }

  onRequest(): void {
    this.view.noteActivity();
  }

  /** Lets reads push the next files of a directory into the kernel's page cache (see `pushAhead`). */
  attachKernel(kernel: KernelCache): void {
    this.kernel = kernel;
  }

  /** Inodes the kernel currently holds references to (for status and leak checks). */
  get referencedInodes(): number {
    return this.lookups.size;
  }

  /** Files the kernel holds open (each pins its blob); 0 in no-open mode. */
  get openFiles(): number {
    return this.pinned.size;
  }

  private ttl(node: Node): number {
    // An unknown size must not be cached: the next stat or open will learn it.
    return node.size === null && (node.kind === "file" || node.kind === "symlink") ? 0 : this.view.opts.replyTtlSecs;
  }

  private entryOf(node: Node): EntryReply {
    this.lookups.set(node.ino, (this.lookups.get(node.ino) ?? 0) + 1);
    const ttl = this.ttl(node);
    return { ino: node.ino, attr: attrOf(node, this.owner), attrTimeout: ttl, entryTimeout: this.view.opts.replyTtlSecs };
  }

  lookup(parent: number, name: string): Maybe<EntryReply | NegativeEntryReply> {
    return then(this.view.lookup(parent, name), (found) => {
      if (!found) return { ino: 0, entryTimeout: this.view.opts.negativeTtlSecs };
      if (found.kind === "symlink" && found.target === null) return this.symlinkEntry(found);
      if (this.view.opts.statMode !== "accurate") return this.entryOf(found);
      return then(this.view.withSize(found), (n) => this.entryOf(n));
    });
  }

  private async symlinkEntry(found: Node): Promise<EntryReply> {
    const node = await this.view.withSize(found);
    try {
      return this.entryOf({ ...node, target: await this.view.readlink(node) });
    } catch {
      // Fall through with the blob size; readlink will report the error.
      return this.entryOf(node);
    }
  }

  forget(ino: number, nlookup: number): void {
    const n = (this.lookups.get(ino) ?? 0) - nlookup;
    if (n < 0) throw new Error(`INTERNAL ERROR: lookup count of inode ${ino} would go negative`);
    if (n === 0) {
      this.lookups.delete(ino);
      this.pushed.delete(ino); // the kernel dropped the inode, and its pages with it
    } else this.lookups.set(ino, n);
  }

  getattr(ino: number): Maybe<AttrReply> {
    return then(this.view.withSize(this.view.node(ino)), (node) => {
      const childDirs = node.kind === "dir" ? this.view.subdirCount(ino) : 0;
      const attr = attrOf(node, this.owner, childDirs);
      // A changed listing moves the directory's mtime, so a kernel's cached readdir is dropped.
      const changedMs = node.kind === "dir" ? this.view.listingChangedAt(ino) : 0;
      if (changedMs > attr.mtimeSec * 1000) {
        attr.mtimeSec = attr.ctimeSec = Math.floor(changedMs / 1000);
        attr.mtimeNsec = attr.ctimeNsec = (changedMs % 1000) * 1e6;
      }
      return { attr, attrTimeout: this.ttl(node) };
    });
  }

  async readlink(ino: number): Promise<string> {
    return this.view.readlink(this.view.node(ino));
  }

  async open(ino: number, flags: number): Promise<OpenReply> {
    if (flags & WRITE_FLAGS) throw erofs();
    const node = this.view.node(ino);
    if (this.noOpen) {
      // Fetch now so that open (not a later read) reports a missing or corrupt blob, then let the
      // kernel switch to no-open mode for every later open.
      await this.view.readContent(node);
      throw new FsError(Errno.ENOSYS, "no open needed: reads are served by inode");
    }
    // A real open: pin the blob until release. Content never changes under an inode without an
    // invalidation, so the page cache may stay.
    const handle = await this.view.openContent(node);
    const fh = this.nextFh++;
    this.pinned.set(fh, handle);
    return { fh, keepCache: true };
  }

  release(_ino: number, fi: FileInfo): void {
    const h = this.pinned.get(fi.fh);
    if (h === undefined) return;
    this.pinned.delete(fi.fh);
    // The last read's reply may still be on its way from this fd: close in the next macrotask.
    setImmediate(() => h?.close());
  }

  read(ino: number, size: number, offset: number, fh: number): Promise<ReadReply> | ReadReply {
    const own = this.pinned.get(fh);
    if (own !== undefined) return sliceOf(own, size, offset);
    const node = this.view.node(ino);
    const reply = (o: Opened) => {
      if (offset === 0) this.pushAhead(node);
      return sliceOf(o.handle, size, offset);
    };
    // Cached content replies within the request; only a fetch makes the read wait.
    const local = this.view.readContentNow(node);
    return local ? reply(local) : this.view.readContent(node).then(reply);
  }

  /**
   * A file is being read from its start. When it is the file a reader going through the directory in
   * listing order would read next (a build, `cat *`, `grep -r`), the files after it are likely next
   * too: those already cached, small, plain and known to the kernel are pushed into the kernel's page
   * cache, so reading them costs no READ round trip each. The next READ of such a reader is for the
   * first file not pushed, which pushes the next window. A lone read pushes nothing. Content is by blob
   * id, so a push is exact; a file changed later is invalidated after it (one ordered notification
   * queue) and pushed again anew.
   */
  private pushAhead(node: Node): void {
    const kernel = this.kernel;
    if (!kernel || node.parent === 0) return;
    const sequential = this.nextRead.get(node.parent) === node.position;
    let next = node.position + 1;
    if (sequential) {
      let budget = PUSH_AHEAD_BYTES;
      const files: StoreFile[] = [];
      for (const c of this.view.tree.inodes.listChildren(node.parent as Ino, { offset: next, limit: PUSH_AHEAD_FILES })) {
        next = c.position + 1;
        if (c.kind !== "file") continue; // a reader of files steps over directories and links
        const push = this.pushable(c, budget);
        if (push === null) {
          next = c.position; // this one comes as a READ: the window goes on from there
          break;
        }
        if (push === "none") continue; // in the kernel's page cache already, or empty (no READ comes)
        budget -= push.size;
        setBounded(this.pushed, c.ino, c.oid!, MAX_PUSHED);
        files.push({ ino: c.ino, path: push.path, size: push.size });
      }
      if (files.length > 0) kernel.storeContents(files).catch((err: unknown) => log.debug("page cache push failed", { error: err as Error }));
    }
    setBounded(this.nextRead, node.parent, next, MAX_READ_DIRS);
  }

  /**
   * What to push for file `c`: its blob file and size; "none" when nothing is needed (pushed already,
   * or empty: the kernel reads no page of an empty file); null when it cannot be pushed (a READ comes).
   */
  private pushable(c: Node, budget: number): { path: string; size: number } | "none" | null {
    if (!c.oid || !this.lookups.has(c.ino)) return null;
    if (this.pushed.get(c.ino) === c.oid) return "none";
    if (this.view.lfs && this.view.lfs.decided(c)?.kind !== "plain") return null; // an LFS file shows another content
    const size = this.view.knownSize(c);
    if (size === 0) return "none";
    if (size === null || size > PUSH_MAX_FILE || size > budget) return null;
    const path = this.view.objects.cachedPath(c.oid);
    return path === null ? null : { path, size };
  }

  fsync(): void {}

  /**
   * Directories use the kernel's no-opendir mode: the first opendir loads the listing and answers
   * ENOSYS, after which the kernel opens directories itself and keeps their listings cached
   * (cache_readdir). When the watcher changes a listing, the directory's inode is invalidated and its
   * mtime moves, so the kernel drops its cached listing (auto_inval_data) at the next readdir.
   */
  async opendir(ino: number): Promise<OpenReply> {
    const node = this.view.node(ino);
    if (node.kind !== "dir" && node.kind !== "gitlink") throw new FsError(Errno.ENOTDIR);
    if (node.kind === "dir") await this.view.ensureLoaded(ino);
    // Kernels without no-opendir support would fail the open on ENOSYS: answer it there instead.
    if (!this.noOpendir) return { fh: 0, cacheReaddir: true };
    throw new FsError(Errno.ENOSYS, "no opendir needed: listings are served by inode");
  }

  /**
   * Children of `ino` from `offset` on, with "." and ".." first. Synchronous once the directory is
   * loaded: a reply within the request lets the session catch the walker's next READDIRPLUS by spinning.
   */
  private listing(ino: number, offset: number, max: number): Maybe<Listed[]> {
    const dir = this.view.node(ino);
    if (dir.kind === "dir" && !this.view.isLoaded(ino)) return this.view.ensureLoaded(ino).then(() => this.listing(ino, offset, max));
    // A listing read from its start: someone walks into this directory.
    if (offset === 0 && dir.kind === "dir") this.view.walkedInto(ino);
    const out: Listed[] = [];
    // Offsets: 1 = after ".", 2 = after "..", 3 + i = after child i. Resume strictly after `offset`.
    if (offset < 1) out.push({ e: { name: ".", ino, mode: modeOf(dir), nextOffset: 1 }, node: null });
    if (offset < 2) out.push({ e: { name: "..", ino: dir.parent === 0 ? dir.ino : dir.parent, mode: 0o040000, nextOffset: 2 }, node: null });
    if (dir.kind !== "dir") return out;
    const start = Math.max(0, offset - 2);
    for (const c of this.view.tree.inodes.listChildren(ino as Ino, { offset: start, limit: Math.max(0, max - out.length) })) {
      out.push({ e: { name: c.name, ino: c.ino, mode: modeOf(c), nextOffset: c.position + 3 }, node: c });
    }
    return out;
  }

  readdir(ino: number, _fh: number, offset: number, max: number): Maybe<DirEntryPlus[]> {
    return then(this.listing(ino, offset, max), (items) => items.map((x) => x.e));
  }

  /**
   * Entries with their attributes when those are local. In accurate mode an entry whose size is not
   * known yet goes without (the kernel then LOOKUPs it if asked for its attributes): a listing never
   * waits on the network beyond its own load, and `ls` of a cold directory fetches no sizes.
   */
  readdirplus(ino: number, _fh: number, offset: number, max: number): Maybe<DirEntryPlus[]> {
    return then(this.listing(ino, offset, max), (items) => {
      if (this.view.opts.statMode !== "accurate") return items.map((x) => (x.node ? { ...x.e, entry: this.entryOf(x.node) } : x.e));
      const ready = this.view.prepareSizes(ino, items);
      return ready ? ready.then(() => this.withAttrs(items)) : this.withAttrs(items);
    });
  }

  private withAttrs(items: readonly Listed[]): DirEntryPlus[] {
    return items.map((x) => {
      if (!x.node) return x.e;
      let node = x.node;
      if (node.kind !== "dir" && node.kind !== "gitlink") {
        // Unknown covers an LFS file not yet told apart from a plain one; a symlink's size is its target's.
        const known = this.view.knownSize(node);
        if (known === null || (node.kind === "symlink" && node.target === null)) return x.e;
        if (known !== node.size) node = { ...node, size: known };
      }
      return { ...x.e, entry: this.entryOf(node) };
    });
  }

  fsyncdir(): void {}

  statfs(): StatfsReply {
    // Every `find` asks (fts checks the file system type), so nothing here may scan a table.
    const usage = this.view.objects.capacity();
    const free = Math.max(0, Math.floor((usage.maxBytes - usage.bytes) / 4096));
    return { bsize: 4096, blocks: Math.ceil(Math.max(usage.maxBytes, usage.bytes) / 4096), bfree: free, bavail: free, files: this.view.tree.inodes.count() + 1_000_000, ffree: 1_000_000, namemax: 255 };
  }

  async access(ino: number, mask: number, ctx: RequestContext): Promise<void> {
    const node = this.view.node(ino);
    checkAccess(attrOf(node, this.owner), mask, ctx);
  }

  getxattr(): never {
    throw new FsError(Errno.ENODATA);
  }

  listxattr(): string[] {
    return [];
  }

  setattr(): never { throw erofs(); }
  mknod(): never { throw erofs(); }
  mkdir(): never { throw erofs(); }
  unlink(): never { throw erofs(); }
  rmdir(): never { throw erofs(); }
  symlink(): never { throw erofs(); }
  rename(): never { throw erofs(); }
  link(): never { throw erofs(); }
  write(): never { throw erofs(); }
  create(): never { throw erofs(); }
  setxattr(): never { throw erofs(); }
  removexattr(): never { throw erofs(); }
  fallocate(): never { throw erofs(); }

  /** Lets go of the blobs pinned by kernel opens (at unmount). */
  destroy(): void {
    for (const h of this.pinned.values()) h?.close();
    this.pinned.clear();
  }
}

function sliceOf(h: BlobHandle | null, size: number, offset: number): ReadReply {
  if (!h || offset >= h.size) return new Uint8Array(0);
  return { fd: h.fd, offset, length: Math.min(size, h.size - offset) };
}
