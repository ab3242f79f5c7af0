/**
 * @module dicfuse/fuse-adapter — the view as a read-only FUSE filesystem: shapes view results into
 * replies, keeps the kernel's lookup counts, serves reads from pinned blob files (read by libfuse
 * straight from the fd) and answers every write with EROFS.
 *
 * Files use the kernel's no-open mode: `open` answers ENOSYS once, after which the kernel sends no
 * open/release for files at all and keeps their page cache, so a warm read costs no round trip.
 * Reads then arrive by inode and find their blob through `ContentHandles`.
 */
import { Errno, FsError } from "../util/errno.ts";
import { CAP, checkAccess, O, type ConnectionInfo, type RequestContext, type AttrReply, type DirEntryPlus, type EntryReply, type LowLevelFs, type NegativeEntryReply, type OpenReply, type ReadReply, type StatfsReply } from "../fuse/index.ts";
import type { BlobHandle, Ino } from "../store/index.ts";
import { attrOf, modeOf, type Owner } from "./attrs.ts";
import type { Node } from "./types.ts";
import type { DicfuseView } from "./view.ts";
import { ContentHandles } from "./content-handles.ts";
import { logger } from "../util/log.ts";

const log = logger("dicfuse");

/** Blob files kept open for reads without an open (each pins its blob in the cache). */
const MAX_OPEN_BLOBS = 256;

const WRITE_FLAGS = O.WRONLY | O.RDWR | O.APPEND | O.CREAT | O.TRUNC;
const erofs = () => new FsError(Errno.EROFS, "the monorepo view is read-only");

export class DicfuseFs implements LowLevelFs {
  private readonly owner: Owner;
  private readonly lookups = new Map<number, number>();
  private readonly byIno = new ContentHandles(MAX_OPEN_BLOBS);
  private readonly unsubscribe: () => void;
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
    this.unsubscribe = view.onChange((changes) => {
      for (const c of changes) if (c.kind === "inode") this.byIno.drop(c.ino);
    });
  }

  /** Inodes the kernel currently holds references to (for status and leak checks). */
  get referencedInodes(): number {
    return this.lookups.size;
  }

  get openFiles(): number {
    return this.byIno.size;
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

  async lookup(parent: number, name: string): Promise<EntryReply | NegativeEntryReply> {
    const found = await this.view.lookup(parent, name);
    if (!found) return { ino: 0, entryTimeout: this.view.opts.negativeTtlSecs };
    const node = this.view.opts.statMode === "accurate" || found.kind === "symlink" ? await this.view.withSize(found) : found;
    if (node.kind === "symlink" && node.target === null) {
      try {
        const target = await this.view.readlink(node);
        return this.entryOf({ ...node, target });
      } catch {
        // Fall through with the blob size; readlink will report the error.
      }
    }
    return this.entryOf(node);
  }

  forget(ino: number, nlookup: number): void {
    const n = (this.lookups.get(ino) ?? 0) - nlookup;
    if (n < 0) throw new Error(`INTERNAL ERROR: lookup count of inode ${ino} would go negative`);
    if (n === 0) this.lookups.delete(ino);
    else this.lookups.set(ino, n);
  }

  async getattr(ino: number): Promise<AttrReply> {
    let node = this.view.node(ino);
    if (node.kind === "dir") {
      // The kernel asks for a directory's attributes before reusing its cached listing: re-check the
      // listing first (when older than the dir TTL), so a changed directory shows a new mtime.
      await this.view.ensureFresh(ino).catch(() => {});
      node = this.view.node(ino);
    }
    node = await this.view.withSize(node);
    const childDirs = node.kind === "dir" ? this.view.subdirCount(ino) : 0;
    const attr = attrOf(node, this.owner, childDirs);
    const changedMs = node.kind === "dir" ? this.view.listingChangedAt(ino) : 0;
    if (changedMs > attr.mtimeSec * 1000) {
      attr.mtimeSec = attr.ctimeSec = Math.floor(changedMs / 1000);
      attr.mtimeNsec = attr.ctimeNsec = (changedMs % 1000) * 1e6;
    }
    return { attr, attrTimeout: this.ttl(node) };
  }

  async readlink(ino: number): Promise<string> {
    return this.view.readlink(this.view.node(ino));
  }

  async open(ino: number, flags: number): Promise<OpenReply> {
    if (flags & WRITE_FLAGS) throw erofs();
    // Fetch now so that open (not a later read) reports a missing or corrupt blob, then let the
    // kernel switch to no-open mode for every later open.
    await this.contentOf(this.view.node(ino));
    // Without no-open support: blob content never changes under an inode without an invalidation,
    // so the page cache may stay; reads find the blob by inode either way.
    if (!this.noOpen) return { fh: 0, keepCache: true };
    throw new FsError(Errno.ENOSYS, "no open needed: reads are served by inode");
  }

  read(ino: number, size: number, offset: number): Promise<ReadReply> {
    return this.contentOf(this.view.node(ino)).then((h) => sliceOf(h, size, offset));
  }

  /** The open blob of a file; a cold one also starts read-ahead of the directory's next files. */
  private contentOf(node: Node): Promise<BlobHandle | null> {
    return this.byIno.get(node.ino, () => {
      if (node.oid && !this.view.store.blobs.hasBlob(node.oid)) this.view.readaheadAfter(node);
      return this.view.openContent(node);
    });
  }

  fsync(): void {}

  /**
   * Directories use the kernel's no-opendir mode: the first opendir loads the listing and answers
   * ENOSYS, after which the kernel opens directories itself and keeps their listings cached
   * (cache_readdir). Freshness then rides on getattr: a directory's attributes are only served after
   * its listing was re-checked (dir TTL), and its mtime moves whenever the listing changed, which
   * makes the kernel drop its cached listing (auto_inval_data) at the next readdir from the start.
   */
  async opendir(ino: number): Promise<OpenReply> {
    const node = this.view.node(ino);
    if (node.kind !== "dir" && node.kind !== "gitlink") throw new FsError(Errno.ENOTDIR);
    await this.view.children(ino);
    // Kernels without no-opendir support would fail the open on ENOSYS: answer it there instead.
    if (!this.noOpendir) return { fh: 0, cacheReaddir: true };
    throw new FsError(Errno.ENOSYS, "no opendir needed: listings are served by inode");
  }

  /** Children of `ino` from `offset` on, with "." and ".." first; refreshed when read from the start. */
  private async listing(ino: number, offset: number, max: number): Promise<Array<{ e: DirEntryPlus; node: Node | null }>> {
    const dir = this.view.node(ino);
    if (offset === 0) {
      await this.view.children(ino).catch((err) => {
        if (!this.view.isLoaded(ino)) throw err;
      });
    }
    const out: Array<{ e: DirEntryPlus; node: Node | null }> = [];
    // Offsets: 1 = after ".", 2 = after "..", 3 + i = after child i. Resume strictly after `offset`.
    if (offset < 1) out.push({ e: { name: ".", ino, mode: modeOf(dir), nextOffset: 1 }, node: null });
    if (offset < 2) out.push({ e: { name: "..", ino: dir.parent === 0 ? dir.ino : dir.parent, mode: 0o040000, nextOffset: 2 }, node: null });
    if (dir.kind !== "dir") return out;
    const start = Math.max(0, offset - 2);
    for (const c of this.view.store.inodes.listChildren(ino as Ino, { offset: start, limit: Math.max(0, max - out.length) })) {
      out.push({ e: { name: c.name, ino: c.ino, mode: modeOf(c), nextOffset: c.position + 3 }, node: c });
    }
    return out;
  }

  async readdir(ino: number, _fh: number, offset: number, max: number): Promise<DirEntryPlus[]> {
    return (await this.listing(ino, offset, max)).map((x) => x.e);
  }

  async readdirplus(ino: number, _fh: number, offset: number, max: number): Promise<DirEntryPlus[]> {
    const items = await this.listing(ino, offset, max);
    if (this.view.opts.statMode === "accurate") {
      await Promise.all(
        items.map(async (x) => {
          if (x.node) x.node = await this.view.withSize(x.node).catch(() => x.node);
        }),
      );
    }
    return items.map((x) => (x.node ? { ...x.e, entry: this.entryOf(x.node) } : x.e));
  }



  fsyncdir(): void {}

  statfs(): StatfsReply {
    const usage = this.view.store.du();
    return { bsize: 4096, blocks: Math.ceil(Math.max(usage.maxBytes, usage.bytes) / 4096), bfree: Math.max(0, Math.floor((usage.maxBytes - usage.bytes) / 4096)), bavail: Math.max(0, Math.floor((usage.maxBytes - usage.bytes) / 4096)), files: usage.inodes + 1_000_000, ffree: 1_000_000, namemax: 255 };
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

  /** Unpins the blobs kept open for reads (before a cache gc); the next read reopens them. */
  releaseIdleHandles(): Promise<void> {
    return this.byIno.closeAll();
  }

  /** Closes every open blob handle (at unmount). */
  destroy(): void {
    this.unsubscribe();
    void this.byIno.closeAll();
  }
}

function sliceOf(h: BlobHandle | null, size: number, offset: number): ReadReply {
  if (!h || offset >= h.size) return new Uint8Array(0);
  return { fd: h.fd, offset, length: Math.min(size, h.size - offset) };
}
