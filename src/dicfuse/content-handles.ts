/**
 * @module dicfuse/content-handles — open blob files by inode, for reads that arrive without an open
 * (the kernel's no-open mode: the read-only view answers `open` with ENOSYS, so the kernel stops
 * sending open/release and keeps the page cache). A bounded LRU: each entry pins its blob; the least
 * recently read is closed when the bound is reached, and an inode whose content changed is dropped.
 */
import type { BlobHandle } from "../store/index.ts";
import { recordCacheLookup } from "../util/metrics.ts";

/**
 * A read that just got a handle replies from its fd in a later microtask of the same turn; closing
 * in that turn could pull the fd from under the reply. Closes wait for the next macrotask.
 */
function closeLater(p: Promise<BlobHandle | null>): Promise<void> {
  return p.then(
    (h) => new Promise<void>((resolve) => setImmediate(() => { h?.close(); resolve(); })),
    () => {},
  );
}

export class ContentHandles {
  private readonly handles = new Map<number, Promise<BlobHandle | null>>();

  constructor(private readonly max: number) {}

  /** The handle of `ino`, opened with `open` on first use (single-flight), most recently used last. */
  get(ino: number, open: () => Promise<BlobHandle | null>): Promise<BlobHandle | null> {
    let p = this.handles.get(ino);
    if (p) {
      // An open handle answers without the store: the `memory` tier of the cache metrics.
      recordCacheLookup("memory");
      this.handles.delete(ino);
      this.handles.set(ino, p);
      return p;
    }
    p = open();
    // A failed open is not remembered: the next read tries again (the server may be back).
    p.catch(() => this.handles.get(ino) === p && this.handles.delete(ino));
    this.handles.set(ino, p);
    if (this.handles.size > this.max) {
      const [oldest, victim] = this.handles.entries().next().value as [number, Promise<BlobHandle | null>];
      this.handles.delete(oldest);
      closeLater(victim);
    }
    return p;
  }

  /** Forgets `ino` (its content changed); the blob is unpinned once in-flight reads are done with it. */
  drop(ino: number): void {
    const p = this.handles.get(ino);
    if (!p) return;
    this.handles.delete(ino);
    closeLater(p);
  }

  get size(): number {
    return this.handles.size;
  }

  /** Closes every handle; resolves once all are closed. */
  async closeAll(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(all.map(closeLater));
  }
}
