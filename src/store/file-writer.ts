/**
 * @module store/file-writer — writes batches of new small files on a Worker thread. A pack brings up to
 * thousands of blobs, one file each, and every file is an inode allocation: tens of µs on a quiet
 * disk, up to half a millisecond on a busy ext4. On the daemon's JS thread that time would hold up the
 * FUSE requests of every mount; on the worker it does not. Files are created exclusively (`wx`),
 * read-only (0444), without fsync; the caller renames them into place. A failed batch leaves none of
 * its files behind.
 */
import { WorkerCalls } from "../util/worker-calls.ts";

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

let writer: WorkerCalls<{ files: readonly NewFile[] }, Reply> | undefined;

/** Creates every file of the batch (exclusively, 0444) on the writer thread; on failure none remains. */
export async function writeNewFiles(files: readonly NewFile[]): Promise<void> {
  if (files.length === 0) return;
  if (!writer || writer.failed) {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
    writer = new WorkerCalls(new Worker(url), "file writer");
  }
  const e = (await writer.call({ files })).error;
  if (e) throw Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
}
