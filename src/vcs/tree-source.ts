/**
 * @module vcs/tree-source — where tree listings and blob bytes of committed states come from, narrowly:
 * `BaseTreeSource` lists a tree by (mount-relative path, tree id) and reads a blob by id. The chain
 * used by a mount: trees built in memory by the current scan → the mount's own object store (its
 * commits) → a per-mount cache of base trees already fetched → Mega (`/api/v1/file/tree?path=&oid=`,
 * which serves a tree only while it is still the one at that path; for a root mount also
 * `&refs=<root commit>` as of the base, so a moved main does not lose the base). Every fetched tree is verified
 * against its id before use or caching. The lower view is not consulted: it may have moved on.
 */
import type { LfsObjectDir } from "../lfs/object-dir.ts";
import { Semaphore, type MegaClient } from "../remote/index.ts";
import { HttpError } from "../server/http-error.ts";
import { decodeName } from "../util/names.ts";
import { fetchTreeBody, type MegaEndpoint } from "./mega-base.ts";
import { parseTreeBody } from "./loose-objects.ts";
import { EMPTY_TREE_ID, objectId, type ObjectStore, type TreeItem } from "./objects.ts";

export interface BaseTreeSource {
  /** The entries of tree `treeId`, found at mount-relative directory `path` ("" = the mount root). */
  listTree(path: string, treeId: string): Promise<TreeItem[]>;
  /** The bytes of blob `oid`. */
  readBlob(oid: string): Promise<Uint8Array>;
}

/** A version-control failure with its HTTP status and stable code (rendered as `{error, code}`). */
export class VcsError extends HttpError {
  constructor(code: string, message: string, status = 400) {
    super(status, code, message);
    this.name = "VcsError";
  }
}

export function treeItemsOf(body: Uint8Array): TreeItem[] {
  return parseTreeBody(body).map((e) => ({ name: decodeName(e.name), mode: e.mode, oid: e.oid }));
}

/** A pointer blob the scan made from a file at an LFS path; both calls check that the file still gives it. */
export interface ScratchLfsBlob {
  /** The pointer text (hashes the file; stores nothing): status and diff. */
  pointer(): Promise<Uint8Array>;
  /** Stores the file's content in `objects` and returns the pointer text: commit. */
  store(objects: LfsObjectDir): Promise<Uint8Array>;
}

export interface MountTreeSourceOptions {
  /** The mount's commits and blobs. */
  objects: ObjectStore;
  /** Base trees (and blobs read for renames and diffs) fetched before. */
  cache: ObjectStore;
  endpoint: MegaEndpoint;
  client: MegaClient;
  /** Monorepo path of the mount root. */
  mountPath: string;
  /** A root commit of the monorepo in which the base trees are (`refs=` for /api/v1/file/tree). */
  rootCommit: string | null;
}

export class MountTreeSource implements BaseTreeSource {
  /** Trees of the scan in progress (not written anywhere until a commit). */
  readonly scratch = new Map<string, TreeItem[]>();
  /** Blobs of the scan in progress: where their bytes are. */
  readonly scratchBlobs = new Map<string, () => Uint8Array>();
  /** Blobs of the scan that are LFS pointers made from a file of the mount (not in `scratchBlobs`). */
  readonly scratchLfs = new Map<string, ScratchLfsBlob>();

  constructor(private readonly o: MountTreeSourceOptions) {}

  /** Base trees fetched at once (a scan walks sub-directories concurrently). */
  private readonly fetches = new Semaphore(16);
  /** Trees read during this scan (a scan lists each touched base tree twice: to build, then to diff). */
  private readonly memo = new Map<string, TreeItem[]>();

  async listTree(path: string, treeId: string): Promise<TreeItem[]> {
    if (treeId === EMPTY_TREE_ID) return [];
    const mem = this.scratch.get(treeId) ?? this.memo.get(treeId);
    if (mem) return mem;
    const items = await this.readTree(path, treeId);
    this.memo.set(treeId, items);
    return items;
  }

  private async readTree(path: string, treeId: string): Promise<TreeItem[]> {
    for (const store of [this.o.objects, this.o.cache]) {
      const obj = store.read(treeId);
      if (obj) return treeItemsOf(obj.body);
    }
    const repoPath = joinRepo(this.o.mountPath, path);
    const release = await this.fetches.acquire();
    let body: Uint8Array | null;
    try {
      body = await fetchTreeBody(this.o.endpoint, repoPath, { oid: treeId });
      if (body === null && this.o.rootCommit) body = await fetchTreeBody(this.o.endpoint, repoPath, { refs: this.o.rootCommit });
    } finally {
      release();
    }
    if (body === null || objectId("tree", body) !== treeId) {
      throw new VcsError(
        "BASE_UNAVAILABLE",
        `the base tree ${treeId} of ${repoPath} is no longer served by ${this.o.endpoint.baseUrl} (main moved on since the mount was created); commit what the mount shows from a new mount`,
        409,
      );
    }
    this.o.cache.write("tree", body);
    return treeItemsOf(body);
  }

  async readBlob(oid: string): Promise<Uint8Array> {
    const mem = this.scratchBlobs.get(oid);
    if (mem) return mem();
    const lfs = this.scratchLfs.get(oid);
    if (lfs) return lfs.pointer();
    for (const store of [this.o.objects, this.o.cache]) {
      const obj = store.read(oid);
      if (obj) return obj.body;
    }
    // Base blobs are read only for renames and diffs; keep them so the next status does not ask again.
    const bytes = await this.o.client.fetchBlobVerified(oid);
    this.o.cache.write("blob", bytes);
    return bytes;
  }
}

/** Monorepo path of a mount-relative path. */
export function joinRepo(mountPath: string, rel: string): string {
  const base = mountPath === "/" ? "" : mountPath.replace(/\/+$/, "");
  return rel === "" ? base || "/" : `${base}/${rel}`;
}
