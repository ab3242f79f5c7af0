/**
 * @module test/support/memfs — an in-memory read-write filesystem implementing LowLevelFs.
 * Test support, not product code: it exercises every op of the binding with real POSIX semantics
 * (hard links, rename flags, xattrs, lookup counts) so the binding can be proven without Mega.
 */
import { Errno, FsError } from "../../src/util/errno.ts";
import { S_IF, RENAME, XATTR } from "../../src/fuse/structs.ts";
import { encodeName } from "../../src/util/names.ts";
import type { Attr, CreateReply, DirEntryPlus, EntryReply, LowLevelFs, OpenReply, RequestContext, SetattrChanges, StatfsReply } from "../../src/fuse/types.ts";

interface Node {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  data: Uint8Array; // file bytes, or symlink target
  size: number;
  children?: Map<string, number>; // directories
  parent?: number;
  xattrs: Map<string, Uint8Array>;
  atime: number; mtime: number; ctime: number; // ns since epoch, as float-safe ms*1e6
  lookups: number;
}

const err = (name: keyof typeof Errno, msg?: string) => new FsError(Errno[name], msg);
const nowNs = () => Date.now() * 1e6;

export interface MemFsOptions {
  /** Milliseconds a handler waits on a timer before replying to reads of files named "slow*". */
  slowMs?: number;
}

export class MemFs implements LowLevelFs {
  private readonly nodes = new Map<number, Node>();
  private nextIno = 2;
  private nextFh = 1;
  private readonly dirHandles = new Map<number, Array<{ name: string; ino: number }>>();
  forgets = 0;

  constructor(private readonly opts: MemFsOptions = {}) {
    const t = nowNs();
    this.nodes.set(1, { ino: 1, mode: S_IF.DIR | 0o755, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, nlink: 2, data: new Uint8Array(0), size: 0, children: new Map(), parent: 1, xattrs: new Map(), atime: t, mtime: t, ctime: t, lookups: 1 });
  }

  private get(ino: number): Node {
    const n = this.nodes.get(ino);
    if (!n) throw err("ESTALE", `no inode ${ino}`);
    return n;
  }
  private dir(ino: number): Node {
    const n = this.get(ino);
    if (!n.children) throw err("ENOTDIR");
    return n;
  }
  private attr(n: Node): Attr {
    return {
      ino: n.ino, mode: n.mode, nlink: n.nlink, uid: n.uid, gid: n.gid, size: n.size,
      atimeSec: Math.floor(n.atime / 1e9), atimeNsec: n.atime % 1e9,
      mtimeSec: Math.floor(n.mtime / 1e9), mtimeNsec: n.mtime % 1e9,
      ctimeSec: Math.floor(n.ctime / 1e9), ctimeNsec: n.ctime % 1e9,
    };
  }
  private entry(n: Node): EntryReply {
    n.lookups++;
    return { ino: n.ino, attr: this.attr(n) };
  }
  private newNode(parent: Node, name: string, mode: number, ctx: RequestContext, data = new Uint8Array(0)): Node {
    if (name.length > 255) throw err("ENAMETOOLONG");
    if (parent.children!.has(name)) throw err("EEXIST");
    const t = nowNs();
    const isDir = (mode & S_IF.MT) === S_IF.DIR;
    const n: Node = { ino: this.nextIno++, mode, uid: ctx.uid, gid: ctx.gid, nlink: isDir ? 2 : 1, data, size: data.byteLength, xattrs: new Map(), atime: t, mtime: t, ctime: t, lookups: 0 };
    if (isDir) { n.children = new Map(); n.parent = parent.ino; parent.nlink++; }
    this.nodes.set(n.ino, n);
    parent.children!.set(name, n.ino);
    parent.mtime = parent.ctime = t;
    return n;
  }
  private maybeFree(n: Node): void {
    if (n.nlink === 0 && n.lookups === 0) this.nodes.delete(n.ino);
  }

  lookup(parent: number, name: string): EntryReply | { ino: 0; entryTimeout: number } {
    const p = this.dir(parent);
    const ino = name === "." ? p.ino : name === ".." ? p.parent! : p.children!.get(name);
    if (ino === undefined) throw err("ENOENT");
    return this.entry(this.get(ino));
  }
  forget(ino: number, nlookup: number): void {
    this.forgets += nlookup;
    const n = this.nodes.get(ino);
    if (!n) return;
    n.lookups -= nlookup;
    if (n.lookups < 0) throw new Error(`INTERNAL ERROR: negative lookup count for inode ${ino}`);
    this.maybeFree(n);
  }
  getattr(ino: number) {
    return { attr: this.attr(this.get(ino)) };
  }
  setattr(ino: number, c: SetattrChanges) {
    const n = this.get(ino);
    const t = nowNs();
    if (c.mode !== undefined) n.mode = (n.mode & S_IF.MT) | (c.mode & 0o7777);
    if (c.uid !== undefined) n.uid = c.uid;
    if (c.gid !== undefined) n.gid = c.gid;
    if (c.size !== undefined) {
      if (n.children) throw err("EISDIR");
      this.resize(n, c.size);
      n.mtime = t;
    }
    if (c.atime !== undefined) n.atime = c.atime === "now" ? t : c.atime.sec * 1e9 + c.atime.nsec;
    if (c.mtime !== undefined) n.mtime = c.mtime === "now" ? t : c.mtime.sec * 1e9 + c.mtime.nsec;
    n.ctime = t;
    return { attr: this.attr(n) };
  }
  private resize(n: Node, size: number): void {
    if (size > n.data.byteLength) {
      const grown = new Uint8Array(Math.max(size, n.data.byteLength * 2));
      grown.set(n.data.subarray(0, n.size));
      n.data = grown;
    } else if (size < n.size) n.data.fill(0, size, n.size);
    n.size = size;
  }
  readlink(ino: number) {
    const n = this.get(ino);
    if ((n.mode & S_IF.MT) !== S_IF.LNK) throw err("EINVAL");
    return n.data;
  }
  mknod(parent: number, name: string, mode: number, _rdev: number, ctx: RequestContext) {
    return this.entry(this.newNode(this.dir(parent), name, mode, ctx));
  }
  mkdir(parent: number, name: string, mode: number, ctx: RequestContext) {
    return this.entry(this.newNode(this.dir(parent), name, S_IF.DIR | (mode & 0o7777), ctx));
  }
  unlink(parent: number, name: string) {
    const p = this.dir(parent);
    const ino = p.children!.get(name);
    if (ino === undefined) throw err("ENOENT");
    const n = this.get(ino);
    if (n.children) throw err("EISDIR");
    p.children!.delete(name);
    n.nlink--;
    n.ctime = p.mtime = p.ctime = nowNs();
    this.maybeFree(n);
  }
  rmdir(parent: number, name: string) {
    const p = this.dir(parent);
    const ino = p.children!.get(name);
    if (ino === undefined) throw err("ENOENT");
    const n = this.get(ino);
    if (!n.children) throw err("ENOTDIR");
    if (n.children.size) throw err("ENOTEMPTY");
    p.children!.delete(name);
    p.nlink--;
    n.nlink = 0;
    this.maybeFree(n);
  }
  symlink(target: string, parent: number, name: string, ctx: RequestContext) {
    return this.entry(this.newNode(this.dir(parent), name, S_IF.LNK | 0o777, ctx, new Uint8Array(encodeName(target))));
  }
  rename(parent: number, name: string, newParent: number, newName: string, flags: number) {
    const p = this.dir(parent);
    const np = this.dir(newParent);
    const ino = p.children!.get(name);
    if (ino === undefined) throw err("ENOENT");
    const n = this.get(ino);
    const targetIno = np.children!.get(newName);
    if (flags & RENAME.EXCHANGE) {
      if (targetIno === undefined) throw err("ENOENT");
      p.children!.set(name, targetIno);
      np.children!.set(newName, ino);
      return;
    }
    if (targetIno !== undefined) {
      if (flags & RENAME.NOREPLACE) throw err("EEXIST");
      if (targetIno === ino) return;
      const t = this.get(targetIno);
      if (t.children) {
        if (!n.children) throw err("EISDIR");
        if (t.children.size) throw err("ENOTEMPTY");
        np.nlink--;
        t.nlink = 0;
      } else {
        if (n.children) throw err("ENOTDIR");
        t.nlink--;
      }
      this.maybeFree(t);
    }
    p.children!.delete(name);
    np.children!.set(newName, ino);
    if (n.children && p !== np) { p.nlink--; np.nlink++; n.parent = np.ino; }
    n.ctime = p.mtime = np.mtime = nowNs();
  }
  link(ino: number, newParent: number, newName: string) {
    const n = this.get(ino);
    if (n.children) throw err("EPERM");
    const np = this.dir(newParent);
    if (np.children!.has(newName)) throw err("EEXIST");
    np.children!.set(newName, ino);
    n.nlink++;
    n.ctime = nowNs();
    return this.entry(n);
  }
  open(ino: number, flags: number): OpenReply {
    const n = this.get(ino);
    if (flags & 0o1000 /* O_TRUNC */) this.resize(n, 0);
    return { fh: this.nextFh++ };
  }
  async read(ino: number, size: number, offset: number) {
    const n = this.get(ino);
    if (this.opts.slowMs && this.isSlow(ino)) await Bun.sleep(this.opts.slowMs);
    if (offset >= n.size) return new Uint8Array(0);
    return n.data.subarray(offset, Math.min(n.size, offset + size));
  }
  private isSlow(ino: number): boolean {
    for (const p of this.nodes.values()) if (p.children) for (const [name, i] of p.children) if (i === ino) return name.startsWith("slow");
    return false;
  }
  write(ino: number, data: Uint8Array, offset: number, fi: { flags: number }) {
    const n = this.get(ino);
    const at = fi.flags & 0o2000 /* O_APPEND */ ? n.size : offset;
    if (at + data.byteLength > n.size) this.resize(n, at + data.byteLength);
    n.data.set(data, at);
    n.mtime = n.ctime = nowNs();
    if (data.byteLength > 0 && data[0] === 0x21 /* "!" */ && new TextDecoder().decode(data).startsWith("!throw")) {
      throw new Error("memfs: asked to throw");
    }
    return data.byteLength;
  }
  flush() {}
  release() {}
  fsync() {}
  opendir(ino: number): OpenReply {
    const n = this.dir(ino);
    const fh = this.nextFh++;
    // Snapshot at opendir so offsets stay meaningful while the directory changes.
    this.dirHandles.set(fh, [{ name: ".", ino: n.ino }, { name: "..", ino: n.parent! }, ...[...n.children!].map(([name, i]) => ({ name, ino: i }))]);
    return { fh };
  }
  readdir(_ino: number, fh: number, offset: number, max: number) {
    const snap = this.dirHandles.get(fh);
    if (!snap) throw err("EBADF");
    return snap.slice(offset, offset + max).map((e, i) => ({ name: e.name, ino: e.ino, mode: this.nodes.get(e.ino)?.mode ?? S_IF.REG, nextOffset: offset + i + 1 }));
  }
  readdirplus(_ino: number, fh: number, offset: number, max: number): DirEntryPlus[] {
    const snap = this.dirHandles.get(fh);
    if (!snap) throw err("EBADF");
    const out: DirEntryPlus[] = [];
    for (let i = offset; i < Math.min(snap.length, offset + max); i++) {
      const e = snap[i]!;
      const n = this.nodes.get(e.ino);
      if (!n) continue; // removed since opendir
      const dot = e.name === "." || e.name === "..";
      out.push({ name: e.name, ino: e.ino, mode: n.mode, nextOffset: i + 1, entry: dot ? undefined : this.entry(n) });
    }
    return out;
  }
  releasedir(_ino: number, fh: number) {
    this.dirHandles.delete(fh);
  }
  fsyncdir() {}
  statfs(): StatfsReply {
    return { bsize: 4096, blocks: 1 << 20, bfree: 1 << 19, bavail: 1 << 19, files: 1 << 20, ffree: (1 << 20) - this.nodes.size, namemax: 255 };
  }
  setxattr(ino: number, name: string, value: Uint8Array, flags: number) {
    const n = this.get(ino);
    if (flags & XATTR.CREATE && n.xattrs.has(name)) throw err("EEXIST");
    if (flags & XATTR.REPLACE && !n.xattrs.has(name)) throw err("ENODATA");
    n.xattrs.set(name, value);
    n.ctime = nowNs();
  }
  getxattr(ino: number, name: string) {
    const v = this.get(ino).xattrs.get(name);
    if (!v) throw err("ENODATA");
    return v;
  }
  listxattr(ino: number) {
    return [...this.get(ino).xattrs.keys()];
  }
  removexattr(ino: number, name: string) {
    if (!this.get(ino).xattrs.delete(name)) throw err("ENODATA");
  }
  access(ino: number) {
    this.get(ino);
  }
  create(parent: number, name: string, mode: number, _flags: number, ctx: RequestContext): CreateReply {
    const n = this.newNode(this.dir(parent), name, S_IF.REG | (mode & 0o7777), ctx);
    return { ...this.entry(n), fh: this.nextFh++ };
  }
  fallocate(ino: number, mode: number, offset: number, length: number) {
    if (mode !== 0) throw err("EOPNOTSUPP");
    const n = this.get(ino);
    if (offset + length > n.size) this.resize(n, offset + length);
  }
  lseek(ino: number, offset: number, whence: number) {
    const n = this.get(ino);
    if (whence === 3 /* SEEK_DATA */) { if (offset >= n.size) throw err("ENXIO"); return offset; }
    if (whence === 4 /* SEEK_HOLE */) { if (offset >= n.size) throw err("ENXIO"); return n.size; }
    throw err("EINVAL");
  }
  /**
   * Changes a root-level file behind the kernel's back (as a remote update would) and returns its
   * inode, so the caller can invalidate the kernel's caches. Creates the file if missing.
   */
  changeBehindKernel(name: string, text: string): { ino: number; created: boolean } {
    const root = this.dir(1);
    const bytes = new TextEncoder().encode(text);
    const existing = root.children!.get(name);
    if (existing !== undefined) {
      const n = this.get(existing);
      n.data = bytes;
      n.size = bytes.byteLength;
      n.mtime = n.ctime = nowNs();
      return { ino: n.ino, created: false };
    }
    const n = this.newNode(root, name, S_IF.REG | 0o644, { uid: 0, gid: 0, pid: 0, umask: 0 }, bytes);
    return { ino: n.ino, created: true };
  }

  /** Live inode count, for the forget test. */
  /** Whether inode `ino` is still held (linked, or referenced by the kernel). */
  isLive(ino: number): boolean {
    return this.nodes.has(ino);
  }

  get inodeCount(): number {
    return this.nodes.size;
  }
}
