/**
 * @module dicfuse/view — the lazily loaded, read-only view of the monorepo (or of one sub-path): a
 * (path, commit) pair. It holds its tree store (names, inode numbers, which directories are loaded) and
 * its policy; all content, sizes and listings come from the process's one `ObjectStore`.
 *
 * Freshness is by invalidation, not by TTL: a loaded directory is served from the tree store without
 * asking the server again — its listing is content-addressed (tree id), so it cannot change while the
 * view's commit does not. A *following* view (the workspace) moves to new commits when its watcher
 * sees one (`refreshChanged`), and tells listeners exactly what changed so they can invalidate the
 * kernel's caches. A *pinned* view (`pinnedCommit`) never moves. No request waits on a revalidation
 * of data the view already has; an uncached request waits at most one deadline of its own.
 */
import { Errno, FsError, errnoOf } from "../util/errno.ts";
import { logger } from "../util/log.ts";
import { EMPTY_BLOB_OID, raceSignal, Semaphore, type TreeEntry } from "../remote/index.ts";
import { ROOT_INO, type BlobHandle, type DirEntryInput, type Ino, type ObjectStore, type Oid, type Opened, type ReplaceDirectoryResult, type ViewTreeStore } from "../store/index.ts";
import { deadlineError } from "../store/object-store.ts";
import type { LfsPointer } from "../lfs/pointer.ts";
import { LfsView } from "./lfs-view.ts";
import type { ChangeListener, DicfuseOptions, Node, ViewChange } from "./types.ts";
import { setBounded } from "../util/bounded-map.ts";

const log = logger("dicfuse");

/** Directory read-ahead skips files known to be larger than this. */
const READAHEAD_MAX_FILE = 1024 * 1024;
/** The tree store's meta key for the commit a following view's listings were last brought up to. */
const COMMIT_KEY = "view_commit";
/** Listings fetched ahead of a walker at once: a minority of the client's request slots (10 by default), so a user's own requests never queue behind them. */
const LISTING_AHEAD_CONCURRENCY = 4;
/** Directory listings fetched ahead of a walker: this many sub-directories, and as many next siblings. */
const LISTING_AHEAD_WINDOW = 16;
/** Directories whose walk order is followed, at most (the least recently entered are dropped). */
const MAX_WALKED_DIRS = 1_000;
/** Listings waiting to be fetched ahead, at most (the oldest are dropped: the walker has moved on). */
const LISTING_AHEAD_QUEUE = 256;
/** Sub-directories read per query while looking for those not loaded yet, among at most LISTING_SCAN_MAX entries. */
const LISTING_SCAN = 256;
const LISTING_SCAN_MAX = 4096;
/** Background directory pre-loads in flight at once: a minority of the client's request slots. */
const PRELOAD_CONCURRENCY = 2;
/** Background work waits until the mount (its requests and the fetches they wait for) has been quiet this long. */
const IDLE_MS = 100;
/** A directory with at least this many files not cached is fetched as one pack when one of them is needed. */
const PACK_MIN_FILES = 4;
/** A directory pack larger than this is abandoned for per-file requests (history and big files make packs big). */
const PACK_MAX_BYTES = 8 * 1024 * 1024;
/** Directory read-ahead fetches LFS objects up to this size (one batch call for the group). */
const LFS_READAHEAD_MAX_OBJECT = 16 * 1024 * 1024;
/** An LFS download's deadline grows with the object: at least this rate (as the LFS client's transfers). */
const LFS_MIN_BYTES_PER_SEC = 1024 * 1024;

export class DicfuseView {
  readonly tree: ViewTreeStore;
  readonly objects: ObjectStore;
  readonly opts: DicfuseOptions;
  /** Loaded directories (listing applied) and the tree id each was taken at. */
  private readonly loaded = new Map<number, Oid | null>();
  private readonly loading = new Map<number, Promise<void>>();
  private readonly listeners = new Set<ChangeListener>();
  /** When each directory's listing last changed (ms): its mtime, so the kernel knows its cached copy is stale. */
  private readonly changedAt = new Map<number, number>();
  /** Directory packs fetched or tried, by directory and tree id: each is asked for once. */
  private readonly packs = new Map<string, Promise<boolean>>();
  /** Directories whose pack brought content (a second one under the same parent widens to the parent). */
  private readonly packedDirs = new Set<number>();
  /** Directories whose listings are fetched ahead of a walker (`walkedInto`), newest last; and how many load now. */
  private readonly aheadStack: number[] = [];
  private aheadRunning = 0;
  /** Per directory: the listing position of the sub-directory a walker entered last (for the sibling window). */
  private readonly enteredAt = new Map<number, number>();
  /** Fetches a user waits for, in flight, and when the last one ended: background work yields to them. */
  private foreground = 0;
  private lastForeground = 0;
  /** Git LFS files (when the object store has an LFS client): pointer size on stat, the object on read. */
  readonly lfs: LfsView | null;

  constructor(tree: ViewTreeStore, objects: ObjectStore, opts: DicfuseOptions) {
    this.tree = tree;
    this.objects = objects;
    this.opts = { ...opts, basePath: normalizeBase(opts.basePath) };
    const view = this;
    this.lfs = objects.lfs
      ? new LfsView({
          tree,
          objects,
          basePath: this.opts.basePath,
          get commit() {
            return view.commit;
          },
          remotePath: (ino) => this.remotePath(ino),
          ensureLoaded: (ino) => this.ensureLoaded(ino),
        })
      : null;
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True when the view never moves from the commit it was opened at. */
  get pinned(): boolean {
    return !!this.opts.pinnedCommit;
  }

  /** The commit the view shows: its pin, or the last one a following view's watcher applied (null = not yet known). */
  get commit(): Oid | null {
    return this.opts.pinnedCommit ?? (this.tree.inodes.getMeta(COMMIT_KEY) as Oid | null);
  }

  /** Records the commit a following view was brought up to (persisted: a restart starts from it). */
  setCommit(oid: Oid): void {
    this.tree.inodes.setMeta(COMMIT_KEY, oid);
  }

  // ---- paths -----------------------------------------------------------------------------------

  /** The monorepo path of an inode of this view. */
  remotePath(ino: number): string {
    const rel = this.tree.inodes.pathOf(ino as Ino);
    if (rel === null) throw new FsError(Errno.ESTALE, `inode ${ino} is no longer in the tree`);
    const r = rel === "/" || rel === "" ? "" : rel.startsWith("/") ? rel : `/${rel}`;
    if (this.opts.basePath === "/") return r || "/";
    return this.opts.basePath + r;
  }

  // ---- nodes -----------------------------------------------------------------------------------

  node(ino: number): Node {
    const n = this.tree.inodes.getInode(ino as Ino);
    if (!n) throw new FsError(Errno.ESTALE, `inode ${ino} is no longer in the tree`);
    return n;
  }

  /** The child `name` of directory `parent`; null (ENOENT) when the listing does not have it. */
  lookup(parent: number, name: string): Node | null | Promise<Node | null> {
    const dir = this.node(parent);
    if (dir.kind === "gitlink") return null;
    if (dir.kind !== "dir") throw new FsError(Errno.ENOTDIR);
    if (this.isLoaded(parent)) return this.tree.inodes.lookupChild(parent as Ino, name);
    return this.asForeground(this.loadDir(parent)).then(() => this.tree.inodes.lookupChild(parent as Ino, name));
  }

  /** The children of a directory, in server order, loading the listing on first use. */
  children(dirIno: number): Node[] | Promise<Node[]> {
    const dir = this.node(dirIno);
    if (dir.kind === "gitlink") return [];
    if (dir.kind !== "dir") throw new FsError(Errno.ENOTDIR);
    if (this.isLoaded(dirIno)) return this.tree.inodes.listChildren(dirIno as Ino);
    return this.asForeground(this.loadDir(dirIno)).then(() => this.tree.inodes.listChildren(dirIno as Ino));
  }

  /** When the listing of `dirIno` last changed, in ms since the epoch (0 = not since start). */
  listingChangedAt(dirIno: number): number {
    return this.changedAt.get(dirIno) ?? 0;
  }

  /** Whether `dirIno` has a listing to serve (in this run or persisted by an earlier one). */
  isLoaded(dirIno: number): boolean {
    if (this.loaded.has(dirIno)) return true;
    const s = this.tree.inodes.getDirState(dirIno as Ino);
    if (!s?.loaded) return false;
    this.loaded.set(dirIno, s.dirOid);
    return true;
  }

  /** Number of sub-directories of a loaded directory (for nlink); 0 when not loaded. */
  subdirCount(dirIno: number): number {
    if (!this.isLoaded(dirIno)) return 0;
    let n = 0;
    for (const c of this.tree.inodes.listChildren(dirIno as Ino)) if (c.kind === "dir" || c.kind === "gitlink") n++;
    return n;
  }

  // ---- directory listings ----------------------------------------------------------------------

  /** Makes sure `dirIno` has a listing. A loaded directory costs nothing: freshness comes from the watcher. */
  async ensureLoaded(dirIno: number): Promise<void> {
    if (!this.isLoaded(dirIno)) await this.asForeground(this.loadDir(dirIno));
  }

  /**
   * The kernel reads directory `dirIno`'s listing from its start (someone walks into it): the listings
   * a walker wants next are fetched in the background, LISTING_AHEAD_CONCURRENCY at a time, newest
   * first —
   *   - all its sub-directories not loaded yet, when it has at most LISTING_AHEAD_WINDOW of them (a
   *     wide directory is mostly listed, not walked: `ls` of a monorepo root must not fetch 100 more);
   *   - when the walker is going through the parent in order (it entered an earlier sibling before this
   *     one), the next LISTING_AHEAD_WINDOW sibling directories, so the window moves with it.
   * A walker (`find`, an IDE, a build) then finds them loaded instead of waiting one round trip per
   * directory in turn. Listings by tree id cost nothing when seen before; lookups, pre-loads and
   * refreshes do not call this, and the loads it starts trigger nothing more.
   */
  walkedInto(dirIno: number): void {
    const node = this.tree.inodes.getInode(dirIno as Ino);
    if (!node || node.kind !== "dir") return;
    const own = this.unloadedDirs(dirIno, 0, LISTING_AHEAD_WINDOW + 1);
    const ahead = own.length <= LISTING_AHEAD_WINDOW ? own : [];
    if (node.parent !== 0) {
      const before = this.enteredAt.get(node.parent);
      if (before !== undefined && before < node.position && this.isLoaded(node.parent)) ahead.push(...this.unloadedDirs(node.parent, node.position + 1, LISTING_AHEAD_WINDOW));
      setBounded(this.enteredAt, node.parent, node.position, MAX_WALKED_DIRS);
    }
    // Newest first: where the walker is now matters more than where it was (the stack's top is its end).
    for (let i = ahead.length - 1; i >= 0; i--) this.aheadStack.push(ahead[i]!.ino);
    if (this.aheadStack.length > LISTING_AHEAD_QUEUE) this.aheadStack.splice(0, this.aheadStack.length - LISTING_AHEAD_QUEUE);
    while (this.aheadRunning < LISTING_AHEAD_CONCURRENCY && this.aheadStack.length > 0) this.nextListingAhead();
  }

  private nextListingAhead(): void {
    const ino = this.aheadStack.pop();
    if (ino === undefined) return;
    this.aheadRunning++;
    const load = this.isLoaded(ino) || this.loading.has(ino) ? Promise.resolve() : this.loadDir(ino);
    load
      .catch((err: unknown) => log.debug("listing read-ahead skipped a directory", { path: this.safePath(ino), error: err as Error }))
      .finally(() => {
        this.aheadRunning--;
        this.nextListingAhead();
      });
  }

  /**
   * Up to `max` sub-directories of `dirIno` from listing position `from` on that are not loaded (or
   * loading), among the next LISTING_SCAN_MAX entries (a huge directory of files is not scanned).
   */
  private unloadedDirs(dirIno: number, from: number, max: number): Node[] {
    const out: Node[] = [];
    for (let at = from; out.length < max; ) {
      const page = this.tree.inodes.listChildDirs(dirIno as Ino, at, from + LISTING_SCAN_MAX, LISTING_SCAN);
      for (const c of page) if (out.length < max && !this.loading.has(c.ino) && !this.isLoaded(c.ino)) out.push(c);
      if (page.length < LISTING_SCAN) break;
      at = page[page.length - 1]!.position + 1;
    }
    return out;
  }

  /** Counts `p` as work a user waits for while it runs. */
  private async asForeground<T>(p: Promise<T>): Promise<T> {
    this.foreground++;
    try {
      return await p;
    } finally {
      this.foreground--;
      this.lastForeground = Date.now();
    }
  }

  /** The mount is in use (any FUSE request): background pre-loads hold off for IDLE_MS. */
  noteActivity(): void {
    this.lastForeground = Date.now();
  }

  /** Resolves once no user-facing fetch has been in flight for IDLE_MS (background work goes then). */
  private async whenIdle(): Promise<void> {
    while (this.foreground > 0 || Date.now() - this.lastForeground < IDLE_MS) await Bun.sleep(IDLE_MS / 2);
  }

  /**
   * Fetches the listing of `dirIno` (single-flight per directory, bounded by one request deadline) and
   * applies it. The tree id expected from the parent's listing lets the object store answer from trees
   * seen before.
   */
  loadDir(dirIno: number, o: { byPath?: boolean } = {}): Promise<void> {
    let p = this.loading.get(dirIno);
    if (!p) {
      p = this.fetchAndApply(dirIno, o.byPath ?? false).finally(() => this.loading.delete(dirIno));
      this.loading.set(dirIno, p);
    }
    return p;
  }

  private async fetchAndApply(dirIno: number, byPath: boolean): Promise<void> {
    const path = this.remotePath(dirIno);
    const node = this.node(dirIno);
    const expected = byPath || dirIno === ROOT_INO ? null : node.oid;
    const { oid, entries } = await this.objects.listing(path, { expected, commit: this.opts.pinnedCommit ?? null, signal: this.deadline() });
    const wasLoaded = this.isLoaded(dirIno);
    if (wasLoaded && this.loaded.get(dirIno) === oid) return;
    const result = this.tree.inodes.replaceDirectory(dirIno as Ino, entries.map(toEntryInput), { dirOid: oid, syncedAt: Date.now() });
    this.loaded.set(dirIno, oid);
    this.afterReplace(dirIno, result, wasLoaded);
  }

  /**
   * Tells listeners (the kernel) what a new listing changed. A first load changes nothing the kernel
   * holds: every lookup and readdir under a directory loads it first, so no entry below it can be
   * cached yet. Invalidating there would only drop the entries a READDIRPLUS is handing the kernel
   * at that moment (the notifications travel separately), and every file would be looked up again.
   */
  private afterReplace(dirIno: number, r: ReplaceDirectoryResult, wasLoaded: boolean): void {
    this.lfs?.listingChanged([...r.added, ...r.changed, ...r.removed].map((e) => e.name));
    if (!wasLoaded) return;
    const changes: ViewChange[] = [];
    for (const a of r.added) changes.push({ kind: "entry", parent: dirIno, name: a.name });
    for (const c of r.changed) {
      changes.push({ kind: "inode", ino: c.ino });
      changes.push({ kind: "entry", parent: dirIno, name: c.name });
    }
    for (const rm of r.removed) {
      this.loaded.delete(rm.ino);
      changes.push({ kind: "entry", parent: rm.parent, name: rm.name });
    }
    if (changes.length > 0) {
      // Strictly increasing, so two changes within one clock tick still move the directory's mtime.
      this.changedAt.set(dirIno, Math.max(Date.now(), (this.changedAt.get(dirIno) ?? 0) + 1));
      changes.push({ kind: "inode", ino: dirIno });
      for (const l of this.listeners) {
        try {
          l(changes);
        } catch (err) {
          log.error("change listener failed", { error: err as Error });
        }
      }
    }
  }

  /**
   * Brings a following view to the server's current commit: re-lists the root by path, then walks down
   * only into loaded directories whose tree id changed (unchanged subtrees cost nothing), applying each
   * diff and telling listeners exactly what changed. Returns how many directories changed.
   */
  async refreshChanged(): Promise<number> {
    if (this.pinned) return 0;
    let changed = 0;
    const walk = async (dirIno: number, byPath: boolean): Promise<void> => {
      if (!this.isLoaded(dirIno)) return;
      const before = this.loaded.get(dirIno);
      await this.loadDir(dirIno, { byPath });
      if (this.loaded.get(dirIno) !== before) changed++;
      const stale = this.tree.inodes.listChildren(dirIno as Ino).filter((c) => c.kind === "dir" && this.isLoaded(c.ino) && this.loaded.get(c.ino) !== c.oid);
      await Promise.all(stale.map((c) => walk(c.ino, false)));
    };
    await walk(ROOT_INO, true);
    return changed;
  }

  /**
   * Loads directory listings breadth-first down to `depth` levels (directories only, no contents), a
   * few at a time (PRELOAD_CONCURRENCY) and only while no user-facing fetch is in flight, so what a
   * user waits for never queues behind it (on the client or on the server).
   */
  async preloadDirs(depth: number): Promise<number> {
    let level = [ROOT_INO as number];
    let loaded = 0;
    const slots = new Semaphore(PRELOAD_CONCURRENCY);
    for (let d = 0; d < depth && level.length > 0; d++) {
      const next: number[] = [];
      await Promise.all(
        level.map((ino) =>
          slots.run(async () => {
            try {
              if (!this.isLoaded(ino)) {
                await this.whenIdle();
                await this.loadDir(ino);
              }
              for (const c of await this.children(ino)) if (c.kind === "dir") next.push(c.ino);
              loaded++;
            } catch (err) {
              log.debug("preload skipped a directory", { path: this.safePath(ino), error: err as Error });
            }
          }),
        ),
      );
      level = next;
    }
    return loaded;
  }

  // ---- sizes and contents ----------------------------------------------------------------------

  /**
   * Lets `knownSize` answer for as many listed files of directory `dirIno` as can be told without a
   * download (LFS decisions by size and attribute rules). Undefined when that is done already; else a
   * promise (the directory's attribute rules are still being read) that never fails and ends within
   * the view's deadline.
   */
  prepareSizes(dirIno: number, listed: ReadonlyArray<{ readonly node: Node | null }>): Promise<void> | undefined {
    if (!this.lfs) return undefined;
    const files: Node[] = [];
    for (const x of listed) if (x.node) files.push(x.node);
    const pending = this.lfs.decideListing(dirIno, files);
    if (!pending) return undefined;
    return raceSignal(pending, this.deadline()).catch((err: unknown) =>
      log.debug("listing attributes left to lookups", { dir: dirIno, error: err as Error }),
    );
  }

  /** A size known without a request (recorded in the tree or in the object store), else null. */
  knownSize(node: Node): number | null {
    if (node.kind === "dir" || node.kind === "gitlink") return 0;
    if (this.lfs && node.kind === "file") {
      // Undecided: the size may be a pointer's or an object's; `sizeOf` decides first.
      const d = this.lfs.decided(node);
      if (d === undefined) return null;
      if (d.kind === "lfs") return d.pointer.size;
    }
    if (node.size !== null) return node.size;
    if (!node.oid || node.oid === EMPTY_BLOB_OID) return 0;
    return this.objects.knownSize(node.oid);
  }

  /**
   * The byte size of a file or symlink, asking the server (HEAD) when it is not known yet. A miss also
   * asks for every other unknown size of the same directory at once (bounded concurrency): a `stat` of
   * one file is usually followed by the others.
   */
  async sizeOf(node: Node): Promise<number> {
    if (this.lfs && node.kind === "file" && node.oid && this.lfs.decided(node) === undefined) {
      const res = await this.asForeground(this.lfs.resolve(node, this.deadline()));
      if (res.kind === "lfs") return this.recordSize(node, res.pointer.size);
    }
    const known = this.knownSize(node);
    if (known !== null) return this.recordSize(node, known);
    return this.asForeground(this.fetchSize(node));
  }

  private async fetchSize(node: Node): Promise<number> {
    const signal = this.deadline();
    if (node.parent !== 0) {
      const siblings: Oid[] = [];
      for (const s of this.tree.inodes.listChildren(node.parent)) {
        if ((s.kind === "file" || s.kind === "symlink") && s.size === null && s.oid && s.oid !== node.oid && this.objects.knownSize(s.oid) === null) siblings.push(s.oid);
      }
      // Many unknown sizes: the directory's pack answers them all (with the contents) in one exchange.
      if (siblings.length + 1 >= PACK_MIN_FILES && (await this.packFor(node.parent, signal))) {
        const now = this.knownSize(node);
        if (now !== null) return this.recordSize(node, now);
      }
      if (siblings.length > 0) void this.objects.sizes(siblings);
    }
    return this.recordSize(node, await this.objects.size(node.oid!, { signal }));
  }

  /**
   * Fetches directory `dirIno` (and what is under it) as one pack when at least PACK_MIN_FILES of its
   * files are not cached: one request instead of one per file, as a build reading a directory usually
   * reads all of it. Tried once per (directory, tree id); false when not worth it or not possible
   * (no pack support, pack over PACK_MAX_BYTES, server error), and the caller falls back to per-file
   * requests within the same deadline.
   */
  private packDirectory(dirIno: number, signal: AbortSignal | undefined, o: { subtree?: boolean } = {}): Promise<boolean> {
    const dir = this.tree.inodes.getInode(dirIno as Ino);
    if (!dir || dir.kind !== "dir" || !this.isLoaded(dirIno)) return Promise.resolve(false);
    const key = `${dirIno}:${this.loaded.get(dirIno) ?? ""}`;
    let p = this.packs.get(key);
    if (!p) {
      if (!o.subtree) {
        let missing = 0;
        for (const c of this.tree.inodes.listChildren(dirIno as Ino)) {
          if ((c.kind === "file" || c.kind === "symlink") && c.oid && !this.objects.has(c.oid) && !this.objects.isFetching(c.oid)) missing++;
        }
        if (missing < PACK_MIN_FILES) return Promise.resolve(false);
      }
      const path = this.remotePath(dirIno);
      // A directory worth its own pack: its siblings are likely next (see packParentAhead).
      if (!o.subtree) this.packParentAhead(dirIno);
      // Readable is enough: sizes are known then, and a read waits for its own blob's store only.
      p = this.objects.prefetchPack(path, { maxBytes: PACK_MAX_BYTES, until: "readable" }).then(
        (r) => {
          if (r.blobs > 0) this.packedDirs.add(dirIno);
          return r.blobs > 0;
        },
        (err: unknown) => {
          log.debug("directory pack not used; fetching files one by one", { path, error: err as Error });
          return false;
        },
      );
      this.packs.set(key, p);
    }
    return raceSignal(p, signal).catch(() => false);
  }

  /**
   * Keeps a size on the inode only when the blob id does not tell it already (an LFS file shows its
   * object's size, not its pointer's): the object store keeps sizes by blob id, and one SQLite write
   * per file read or looked up cost more than the whole rest of a cold read.
   */
  private recordSize(node: Node, size: number): number {
    if (node.size === size) return size;
    if (node.size === null && node.oid && this.objects.knownSize(node.oid) === size) return size;
    this.tree.inodes.setSize(node.ino, size);
    return size;
  }

  /** The node with its size resolved (accurate attributes). */
  withSize(node: Node): Node | Promise<Node> {
    if (node.kind === "dir" || node.kind === "gitlink") return node;
    const known = this.knownSize(node);
    if (known !== null) return known === node.size ? node : { ...node, size: this.recordSize(node, known) };
    return this.sizeOf(node).then((size) => ({ ...node, size }));
  }

  /** Makes sure a file's content is in the cache. */
  async ensureBlob(oid: Oid): Promise<void> {
    await this.objects.ensure(oid, { signal: this.deadline(3) });
  }

  /**
   * `readContent` without a promise turn when the content is already local (a plain file whose blob
   * is cached or open); null when it has to be fetched or the file may be an LFS file.
   */
  readContentNow(node: Node): Opened | null {
    if (this.mayBeLfs(node)) return null;
    const opened = this.objects.openNow(this.contentOid(node));
    if (opened) this.sizeSeen(node, opened.handle);
    return opened;
  }

  /** The shared, unpinned fd of a file's content, for reads by inode (the store owns it). */
  async readContent(node: Node): Promise<Opened> {
    const lfsOid = this.mayBeLfs(node) ? await this.lfsContent(node) : null;
    if (lfsOid !== null) return this.objects.open(lfsOid, { signal: this.deadline(3) });
    const oid = this.contentOid(node);
    const signal = this.deadline(3);
    if (!this.objects.has(oid)) return this.asForeground(this.coldReadContent(node, oid, signal));
    const opened = await this.objects.open(oid, { signal });
    this.sizeSeen(node, opened.handle);
    return opened;
  }

  private async coldReadContent(node: Node, oid: Oid, signal: AbortSignal | undefined): Promise<Opened> {
    await this.beforeColdRead(node, oid, signal);
    const opened = await this.objects.open(oid, { signal });
    this.sizeSeen(node, opened.handle);
    return opened;
  }

  /** Records the size an opened content shows, when the tree had another (or none). */
  private sizeSeen(node: Node, handle: BlobHandle | null): void {
    if (handle && node.size !== handle.size) this.recordSize(node, handle.size);
  }

  /** Opens a file's content like an open file: pinned until the caller closes the handle (overlay opens, copy-ups). */
  async openContent(node: Node): Promise<BlobHandle | null> {
    const lfsOid = this.mayBeLfs(node) ? await this.lfsContent(node) : null;
    if (lfsOid !== null) return this.objects.openPinned(lfsOid, { signal: this.deadline(3) });
    const oid = this.contentOid(node);
    const signal = this.deadline(3);
    if (!this.objects.has(oid)) await this.asForeground(this.beforeColdRead(node, oid, signal));
    const h = await this.objects.openPinned(oid, { signal });
    this.sizeSeen(node, h);
    return h;
  }

  /** A cold read: the directory comes as one pack when that pays; otherwise read-ahead of its next files. */
  private async beforeColdRead(node: Node, oid: Oid, signal: AbortSignal | undefined): Promise<void> {
    if (this.objects.has(oid) || this.objects.isFetching(oid)) return;
    if (node.parent !== 0 && (await this.packFor(node.parent, signal)) && (this.objects.has(oid) || this.objects.isFetching(oid))) return;
    this.readaheadAfter(node);
  }

  /**
   * The pack that brings directory `dirIno`'s files: its parent's subtree when widening applies, an
   * ancestor's pack already on its way (parallel readers in sibling directories: the first one's read
   * started it), else its own.
   */
  private async packFor(dirIno: number, signal: AbortSignal | undefined): Promise<boolean> {
    const wider = this.packTarget(dirIno);
    if (wider !== dirIno && (await this.packDirectory(wider, signal, { subtree: true }))) return true;
    const ancestors = this.ancestorPacks(dirIno);
    for (const p of ancestors) if (await raceSignal(p, signal).catch(() => false)) return true;
    return this.packDirectory(dirIno, signal);
  }

  /** Every sub-directory of `dirIno` (the file rows of a big directory are not read). */
  private childDirs(dirIno: number): Node[] {
    return this.tree.inodes.listChildDirs(dirIno as Ino, 0, Number.MAX_SAFE_INTEGER, -1);
  }

  /** Packs started (or done) for the ancestors of `dirIno` at their current tree ids, nearest first. */
  private ancestorPacks(dirIno: number): Promise<boolean>[] {
    const out: Promise<boolean>[] = [];
    for (let d = this.tree.inodes.getInode(dirIno as Ino)?.parent ?? 0; d !== 0 && d !== ROOT_INO; d = this.tree.inodes.getInode(d as Ino)?.parent ?? 0) {
      const p = this.packs.get(`${d}:${this.loaded.get(d) ?? ""}`);
      if (p) out.push(p);
    }
    return out;
  }

  /**
   * A directory fetched as its own pack under a parent that has other sub-directories: a build reading
   * one usually reads its siblings next, so the parent's whole subtree is fetched as one pack in the
   * background, next to the directory's own (which is all the reader waits for). Tried once per parent tree id,
   * bounded by PACK_MAX_BYTES like any pack; never the view's root. Without it the widening below
   * happens only at the second sibling, after a round of listings and a second pack.
   */
  private packParentAhead(dirIno: number): void {
    const parent = this.tree.inodes.getInode(dirIno as Ino)?.parent ?? 0;
    if (parent === 0 || parent === ROOT_INO) return;
    if (!this.childDirs(parent).some((c) => c.ino !== dirIno)) return;
    void this.packDirectory(parent, undefined, { subtree: true });
  }

  /**
   * Where a cold read in `dirIno` should fetch from: the directory itself, or — when a sibling
   * directory was already fetched as a pack (a build is walking the parent) — the parent's whole
   * subtree in one pack, climbing while that holds. Never the view's root (a whole repository does not
   * fit a pack); a parent too big for PACK_MAX_BYTES is tried once and the directory's own pack used.
   */
  private packTarget(dirIno: number): number {
    let d = dirIno;
    for (;;) {
      const node = this.tree.inodes.getInode(d as Ino);
      const parent = node?.parent ?? 0;
      if (parent === 0 || parent === ROOT_INO) return d;
      const siblingPacked = this.childDirs(parent).some((c) => c.ino !== d && this.packedDirs.has(c.ino));
      if (!siblingPacked) return d;
      d = parent;
    }
  }

  /** False when the file is known to be plain (the common case: no await on the read path). */
  private mayBeLfs(node: Node): boolean {
    return this.lfs !== null && node.kind === "file" && this.lfs.decided(node)?.kind !== "plain";
  }

  /**
   * For an LFS file: the blob id its object is cached under, downloading it first (verified, through
   * the LFS batch API). Null for any other file. A failure is logged with the path and the object and
   * surfaces as its errno (ENOENT: the server has no such object; EIO: corrupt data, server or network
   * error; ETIMEDOUT: deadline); the pointer text is never shown instead.
   */
  private async lfsContent(node: Node): Promise<Oid | null> {
    if (!this.lfs || node.kind !== "file") return null;
    this.contentOid(node);
    const res = this.lfs.decided(node) ?? (await this.asForeground(this.lfs.resolve(node, this.deadline())));
    if (res.kind === "plain") return null;
    const path = this.safePath(node.ino);
    if (res.kind === "unsupported") {
      log.warn("cannot show LFS file", { path, lfs_oid: res.pointer.oid, reason: res.reason });
      throw new FsError(Errno.EIO, `${path}: ${res.reason}`);
    }
    const cached = this.objects.lfs!.cachedOid(res.pointer);
    if (cached) return cached;
    const signal = this.lfsDeadline(res.pointer);
    try {
      const oid = await this.asForeground(this.objects.lfs!.ensure(res.pointer, signal));
      this.lfsReadaheadAfter(node);
      return oid;
    } catch (err) {
      const e = deadlineError(err, signal, `LFS object ${res.pointer.oid}`);
      log.warn("cannot read LFS file", { path, lfs_oid: res.pointer.oid, size: res.pointer.size, error: e as Error });
      throw e;
    }
  }

  /** A content download's deadline, grown by the object's size at LFS_MIN_BYTES_PER_SEC. */
  private lfsDeadline(p: LfsPointer): AbortSignal | undefined {
    const ms = this.opts.requestDeadlineMs;
    return ms && ms > 0 ? AbortSignal.timeout(ms * 3 + Math.ceil((p.size / LFS_MIN_BYTES_PER_SEC) * 1000)) : undefined;
  }

  /**
   * LFS read-ahead, after a cold LFS read: the LFS objects among the next `dirReadahead` files of the
   * directory (≤ LFS_READAHEAD_MAX_OBJECT each) in one batch call, in the background.
   */
  private lfsReadaheadAfter(node: Node): void {
    const n = this.opts.dirReadahead ?? 0;
    const lfs = this.lfs;
    const store = this.objects.lfs;
    if (n <= 0 || node.parent === 0 || !lfs || !store) return;
    const next = this.tree.inodes.listChildren(node.parent, { offset: node.position + 1, limit: n }).filter((s) => s.kind === "file" && s.oid);
    void (async () => {
      const wanted: LfsPointer[] = [];
      for (const s of next) {
        const r = await lfs.resolve(s).catch(() => null);
        if (r?.kind === "lfs" && r.pointer.size <= LFS_READAHEAD_MAX_OBJECT && !store.cachedOid(r.pointer)) wanted.push(r.pointer);
      }
      if (wanted.length > 0) await store.ensureMany(wanted);
    })().catch(() => {});
  }

  private contentOid(node: Node): Oid {
    if (node.kind !== "file" && node.kind !== "symlink") throw new FsError(node.kind === "dir" ? Errno.EISDIR : Errno.EINVAL);
    if (!node.oid) throw new FsError(Errno.ENOENT, `no content for ${node.name}`);
    return node.oid;
  }

  /**
   * Directory read-ahead, after a cold read of `node`: the next `dirReadahead` files of its directory
   * (in listing order, ≤ 1 MiB each) are fetched in the background through the object store.
   */
  readaheadAfter(node: Node): void {
    const n = this.opts.dirReadahead ?? 0;
    if (n <= 0 || node.parent === 0) return;
    const oids: Oid[] = [];
    for (const s of this.tree.inodes.listChildren(node.parent, { offset: node.position + 1, limit: n })) {
      if (s.kind !== "file" || !s.oid || s.oid === EMPTY_BLOB_OID || (s.size !== null && s.size > READAHEAD_MAX_FILE)) continue;
      oids.push(s.oid);
    }
    this.objects.readahead(oids);
  }

  /** A symlink's target. */
  async readlink(node: Node): Promise<string> {
    if (node.kind !== "symlink") throw new FsError(Errno.EINVAL);
    if (node.target !== null) return node.target;
    if (!node.oid) throw new FsError(Errno.EIO, "symlink without a blob");
    const { bytes } = await this.objects.read(node.oid, { signal: this.deadline() });
    return new TextDecoder().decode(bytes);
  }

  // ---- prefetch --------------------------------------------------------------------------------

  /**
   * Downloads the contents of every file matching one of `patterns` (globs relative to the view's root,
   * e.g. `src/**\/*.ts`; a plain directory means everything under it). Directories named by a pattern's
   * literal prefix are fetched first as one pack each (`{path}.git/git-upload-pack`); what a pack did
   * not bring (or every file, when the server sends no packs) is fetched per blob.
   */
  async prefetch(patterns: readonly string[], onProgress?: (p: { matched: number; fetched: number; bytes: number; failed: number }) => void, concurrency = 8): Promise<{ matched: number; fetched: number; bytes: number; failed: number }> {
    const expanded = await Promise.all(patterns.map((p) => this.expandDirPattern(p.replace(/^\/+/, "").replace(/\/+$/, ""))));
    const globs = expanded.map((p) => new Bun.Glob(p));
    const prefixes = expanded.map(staticPrefix);
    // A whole directory (`dir/**`) comes as one pack before the walk: the pack brings its trees too,
    // so the walk below takes its listings from them instead of one request per directory.
    const wholeDirs = outermost(expanded.filter((p) => p.endsWith("/**") && !/[*?[\]{}]/.test(p.slice(0, -3))).map((p) => p.slice(0, -3)));
    await Promise.all(
      wholeDirs.map((dir) =>
        this.objects.prefetchPack(this.monorepoPath(dir)).catch((err: unknown) => {
          log.info("pack prefetch unavailable; fetching files one by one", { path: this.monorepoPath(dir), error: err as Error });
        }),
      ),
    );
    const files: Node[] = [];
    const walk = async (ino: number, rel: string): Promise<void> => {
      for (const c of await this.children(ino)) {
        const path = rel ? `${rel}/${c.name}` : c.name;
        if (c.kind === "dir") {
          if (prefixes.some((pre) => pre.startsWith(path + "/") || pre === path || path.startsWith(pre) || pre === "")) await walk(c.ino, path);
        } else if (c.kind === "file" && globs.some((g) => g.match(path))) files.push(c);
      }
    };
    await walk(ROOT_INO, "");
    const progress = { matched: files.length, fetched: 0, bytes: 0, failed: 0 };
    onProgress?.(progress);
    const done = new Set<number>();
    const account = (f: Node) => {
      done.add(f.ino);
      progress.fetched++;
      progress.bytes += f.size ?? (f.oid ? this.objects.knownSize(f.oid) : null) ?? 0;
    };
    for (const f of files) if (!f.oid || this.objects.has(f.oid)) account(f);
    onProgress?.(progress);
    // One pack per directory prefix that still has files to fetch (outermost prefixes only).
    for (const dir of outermost(prefixes)) {
      const under = files.filter((f) => !done.has(f.ino) && f.oid && (dir === "" || this.relPath(f.ino).startsWith(dir + "/")));
      if (under.length < 2) continue;
      const path = this.monorepoPath(dir);
      try {
        await this.objects.prefetchPack(path, { wanted: new Set(under.map((f) => f.oid!)) });
        for (const f of under) if (this.objects.has(f.oid!)) account(f);
        onProgress?.(progress);
      } catch (err) {
        log.info("pack prefetch unavailable; fetching files one by one", { path, error: err as Error });
      }
    }
    const rest = files.filter((f) => !done.has(f.ino));
    let next = 0;
    const worker = async () => {
      while (next < rest.length) {
        const f = rest[next++]!;
        try {
          await this.objects.ensure(f.oid!);
          account(f);
        } catch (err) {
          progress.failed++;
          log.warn("prefetch failed", { name: f.name, error: err as Error });
        }
        onProgress?.(progress);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    await this.prefetchLfs(files, progress);
    onProgress?.(progress);
    return progress;
  }

  /**
   * The LFS objects of the prefetched files (their pointer blobs are cached by now), in one batch call
   * per 100 objects. A file whose object cannot be fetched counts as failed (its pointer was fetched).
   */
  private async prefetchLfs(files: readonly Node[], progress: { fetched: number; bytes: number; failed: number }): Promise<void> {
    const lfs = this.lfs;
    const store = this.objects.lfs;
    if (!lfs || !store) return;
    const pointers = new Map<string, { pointer: LfsPointer; names: string[] }>();
    for (const f of files) {
      const r = await lfs.resolve(f).catch(() => null);
      if (r?.kind !== "lfs") continue;
      const e = pointers.get(r.pointer.oid) ?? { pointer: r.pointer, names: [] };
      e.names.push(this.safePath(f.ino));
      pointers.set(r.pointer.oid, e);
    }
    if (pointers.size === 0) return;
    for (const r of await store.ensureMany([...pointers.values()].map((e) => e.pointer))) {
      const e = pointers.get(r.oid)!;
      if (r.ok) {
        progress.bytes += e.pointer.size;
        continue;
      }
      progress.failed += e.names.length;
      progress.fetched -= e.names.length;
      log.warn("prefetch of an LFS object failed", { paths: e.names.join(", "), lfs_oid: r.oid, error: r.error as Error });
    }
  }

  /** A pattern without glob characters that names a directory means everything under it. */
  private async expandDirPattern(p: string): Promise<string> {
    if (/[*?[\]{}]/.test(p)) return p;
    if (p === "") return "**";
    let ino: number = ROOT_INO;
    for (const part of p.split("/")) {
      const next = await Promise.resolve().then(() => this.lookup(ino, part)).catch(() => null);
      if (!next) return p;
      ino = next.ino;
    }
    return this.node(ino).kind === "dir" ? `${p}/**` : p;
  }

  /** The monorepo path of `rel`, a path relative to the view's base ("" = the base). */
  private monorepoPath(rel: string): string {
    if (this.opts.basePath === "/") return "/" + rel;
    return rel ? `${this.opts.basePath}/${rel}` : this.opts.basePath;
  }

  private relPath(ino: number): string {
    return (this.tree.inodes.pathOf(ino as Ino) ?? "").replace(/^\/+/, "");
  }

  /** One request's deadline (`factor` × the configured request deadline for content downloads). */
  private deadline(factor = 1): AbortSignal | undefined {
    const ms = this.opts.requestDeadlineMs;
    return ms && ms > 0 ? AbortSignal.timeout(ms * factor) : undefined;
  }

  private safePath(ino: number): string {
    try {
      return this.remotePath(ino);
    } catch {
      return `#${ino}`;
    }
  }

  /** True when `err` means "the server is unreachable" rather than "no such thing". */
  static isOffline(err: unknown): boolean {
    const e = errnoOf(err);
    return e === Errno.EIO || e === Errno.ETIMEDOUT || e === Errno.ECONNREFUSED;
  }
}

function toEntryInput(e: TreeEntry): DirEntryInput {
  switch (e.kind) {
    case "tree":
      return { name: e.name, kind: "dir", oid: e.oid };
    case "commit":
      return { name: e.name, kind: "gitlink", oid: e.oid };
    default:
      if (e.mode === 0o120000) return { name: e.name, kind: "symlink", oid: e.oid };
      return { name: e.name, kind: "file", oid: e.oid, mode: e.mode === 0o100755 ? 0o100755 : 0o100644, ...(e.oid === EMPTY_BLOB_OID ? { size: 0 } : {}) };
  }
}

function normalizeBase(p: string): string {
  const parts = p.split("/").filter((s) => s && s !== ".");
  if (parts.includes("..")) throw new FsError(Errno.EINVAL, `base path must not contain '..': ${p}`);
  return "/" + parts.join("/");
}

/** The distinct paths of `dirs` not below another one of them ("" is above everything). */
function outermost(dirs: readonly string[]): string[] {
  return [...new Set(dirs)].filter((p, _, all) => !all.some((q) => q !== p && (q === "" || p.startsWith(q + "/"))));
}

/** The literal leading directories of a glob ("src/app/**" → "src/app"). */
function staticPrefix(glob: string): string {
  const parts = glob.split("/");
  const out: string[] = [];
  for (const part of parts) {
    if (/[*?[\]{}]/.test(part)) break;
    out.push(part);
  }
  if (out.length === parts.length) out.pop(); // the last literal part is a file name
  return out.join("/");
}
