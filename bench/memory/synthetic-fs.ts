/**
 * @module bench/memory/synthetic-fs — a read-only tree of `dirs` directories × `files` files, computed
 * from the inode number (no storage), for the memory bench.
 *
 * Inode numbers: 1 is the root, 2..dirs+1 are the directories "d0000".., then the files "f0000"..
 * of directory d are `2 + dirs + d*files + f`. Every file is empty, mode 0444; attributes are a
 * pure function of the inode.
 *
 * The only state is the inode table: inode → lookup count. `lookup` and every non-dot readdirplus
 * entry add one (`ref`); `forget` takes `nlookup` away and deletes the inode at zero (`unref`), so
 * `liveInodes` is exactly what the kernel still holds (the root is never in the table: the kernel
 * never looks it up nor forgets it).
 * A count that would go negative throws "INTERNAL ERROR", as passthrough_hp.cc aborts.
 */
import { Errno, FsError } from "../../src/util/errno.ts";
import { S_IF } from "../../src/fuse/structs.ts";
import type { Attr, DirEntryPlus, DirEntry, EntryReply, LowLevelFs, OpenReply, StatfsReply } from "../../src/fuse/types.ts";

const ROOT = 1;
const EPOCH = 1_700_000_000;
const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;
const name4 = (prefix: string, i: number): string => prefix + String(i).padStart(4, "0");

export interface LookupCounters {
  /** References handed to the kernel (lookup + readdirplus entries). */
  refs: number;
  /** Calls of `forget` (one per inode, whether from FORGET or BATCH_FORGET). */
  forgetCalls: number;
  /** Sum of `nlookup` over those calls. */
  forgotten: number;
  lookups: number;
  readdirplusCalls: number;
}

export class SyntheticFs implements LowLevelFs {
  /** inode → lookup count. Only inodes the kernel holds are here. */
  private readonly table = new Map<number, number>();
  readonly counters: LookupCounters = { refs: 0, forgetCalls: 0, forgotten: 0, lookups: 0, readdirplusCalls: 0 };
  private readonly firstFile: number;
  private readonly lastIno: number;

  constructor(readonly dirs: number, readonly files: number) {
    this.firstFile = 2 + dirs;
    this.lastIno = this.firstFile + dirs * files - 1;
  }

  get liveInodes(): number {
    return this.table.size;
  }

  /** Sum of all lookup counts: must equal refs − forgotten. */
  get outstanding(): number {
    let n = 0;
    for (const c of this.table.values()) n += c;
    return n;
  }

  // ---- inode arithmetic -------------------------------------------------------------------------

  private isDir(ino: number): boolean {
    return ino === ROOT || (ino >= 2 && ino < this.firstFile);
  }

  private exists(ino: number): boolean {
    return ino >= ROOT && ino <= this.lastIno;
  }

  private attr(ino: number): Attr {
    const dir = this.isDir(ino);
    return {
      ino,
      mode: dir ? S_IF.DIR | 0o555 : S_IF.REG | 0o444,
      nlink: dir ? 2 : 1,
      uid, gid,
      size: 0,
      atimeSec: EPOCH, mtimeSec: EPOCH, ctimeSec: EPOCH,
    };
  }

  /** Child `index` of directory `parent` (0-based), or 0 when there is none. */
  private child(parent: number, index: number): number {
    if (parent === ROOT) return index < this.dirs ? 2 + index : 0;
    if (!this.isDir(parent)) return 0;
    return index < this.files ? this.firstFile + (parent - 2) * this.files + index : 0;
  }

  private childName(parent: number, index: number): string {
    return parent === ROOT ? name4("d", index) : name4("f", index);
  }

  private childCount(parent: number): number {
    return parent === ROOT ? this.dirs : this.files;
  }

  // ---- lookup counts ----------------------------------------------------------------------------

  private ref(ino: number): EntryReply {
    this.table.set(ino, (this.table.get(ino) ?? 0) + 1);
    this.counters.refs++;
    return { ino, attr: this.attr(ino) };
  }

  private unref(ino: number, n: number): void {
    this.counters.forgetCalls++;
    this.counters.forgotten += n;
    const c = this.table.get(ino);
    if (c === undefined || c < n) throw new Error(`INTERNAL ERROR: forget(${ino}, ${n}) with lookup count ${c ?? 0}`);
    if (c === n) this.table.delete(ino);
    else this.table.set(ino, c - n);
  }

  // ---- ops --------------------------------------------------------------------------------------

  lookup(parent: number, name: string): EntryReply {
    this.counters.lookups++;
    const m = /^([df])(\d{4})$/.exec(name);
    const kind = parent === ROOT ? "d" : "f";
    const index = m && m[1] === kind ? Number(m[2]) : -1;
    const ino = index >= 0 && index < this.childCount(parent) ? this.child(parent, index) : 0;
    if (!ino) throw new FsError(Errno.ENOENT);
    return this.ref(ino);
  }

  forget(ino: number, nlookup: number): void {
    this.unref(ino, nlookup);
  }

  getattr(ino: number) {
    if (!this.exists(ino)) throw new FsError(Errno.ESTALE);
    return { attr: this.attr(ino) };
  }

  opendir(ino: number): OpenReply {
    if (!this.isDir(ino)) throw new FsError(Errno.ENOTDIR);
    return { fh: 0 };
  }

  releasedir(): void {}

  /** Offsets: 0 start, 1 after ".", 2 after "..", 3+i after child i. */
  private list<T extends DirEntry>(ino: number, offset: number, max: number, make: (e: DirEntry, child: boolean) => T): T[] {
    if (!this.isDir(ino)) throw new FsError(Errno.ENOTDIR);
    const out: T[] = [];
    const end = 2 + this.childCount(ino);
    for (let off = offset; off < end && out.length < max; off++) {
      if (off === 0) out.push(make({ name: ".", ino, mode: S_IF.DIR, nextOffset: 1 }, false));
      else if (off === 1) out.push(make({ name: "..", ino: ROOT, mode: S_IF.DIR, nextOffset: 2 }, false));
      else {
        const i = off - 2;
        const c = this.child(ino, i);
        out.push(make({ name: this.childName(ino, i), ino: c, mode: this.isDir(c) ? S_IF.DIR : S_IF.REG, nextOffset: off + 1 }, true));
      }
    }
    return out;
  }

  readdir(ino: number, _fh: number, offset: number, max: number): DirEntry[] {
    return this.list(ino, offset, max, (e) => e);
  }

  readdirplus(ino: number, _fh: number, offset: number, max: number): DirEntryPlus[] {
    this.counters.readdirplusCalls++;
    return this.list<DirEntryPlus>(ino, offset, max, (e, child) => (child ? { ...e, entry: this.ref(e.ino) } : e));
  }

  statfs(): StatfsReply {
    const files = this.lastIno;
    return { bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files, ffree: 0, namemax: 255 };
  }
}
