/**
 * @module vcs/host-read — reading a file of a mount's upper or CL layer as the daemon (root) without being
 * led outside those layers. A job can, through its mount, swap a directory of the upper layer for a
 * symlink while a scan runs; a plain read would then follow it (to `/etc/shadow`, say) and the file would
 * end up in a commit and a push. So the final component is opened with O_NOFOLLOW (and O_NONBLOCK, against
 * a fifo swapped in), and the path the kernel actually opened (`/proc/self/fd/N`) must lie inside one of
 * the layer roots; anything else fails the scan with 409 `CHANGED_DURING_SCAN`.
 */
import { closeSync, constants, fstatSync, openSync, read, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { promisify } from "node:util";
import type { FileStream } from "../lfs/clean.ts";
import { fsPath } from "../util/names.ts";
import { VcsError } from "./tree-source.ts";

export class LayerReader {
  private readonly roots: Buffer[];

  constructor(layerDirs: ReadonlyArray<string | null>) {
    this.roots = layerDirs.filter((d): d is string => d !== null).map((d) => Buffer.from(realpathSync(d) + "/"));
  }

  read(path: string): Buffer {
    const fd = this.open(path);
    try {
      return readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** The file as a stream (LFS content, any size): each pass opens it again with the same checks. */
  stream(path: string, size: number): FileStream {
    return { size, read: () => this.chunks(path) };
  }

  private async *chunks(path: string): AsyncGenerator<Uint8Array> {
    const fd = this.open(path);
    try {
      const buf = Buffer.allocUnsafe(CHUNK);
      for (let pos = 0; ; ) {
        const { bytesRead } = await readAsync(fd, buf, 0, CHUNK, pos);
        if (bytesRead === 0) return;
        pos += bytesRead;
        yield new Uint8Array(buf.subarray(0, bytesRead));
      }
    } finally {
      closeSync(fd);
    }
  }

  /** An fd of the regular file at `path`, proven to lie inside the layers. The caller closes it. */
  private open(path: string): number {
    let fd: number;
    try {
      fd = openSync(fsPath(path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      throw changed(path, (err as Error).message);
    }
    try {
      const real = readlinkSync(`/proc/self/fd/${fd}`, { encoding: "buffer" });
      if (!this.roots.some((r) => real.subarray(0, r.length).equals(r))) throw changed(path, `it resolves to ${real.toString()}, outside the mount's layers`);
      if (!fstatSync(fd).isFile()) throw changed(path, "it is no longer a regular file");
      return fd;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }
}

const CHUNK = 1 << 20;
const readAsync = promisify(read);

function changed(path: string, why: string): VcsError {
  return new VcsError("CHANGED_DURING_SCAN", `cannot read ${path}: ${why}; the mount changed during the scan, run it again`, 409);
}
