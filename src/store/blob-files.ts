/**
 * @module store/blob-files — content-addressed blob files under `<store>/objects/ab/cdef…` (git's loose
 * object layout, uncompressed). A blob is written to `<store>/tmp/`, fsynced, then renamed into place,
 * so a file under its final name is always complete; `tmp/` lives in the store directory (same
 * filesystem, so the rename is atomic) and is emptied on open, which makes crash clean-up one
 * readdir instead of a scan of every fan-out directory. Knows nothing of the index or of eviction.
 */
import { open, unlink } from "node:fs/promises";
import { mkdirSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Oid } from "./types.ts";
import { writeNewFiles } from "./file-writer.ts";
import { Errno, errnoOf } from "../util/errno.ts";

/** Blobs up to this size are written synchronously when no fsync is asked for. */
const SYNC_WRITE_MAX = 256 * 1024;

let tempCounter = 0;

export class BlobFiles {
  readonly objectsDir: string;
  readonly tmpDir: string;
  readonly #fsync: boolean;
  /** Fan-out directories known to exist, to skip a mkdir per write. */
  readonly #madeDirs = new Set<string>();

  constructor(storeDir: string, opts: { fsync: boolean }) {
    this.objectsDir = join(storeDir, "objects");
    this.tmpDir = join(storeDir, "tmp");
    this.#fsync = opts.fsync;
    mkdirSync(this.objectsDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
  }

  pathFor(oid: Oid): string {
    return join(this.objectsDir, oid.slice(0, 2), oid.slice(2));
  }

  /** A fresh temp file name in tmp/. */
  tempPath(hint: string): string {
    tempCounter = (tempCounter + 1) % 1_000_000_000;
    return join(this.tmpDir, `${hint.slice(0, 64)}.${process.pid}.${tempCounter}`);
  }

  /** Writes `bytes` to a new temp file (fsynced if configured) and returns its path. */
  async writeTemp(oid: Oid, bytes: Uint8Array): Promise<string> {
    const tmp = this.tempPath(oid);
    if (!this.#fsync && bytes.byteLength <= SYNC_WRITE_MAX) {
      // A small write to local disk costs less on this thread than four hops through Bun's two-thread
      // pool (open, write, close), which every other async fs call also queues on.
      try {
        writeFileSync(tmp, bytes, { mode: 0o444, flag: "wx" });
      } catch (err) {
        try { unlinkSync(tmp); } catch {}
        throw err;
      }
      return tmp;
    }
    const fh = await open(tmp, "wx", 0o444);
    try {
      await fh.writeFile(bytes);
      if (this.#fsync) await fh.sync();
      await fh.close();
    } catch (err) {
      await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw err;
    }
    return tmp;
  }

  /**
   * `writeTemp` for a batch: small blobs without fsync are written on the writer thread
   * (store/file-writer), so their inode allocations do not hold up the JS thread; otherwise one by one.
   * On failure no temp file of the batch remains.
   */
  async writeTemps(items: ReadonlyArray<{ readonly oid: Oid; readonly bytes: Uint8Array }>): Promise<string[]> {
    if (this.#fsync || items.some((it) => it.bytes.byteLength > SYNC_WRITE_MAX)) {
      const temps: string[] = [];
      try {
        for (const it of items) temps.push(await this.writeTemp(it.oid, it.bytes));
      } catch (err) {
        for (const t of temps) this.discard(t);
        throw err;
      }
      return temps;
    }
    const files = items.map((it) => ({ path: this.tempPath(it.oid), bytes: it.bytes }));
    await writeNewFiles(files);
    return files.map((f) => f.path);
  }

  /**
   * Renames a temp file to the blob's final name. Synchronous on purpose: the caller updates the
   * index in the same turn of the event loop, so no eviction can run between rename and index row.
   * On failure the temp file is removed and nothing exists under the final name that was not there.
   */
  commit(tmp: string, oid: Oid): string {
    const dest = this.pathFor(oid);
    try {
      const dir = join(this.objectsDir, oid.slice(0, 2));
      if (!this.#madeDirs.has(dir)) {
        mkdirSync(dir, { recursive: true });
        this.#madeDirs.add(dir);
      }
      renameSync(tmp, dest);
    } catch (err) {
      this.discard(tmp);
      throw err;
    }
    return dest;
  }

  discard(tmp: string): void {
    try { unlinkSync(tmp); } catch {}
  }

  /** Removes a blob file; a missing file is not an error. */
  remove(oid: Oid): void {
    try {
      unlinkSync(this.pathFor(oid));
    } catch (err) {
      if (errnoOf(err) !== Errno.ENOENT) throw err;
    }
  }

  /** Deletes everything left in tmp/ by a crashed writer. Only safe while holding the store lock. */
  cleanTemp(): number {
    let n = 0;
    for (const name of readdirSync(this.tmpDir)) {
      rmSync(join(this.tmpDir, name), { recursive: true, force: true });
      n++;
    }
    return n;
  }

  /** Every file under objects/, with the oid its name claims (which may not be a valid oid). */
  *list(): Generator<{ name: string; path: string }> {
    for (const fan of readdirSync(this.objectsDir)) {
      const dir = join(this.objectsDir, fan);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue; // not a directory
      }
      for (const rest of names) yield { name: fan + rest, path: join(dir, rest) };
    }
  }
}
