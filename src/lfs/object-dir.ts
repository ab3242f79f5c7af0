/**
 * @module lfs/object-dir — a directory of LFS objects named by sha-256, in git-lfs's layout
 * (`<root>/objects/aa/bb/<oid>`, temp files in `<root>/tmp`). Used for objects a commit creates (before
 * push uploads them) and by the dev server as its object store. Every object is written to `tmp/`, fsynced
 * and renamed into place, so a file under its final name is complete; `put*` hash what they write, so the
 * name is always the content's hash.
 */
import { mkdirSync } from "node:fs";
import { mkdir, open, rename, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { Errno, errnoOf, FsError } from "../util/errno.ts";
import type { LfsDownloadTarget } from "../remote/lfs-client.ts";
import { isLfsOid, type LfsOid } from "./pointer.ts";

export interface LfsObjectInfo {
  oid: LfsOid;
  size: number;
}

let tempCounter = 0;

export class LfsObjectDir {
  readonly objectsDir: string;
  readonly tmpDir: string;

  constructor(readonly root: string) {
    this.objectsDir = join(root, "objects");
    this.tmpDir = join(root, "tmp");
    mkdirSync(this.objectsDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
  }

  pathFor(oid: string): string {
    if (!isLfsOid(oid)) throw FsError.of("EINVAL", `not an LFS object id: ${JSON.stringify(oid)}`);
    return join(this.objectsDir, oid.slice(0, 2), oid.slice(2, 4), oid);
  }

  /** A fresh temp path inside this directory (same filesystem, so the final rename is atomic). */
  tempPath(hint = "obj"): string {
    tempCounter = (tempCounter + 1) % 1_000_000_000;
    return join(this.tmpDir, `${hint.slice(0, 16)}.${process.pid}.${tempCounter}`);
  }

  /** Size of the stored object, or null when absent. */
  async size(oid: string): Promise<number | null> {
    try {
      return (await stat(this.pathFor(oid))).size;
    } catch (err) {
      if (errnoOf(err) === Errno.ENOENT) return null;
      throw err;
    }
  }

  async has(oid: string, size?: number): Promise<boolean> {
    const s = await this.size(oid);
    return s !== null && (size === undefined || s === size);
  }

  /** Moves a complete temp file to the object's name. The caller vouches that it holds `oid`'s content. */
  async adopt(tmp: string, oid: string): Promise<string> {
    const dest = this.pathFor(oid);
    await mkdir(join(this.objectsDir, oid.slice(0, 2), oid.slice(2, 4)), { recursive: true });
    try {
      await rename(tmp, dest);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    }
    return dest;
  }

  /** Stores bytes under their sha-256. */
  async putBytes(bytes: Uint8Array): Promise<LfsObjectInfo> {
    return this.putChunks((async function* () { yield bytes; })());
  }

  /** Stores a file's content under its sha-256, streaming (any size). */
  async putFile(path: string): Promise<LfsObjectInfo> {
    return this.putChunks(Bun.file(path).stream());
  }

  /** Stores a stream under its sha-256. */
  async putChunks(chunks: AsyncIterable<Uint8Array>): Promise<LfsObjectInfo> {
    const tmp = this.tempPath("put");
    const hasher = new Bun.CryptoHasher("sha256");
    let size = 0;
    const fh = await open(tmp, "wx", 0o444);
    try {
      for await (const chunk of chunks) {
        hasher.update(chunk);
        size += chunk.byteLength;
        await fh.write(chunk);
      }
      await fh.sync();
      await fh.close();
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw err;
    }
    const oid = hasher.digest("hex") as LfsOid;
    if (await this.has(oid, size)) {
      await unlink(tmp).catch(() => {});
    } else {
      await this.adopt(tmp, oid);
    }
    return { oid, size };
  }

  /** Downloads (`LfsClient.download`) straight into this directory: temp file here, verified, then renamed in. */
  downloadTarget(): LfsDownloadTarget {
    return {
      tempPath: (o) => this.tempPath(o.oid),
      commit: async (o, tmp) => void (await this.adopt(tmp, o.oid)),
    };
  }

  /** Stores bytes under a given name without checking them (the dev server's tests of corrupt objects). */
  async putUnchecked(oid: string, bytes: Uint8Array): Promise<void> {
    const tmp = this.tempPath("raw");
    await Bun.write(tmp, bytes);
    await this.adopt(tmp, oid);
  }
}
