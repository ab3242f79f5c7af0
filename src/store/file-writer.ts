/**
 * @module store/file-writer — writes batches of new small files on a Worker thread. A pack brings up to
 * thousands of blobs, one file each, and every file is an inode allocation: tens of µs on a quiet
 * disk, up to half a millisecond on a busy ext4. On the daemon's JS thread that time would hold up the
 * FUSE requests of every mount; on the worker it does not. Files are created exclusively (`wx`),
 * read-only (0444), without fsync; the caller renames them into place. A failed batch leaves none of
 * its files behind.
 */
import { logger } from "../util/log.ts";

const log = logger("store/file-writer");

const WORKER_SOURCE = `
import { unlinkSync, writeFileSync } from "node:fs";
self.onmessage = (ev) => {
  const { id, files } = ev.data;
  for (let i = 0; i < files.length; i++) {
    try {
      writeFileSync(files[i].path, files[i].bytes, { mode: 0o444, flag: "wx" });
    } catch (e) {
      for (let j = 0; j <= i; j++) { try { unlinkSync(files[j].path); } catch {} }
      postMessage({ id, error: { message: String((e && e.message) || e), code: e && e.code } });
      return;
    }
  }
  postMessage({ id });
};
`;

export interface NewFile {
  readonly path: string;
  readonly bytes: Uint8Array;
}

interface Reply {
  id: number;
  error?: { message: string; code?: string };
}

class FileWriter {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  constructor() {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
    this.worker = new Worker(url);
    this.worker.onmessage = (ev: MessageEvent<Reply>) => {
      const p = this.pending.get(ev.data.id);
      this.pending.delete(ev.data.id);
      if (this.pending.size === 0) this.worker.unref();
      const e = ev.data.error;
      if (!p) return;
      if (e) p.reject(Object.assign(new Error(e.message), e.code ? { code: e.code } : {}));
      else p.resolve();
    };
    this.worker.onerror = (ev) => {
      log.error("file writer worker failed", { error: (ev as ErrorEvent).message });
      for (const p of this.pending.values()) p.reject(new Error(`file writer worker failed: ${(ev as ErrorEvent).message}`));
      this.pending.clear();
    };
    // An idle writer must not keep a finished process alive.
    this.worker.unref();
  }

  write(files: readonly NewFile[]): Promise<void> {
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, files });
    });
  }
}

let writer: FileWriter | undefined;

/** Creates every file of the batch (exclusively, 0444) on the writer thread; on failure none remains. */
export function writeNewFiles(files: readonly NewFile[]): Promise<void> {
  if (files.length === 0) return Promise.resolve();
  writer ??= new FileWriter();
  return writer.write(files);
}
