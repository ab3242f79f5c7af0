/**
 * @module dicfuse/view — the lazily loaded, read-only view of the monorepo (or of one sub-path).
 *
 * Owns: when a directory listing is fetched or re-checked (TTL), applying it to the store, sizes,
 * file contents (fetched on first open, verified, cached), symlink targets, and telling listeners
 * what changed so they can drop kernel caches. Knows nothing of FUSE structs: it returns store rows
 * and throws FsError. Every network wait is bounded by the Mega client's deadlines; when the server
 * is unreachable, what is cached is still served.
 */
import { Errno, FsError, errnoOf } from "../util/errno.ts";
import { logger } from "../util/log.ts";
import { parseGitTree, Semaphore, type MegaClient, type TreeEntry } from "../remote/index.ts";
import { ROOT_INO, type BlobHandle, type DirEntryInput, type Ino, type LocalStore, type Oid, type ReplaceDirectoryResult } from "../store/index.ts";
import type { ChangeListener, DicfuseOptions, Node, ViewChange } from "./types.ts";
import { recordCacheLookup } from "../util/metrics.ts";

const log = logger("dicfuse");

const EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";
/** Directory read-ahead skips files known to be larger than this. */
const READAHEAD_MAX_FILE = 1024 * 1024;
/** Read-ahead downloads at once, so they never crowd out the downloads a reader is waiting for. */
const READAHEAD_CONCURRENCY = 4;

interface DirFreshness {
  loaded: boolean;
  syncedAt: number;
  dirOid: Oid | null;
}

export class DicfuseView {
  readonly store: LocalStore;
  readonly client: MegaClient;
  readonly opts: DicfuseOptions;
  private readonly fresh = new Map<number, DirFreshness>();
  private readonly loading = new Map<number, Promise<void>>();
  private readonly sizing = new Map<string, Promise<number>>();
  private readonly fetching = new Map<string, Promise<void>>();
  private readonly listeners = new Set<ChangeListener>();
  /** When each directory's listing last changed (ms): its mtime, so the kernel knows its cached copy is stale. */
  private readonly changedAt = new Map<number, number>();
  private readonly readaheadSlots = new Semaphore(READAHEAD_CONCURRENCY);

  constructor(store: LocalStore, client: MegaClient, opts: DicfuseOptions) {
    this.store = store;
    this.client = client;
    this.opts = { ...opts, basePath: normalizeBase(opts.basePath) };
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- paths -----------------------------------------------------------------------------------

  /** The monorepo path of an inode of this view. */
  remotePath(ino: number): string {
    const rel = this.store.inodes.pathOf(ino as Ino);
    if (rel === null) throw new FsError(Errno.ESTALE, `inode ${ino} is no longer in the tree`);
    const r = rel === "/" || rel === "" ? "" : rel.startsWith("/") ? rel : `/${rel}`;
    if (this.opts.basePath === "/") return r || "/";
    return this.opts.basePath + r;
  }

  // ---- nodes -----------------------------------------------------------------------------------

  node(ino: number): Node {
    const n = this.store.inodes.getInode(ino as Ino);
    if (!n) throw new FsError(Errno.ESTALE, `inode ${ino} is no longer in the tree`);
    return n;
  }

  /** The child `name` of directory `parent`, loading or refreshing the listing first when needed. */
  async lookup(parent: number, name: string): Promise<Node | null> {
    const dir = this.node(parent);
    if (dir.kind === "gitlink") return null;
    if (dir.kind !== "dir") throw new FsError(Errno.ENOTDIR);
    await this.ensureFresh(parent);
    return this.store.inodes.lookupChild(parent as Ino, name);
  }

  /** The children of a directory, in server order, after loading or refreshing it when needed. */
  async children(dirIno: number): Promise<Node[]> {
    const dir = this.node(dirIno);
    if (dir.kind === "gitlink") return [];
    if (dir.kind !== "dir") throw new FsError(Errno.ENOTDIR);
    await this.ensureFresh(dirIno);
    return this.store.inodes.listChildren(dirIno as Ino);
  }

  /** When the listing of `dirIno` last changed, in ms since the epoch (0 = not since start). */
  listingChangedAt(dirIno: number): number {
    return this.changedAt.get(dirIno) ?? 0;
  }

  /** Whether `dirIno` has a listing (possibly stale) to serve. */
  isLoaded(dirIno: number): boolean {
    return this.freshness(dirIno).loaded;
  }

  /** Number of sub-directories of a loaded directory (for nlink); 0 when not loaded. */
  subdirCount(dirIno: number): number {
    if (!this.fresh.get(dirIno)?.loaded) return 0;
    let n = 0;
    for (const c of this.store.inodes.listChildren(dirIno as Ino)) if (c.kind === "dir" || c.kind === "gitlink") n++;
    return n;
  }

  // ---- directory listings ----------------------------------------------------------------------

  private freshness(ino: number): DirFreshness {
    let f = this.fresh.get(ino);
    if (!f) {
      const s = this.store.inodes.getDirState(ino as Ino);
      f = { loaded: s?.loaded ?? false, syncedAt: s?.syncedAt ?? 0, dirOid: s?.dirOid ?? null };
      this.fresh.set(ino, f);
    }
    return f;
  }

  /**
   * Makes sure `dirIno` has a listing no older than the TTL. A stale but loaded directory whose
   * refresh fails (server down) keeps serving what it has; a never-loaded one fails with the error.
   */
  async ensureFresh(dirIno: number): Promise<void> {
    const f = this.freshness(dirIno);
    if (f.loaded && Date.now() - f.syncedAt < this.opts.dirSyncTtlMs) return;
    try {
      await this.loadDir(dirIno);
    } catch (err) {
      if (!f.loaded) throw err;
      log.warn("directory refresh failed; serving the cached listing", { path: this.safePath(dirIno), error: err as Error });
      // Do not retry on every request while the server is away: back off one TTL.
      f.syncedAt = Date.now();
    }
  }

  /** Fetches the listing of `dirIno` (single-flight per directory) and applies it. */
  loadDir(dirIno: number): Promise<void> {
    let p = this.loading.get(dirIno);
    if (!p) {
      p = this.fetchAndApply(dirIno).finally(() => this.loading.delete(dirIno));
      this.loading.set(dirIno, p);
    }
    return p;
  }

  private async fetchAndApply(dirIno: number): Promise<void> {
    const path = this.remotePath(dirIno);
    const f = this.freshness(dirIno);
    const { oid, body } = await this.client.rawTree(path);
    const now = Date.now();
    if (f.loaded && f.dirOid === oid) {
      this.store.inodes.markSynced(dirIno as Ino, { dirOid: oid, syncedAt: now, loaded: true });
      f.syncedAt = now;
      return;
    }
    const entries = parseGitTree(body).map(toEntryInput);
    const result = this.store.inodes.replaceDirectory(dirIno as Ino, entries, { dirOid: oid, syncedAt: now });
    f.loaded = true;
    f.syncedAt = now;
    f.dirOid = oid;
    this.afterReplace(dirIno, result);
  }

  private afterReplace(dirIno: number, r: ReplaceDirectoryResult): void {
    const changes: ViewChange[] = [];
    for (const a of r.added) changes.push({ kind: "entry", parent: dirIno, name: a.name });
    for (const c of r.changed) {
      changes.push({ kind: "inode", ino: c.ino });
      changes.push({ kind: "entry", parent: dirIno, name: c.name });
      if (c.kind === "dir") {
        // Its listing is out of date: re-check on next use even within the TTL.
        const cf = this.fresh.get(c.ino);
        if (cf) cf.syncedAt = 0;
      }
    }
    for (const rm of r.removed) {
      this.fresh.delete(rm.ino);
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
   * Re-checks every loaded directory whose tree changed on the server, top-down, using the tree ids in
   * each parent's listing so unchanged subtrees cost nothing. Returns how many directories changed.
   */
  async refreshChanged(): Promise<number> {
    let changed = 0;
    const walk = async (dirIno: number): Promise<void> => {
      const f = this.freshness(dirIno);
      if (!f.loaded) return;
      const before = f.dirOid;
      await this.loadDir(dirIno);
      if (this.freshness(dirIno).dirOid !== before) changed++;
      for (const child of this.store.inodes.listChildren(dirIno as Ino)) {
        if (child.kind !== "dir") continue;
        const cf = this.freshness(child.ino);
        if (cf.loaded && cf.dirOid !== child.oid) await walk(child.ino);
      }
    };
    await walk(ROOT_INO);
    return changed;
  }

  /** Loads directory listings breadth-first down to `depth` levels (directories only, no contents). */
  async preloadDirs(depth: number): Promise<number> {
    let level = [ROOT_INO as number];
    let loaded = 0;
    for (let d = 0; d < depth && level.length > 0; d++) {
      const next: number[] = [];
      await Promise.all(
        level.map(async (ino) => {
          try {
            for (const c of await this.children(ino)) if (c.kind === "dir") next.push(c.ino);
            loaded++;
          } catch (err) {
            log.debug("preload skipped a directory", { path: this.safePath(ino), error: err as Error });
          }
        }),
      );
      level = next;
    }
    return loaded;
  }

  // ---- sizes and contents ----------------------------------------------------------------------

  /** The byte size of a file or symlink, asking the server (HEAD) when it is not known yet. */
  async sizeOf(node: Node): Promise<number> {
    if (node.kind === "dir" || node.kind === "gitlink") return 0;
    if (node.size !== null) return node.size;
    if (!node.oid || node.oid === EMPTY_BLOB) return this.recordSize(node, 0);
    const cached = this.store.blobs.blobSize(node.oid);
    if (cached !== null) return this.recordSize(node, cached);
    let p = this.sizing.get(node.oid);
    if (!p) {
      const oid = node.oid;
      p = this.client.blobSize(oid).then((s) => {
        this.store.blobs.recordSize(oid, s);
        return s;
      }).finally(() => this.sizing.delete(oid));
      this.sizing.set(oid, p);
    }
    return this.recordSize(node, await p);
  }

  private recordSize(node: Node, size: number): number {
    if (node.size !== size) this.store.inodes.setSize(node.ino, size);
    return size;
  }

  /** The node with its size resolved (accurate attributes). */
  async withSize(node: Node): Promise<Node> {
    if (node.size !== null || node.kind === "dir" || node.kind === "gitlink") return node;
    const size = await this.sizeOf(node);
    return { ...node, size };
  }

  /** Makes sure the blob of `oid` is in the local cache: downloaded once, verified, stored. */
  ensureBlob(oid: Oid): Promise<void> {
    if (this.store.blobs.hasBlob(oid)) {
      recordCacheLookup("disk");
      return Promise.resolve();
    }
    recordCacheLookup("remote");
    let p = this.fetching.get(oid);
    if (!p) {
      p = (async () => {
        try {
          const bytes = await this.client.fetchBlobVerified(oid);
          await this.store.blobs.putBlob(oid, bytes);
        } catch (err) {
          // Readers only see EIO; the daemon log says why (corrupt data, server down, timeout).
          log.warn("cannot fetch file content", { oid, error: err as Error });
          throw err;
        }
      })().finally(() => this.fetching.delete(oid));
      this.fetching.set(oid, p);
    }
    return p;
  }

  /** Opens the content of a file for reading: a pinned local blob file. */
  async openContent(node: Node): Promise<BlobHandle | null> {
    if (node.kind !== "file" && node.kind !== "symlink") throw new FsError(node.kind === "dir" ? Errno.EISDIR : Errno.EINVAL);
    if (!node.oid) throw new FsError(Errno.ENOENT, `no content for ${node.name}`);
    if (node.oid === EMPTY_BLOB) return null;
    for (let attempt = 0; attempt < 2; attempt++) {
      await this.ensureBlob(node.oid);
      const h = this.store.blobs.openBlob(node.oid);
      if (h) {
        if (node.size !== h.size) this.recordSize(node, h.size);
        return h;
      }
      // Evicted or found damaged between store and open: fetch again once.
    }
    throw new FsError(Errno.EIO, `blob ${node.oid} could not be cached`);
  }

  /**
   * Directory read-ahead, after a cold read of `node`: fetches the next `dirReadahead` files of its
   * directory (in listing order) in the background. Failures are ignored; a reader will retry.
   */
  readaheadAfter(node: Node): void {
    const n = this.opts.dirReadahead ?? 0;
    if (n <= 0 || node.parent === 0) return;
    for (const s of this.store.inodes.listChildren(node.parent, { offset: node.position + 1, limit: n })) {
      if (s.kind !== "file" || !s.oid || s.oid === EMPTY_BLOB || (s.size !== null && s.size > READAHEAD_MAX_FILE)) continue;
      if (this.store.blobs.hasBlob(s.oid) || this.fetching.has(s.oid)) continue;
      const oid = s.oid;
      void (async () => {
        const release = await this.readaheadSlots.acquire();
        try {
          if (!this.store.blobs.hasBlob(oid)) await this.ensureBlob(oid);
        } catch {
          // Only a guess at what will be read; the real read reports its own error.
        } finally {
          release();
        }
      })();
    }
  }

  /** A symlink's target, fetched once and kept in the inode table. */
  async readlink(node: Node): Promise<string> {
    if (node.kind !== "symlink") throw new FsError(Errno.EINVAL);
    if (node.target !== null) return node.target;
    if (!node.oid) throw new FsError(Errno.EIO, "symlink without a blob");
    await this.ensureBlob(node.oid);
    const bytes = await this.store.blobs.readBlob(node.oid);
    if (!bytes) throw new FsError(Errno.EIO, `symlink blob ${node.oid} vanished from the cache`);
    return new TextDecoder().decode(bytes);
  }

  // ---- prefetch --------------------------------------------------------------------------------

  /**
   * Downloads the contents of every file matching one of `patterns` (globs relative to the view's
   * root, e.g. `src/**\/*.ts`). Walks only directories that can contain matches.
   */
  async prefetch(patterns: readonly string[], onProgress?: (p: { matched: number; fetched: number; bytes: number; failed: number }) => void, concurrency = 8): Promise<{ matched: number; fetched: number; bytes: number; failed: number }> {
    const globs = patterns.map((p) => new Bun.Glob(p.replace(/^\/+/, "")));
    const prefixes = patterns.map((p) => staticPrefix(p.replace(/^\/+/, "")));
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
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const f = files[next++]!;
        try {
          if (f.oid && f.oid !== EMPTY_BLOB) await this.ensureBlob(f.oid);
          progress.fetched++;
          progress.bytes += f.size ?? (f.oid ? this.store.blobs.blobSize(f.oid) : null) ?? 0;
        } catch (err) {
          progress.failed++;
          log.warn("prefetch failed", { name: f.name, error: err as Error });
        }
        onProgress?.(progress);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    return progress;
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
      return { name: e.name, kind: "file", oid: e.oid, mode: e.mode === 0o100755 ? 0o100755 : 0o100644, ...(e.oid === EMPTY_BLOB ? { size: 0 } : {}) };
  }
}

function normalizeBase(p: string): string {
  const parts = p.split("/").filter((s) => s && s !== ".");
  if (parts.includes("..")) throw new FsError(Errno.EINVAL, `base path must not contain '..': ${p}`);
  return "/" + parts.join("/");
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
