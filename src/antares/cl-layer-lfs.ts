/**
 * @module antares/cl-layer-lfs — Git LFS files of a CL layer. A CL's files-list gives blob ids; a blob
 * that is an LFS pointer at an LFS path must show the object, as the lower view does, so the layer file
 * gets the object's content instead of the pointer text. Which paths are LFS: the attribute files of
 * each directory from the monorepo root down, taken from the CL layer first (a whiteout hides the base's
 * file) and then from the base tree at the mount's path (listed through the object store). Objects come
 * in one batch call, verified, through the object store's LFS cache. A pointer whose object cannot be
 * fetched fails the build with the path (never the pointer text silently).
 */
import { copyFile, lstat, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { LfsAttributes, type AttributeFileRef, type AttributeSource } from "../lfs/attributes.ts";
import { LFS_POINTER_MAX_BYTES } from "../lfs/pointer.ts";
import { resolveLfsBytes } from "../lfs/resolve.ts";
import { WH_PREFIX } from "../overlay/whiteout.ts";
import type { ObjectStore, Oid } from "../store/index.ts";
import { Errno, errnoOf } from "../util/errno.ts";
import type { LfsPointer } from "../lfs/pointer.ts";

/** A CL file written from its blob, that may be a pointer. */
export interface ClBlobFile {
  /** Path relative to the mount root. */
  rel: string;
  bytes: Uint8Array;
}

/** Candidates: small blobs that parse as pointers (the attribute check comes later, once all files are written). */
export function maybePointer(bytes: Uint8Array): boolean {
  return bytes.byteLength > 0 && bytes.byteLength <= LFS_POINTER_MAX_BYTES && resolveLfsBytes(bytes, true).kind !== "plain";
}

/** Replaces the pointer text of LFS files among `candidates` with their objects. Returns how many. */
export async function resolveClLfs(opts: { objects: ObjectStore; mountPath: string; clDir: string; candidates: readonly ClBlobFile[] }): Promise<number> {
  const store = opts.objects.lfs;
  if (!store || opts.candidates.length === 0) return 0;
  const attrs = new LfsAttributes(clAttributeSource(opts));
  const base = opts.mountPath === "/" ? "" : opts.mountPath.replace(/^\/+|\/+$/g, "");
  const files: Array<{ rel: string; pointer: LfsPointer }> = [];
  for (const c of opts.candidates) {
    const repoRel = base ? `${base}/${c.rel}` : c.rel;
    const res = resolveLfsBytes(c.bytes, await attrs.isLfsPath(repoRel));
    if (res.kind === "unsupported") throw new Error(`${c.rel}: ${res.reason}`);
    if (res.kind === "lfs") files.push({ rel: c.rel, pointer: res.pointer });
  }
  if (files.length === 0) return 0;
  const results = new Map((await store.ensureMany(files.map((f) => f.pointer))).map((r) => [r.oid, r]));
  for (const f of files) {
    const r = results.get(f.pointer.oid)!;
    if (!r.ok) throw new Error(`LFS object ${f.pointer.oid} of ${f.rel}: ${(r.error as Error).message}`);
    const h = await opts.objects.openPinned(r.blob);
    const target = join(opts.clDir, f.rel);
    const tmp = `${target}.lfs-${process.pid}.tmp`;
    try {
      if (h) await copyFile(h.path, tmp);
      else await Bun.write(tmp, "");
      await rename(tmp, target);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw err;
    } finally {
      h?.close();
    }
  }
  return files.length;
}

/** Attribute files: the CL layer's (monorepo-relative dirs under the mount), else the base listing's. */
function clAttributeSource(opts: { objects: ObjectStore; mountPath: string; clDir: string }): AttributeSource {
  const base = opts.mountPath === "/" ? "" : opts.mountPath.replace(/^\/+|\/+$/g, "");
  const listings = new Map<string, Promise<Map<string, string>>>();
  const listing = (dir: string) => {
    let p = listings.get(dir);
    if (!p) {
      p = opts.objects
        .listing("/" + dir, {})
        .then((l) => new Map(l.entries.filter((e) => e.kind === "blob" && e.mode !== 0o120000).map((e) => [e.name, e.oid])))
        .catch((err: unknown) => {
          if (errnoOf(err) === Errno.ENOENT) return new Map<string, string>();
          throw err;
        });
      listings.set(dir, p);
    }
    return p;
  };
  return {
    async lookup(dir, name): Promise<AttributeFileRef | null> {
      const inMount = base === "" || dir === base || dir.startsWith(base + "/");
      if (inMount) {
        const sub = base === "" ? dir : dir.slice(base.length + 1);
        const local = await clFile(join(opts.clDir, sub), name);
        if (local === "whiteout") return null;
        if (local) return local;
      }
      const oid = (await listing(dir)).get(name);
      return oid ? { id: oid, load: async () => (await opts.objects.read(oid as Oid)).bytes } : null;
    },
  };
}

async function clFile(dir: string, name: string): Promise<AttributeFileRef | "whiteout" | null> {
  const path = join(dir, name);
  try {
    const st = await lstat(path, { bigint: true });
    if (st.isCharacterDevice() && st.rdev === 0n) return "whiteout";
    if (!st.isFile()) return null;
    return { id: `cl:${st.ino}:${st.size}:${st.mtimeNs}`, load: async () => new Uint8Array(await readFile(path)) };
  } catch (err) {
    if (errnoOf(err) !== Errno.ENOENT && errnoOf(err) !== Errno.ENOTDIR) throw err;
  }
  try {
    await lstat(join(dir, WH_PREFIX + name));
    return "whiteout";
  } catch {
    return null;
  }
}
