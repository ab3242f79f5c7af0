/**
 * @module antares/cl-layer — builds a CL layer directory from `GET /api/v1/cl/{link}/files-list`
 * (§5.4.4): new/modified files are read through the process's object store (so they land in, and come
 * from, the one shared blob cache, verified once) and copied to their path
 * relative to the mount's base path; deletions become whiteouts (the overlay's on-disk format);
 * renames are a deletion plus a new file. Entry paths may be monorepo-absolute or relative to the
 * CL's path (Mega sends the latter for sub-path CLs); the mount path is taken as the CL's path.
 * The directory is built from scratch; on any error it is left for the caller to discard.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { WHITEOUT } from "../overlay/index.ts";
import { clEntryRepoPath, expandRenames, parseOid, Semaphore, type ClFile, type MegaClient } from "../remote/index.ts";
import type { ObjectStore } from "../store/index.ts";
import { Errno, errnoOf } from "../util/errno.ts";
import { internalError, invalidRequest, messageOf } from "./errors.ts";
import { checkClId } from "./paths.ts";
import { maybePointer, resolveClLfs, type ClBlobFile } from "./cl-layer-lfs.ts";

export interface ClBuildResult {
  files: number;
  whiteouts: number;
  skipped: number;
}

/** The path of a files-list entry relative to the mount root, or null if it lies outside the mount. */
export function relativeToMount(entryPath: string, mountPath: string): string | null {
  const repoPath = clEntryRepoPath(entryPath, mountPath);
  if (repoPath === null) return null;
  if (mountPath === "/") return repoPath.slice(1) || null;
  if (!repoPath.startsWith(mountPath + "/")) return null;
  return repoPath.slice(mountPath.length + 1) || null;
}

export async function buildClLayer(opts: { client: MegaClient; objects: ObjectStore; link: string; mountPath: string; clDir: string; concurrency?: number }): Promise<ClBuildResult> {
  const link = checkClId(opts.link);
  let files: ClFile[];
  try {
    files = expandRenames(await opts.client.clFilesList(link));
  } catch (err) {
    if (errnoOf(err) === Errno.ENOENT) throw invalidRequest(`CL ${link} not found`);
    throw internalError(`failed to fetch CL files: ${messageOf(err)}`);
  }
  await rm(opts.clDir, { recursive: true, force: true });
  await mkdir(opts.clDir, { recursive: true });

  // Last action per path wins (a rename's "deleted old" must not erase a "new" at the same path).
  const plan = new Map<string, ClFile>();
  let skipped = 0;
  for (const f of files) {
    const rel = relativeToMount(f.path, opts.mountPath);
    if (rel === null) {
      skipped++;
      continue;
    }
    const prev = plan.get(rel);
    if (prev && prev.action !== "deleted" && f.action === "deleted") continue;
    plan.set(rel, f);
  }

  const result: ClBuildResult = { files: 0, whiteouts: 0, skipped };
  const pointers: ClBlobFile[] = [];
  const sem = new Semaphore(opts.concurrency ?? 8);
  await Promise.all(
    [...plan].map(async ([rel, f]) => {
      const target = join(opts.clDir, rel);
      if (f.action === "deleted") {
        try {
          WHITEOUT.makeWhiteout(opts.clDir, rel);
        } catch (err) {
          throw internalError(`failed to create whiteout for ${rel}: ${messageOf(err)}`);
        }
        result.whiteouts++;
        return;
      }
      const release = await sem.acquire();
      try {
        const { bytes } = await opts.objects.read(parseOid(f.sha));
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, bytes);
        if (maybePointer(bytes)) pointers.push({ rel, bytes });
        result.files++;
      } catch (err) {
        throw internalError(`failed to fetch CL file ${rel} (${f.sha}): ${messageOf(err)}`);
      } finally {
        release();
      }
    }),
  );
  // LFS pointers become their objects, once every attribute file of the layer is in place.
  try {
    await resolveClLfs({ objects: opts.objects, mountPath: opts.mountPath, clDir: opts.clDir, candidates: pointers });
  } catch (err) {
    throw internalError(`failed to fetch an LFS file of CL ${link}: ${messageOf(err)}`);
  }
  return result;
}
