/**
 * @module dicfuse/from-config — the read path of one process, built from the configuration: the one
 * `ObjectStore` (blob cache, raw trees, downloads) over the store at `store_path` with the Mega client
 * as its backing store, and every view opened on top of it. The root view uses the `dicfuse_*` keys,
 * sub-path views (Antares, legacy checkouts) the `antares_*` ones; all share the one cache and budget.
 *
 * Following or pinned is one argument of `openView`: `pinnedCommit` absent = follow the server (the
 * workspace; its watcher moves it), given = stay at that commit forever (a job's lower layer).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { ScorpioConfig } from "../config/index.ts";
import { lfsClientFor } from "../lfs/from-config.ts";
import { LfsObjects } from "../store/lfs-objects.ts";
import type { MegaClient } from "../remote/index.ts";
import { ObjectStore, openLocalStore, TreeStore, type LocalStore, type Oid, type ViewTreeStore } from "../store/index.ts";
import { DicfuseView } from "./view.ts";

export type ViewTuning = "root" | "subpath";

/**
 * Kernel entry/attribute lifetime of loaded entries. Long, because every change the view applies is
 * pushed to the kernel as an invalidation (as EdenFS does); a short TTL only sends warm stats back here.
 */
export const KERNEL_TTL_SECS = 24 * 3600;

export interface ReadPath {
  readonly config: ScorpioConfig;
  readonly client: MegaClient;
  /** The store at `store_path`: blob cache, raw trees, and the root view's tree. */
  readonly store: LocalStore;
  readonly objects: ObjectStore;
  /**
   * Opens a view of `basePath`: following the server when `pinnedCommit` is absent, pinned at that
   * commit otherwise. The root path's following view uses the store's own tree; any other view gets
   * its own tree store (one per path, or per path and commit when pinned), closed with the view.
   */
  openView(opts: { basePath: string; tuning: ViewTuning; pinnedCommit?: Oid | null }): { view: DicfuseView; tree: ViewTreeStore };
  close(): void;
}

/** Where the tree of a sub-path view lives: `{store_path}/dicfuse/{16 hex of sha256(path[@commit])}`. */
export function treeDirFor(storePath: string, basePath: string, pinnedCommit?: Oid | null): string {
  const key = pinnedCommit ? `${basePath}@${pinnedCommit}` : basePath;
  return join(storePath, "dicfuse", createHash("sha256").update(key).digest("hex").slice(0, 16));
}

/** The watcher interval: `watch_interval_secs`, shortened to the dir TTL (a change is seen within it). */
export function watchIntervalMs(config: ScorpioConfig, tuning: ViewTuning): number {
  const ttl = tuning === "root" ? config.dicfuse_dir_sync_ttl_secs : config.antares_dicfuse_dir_sync_ttl_secs;
  const candidates = [Math.max(1, ttl)];
  if (config.dicfuse_watch_interval_secs > 0) candidates.push(config.dicfuse_watch_interval_secs);
  return Math.min(...candidates) * 1000;
}

export async function openReadPath(config: ScorpioConfig, client: MegaClient): Promise<ReadPath> {
  const store = await openLocalStore({
    path: config.store_path,
    cacheMaxBytes: config.cache_max_bytes > 0 ? config.cache_max_bytes : Number.MAX_SAFE_INTEGER,
    // The blob cache holds verified copies of server data, not user data: a blob torn by a crash is
    // caught on open (size check, and a re-hash after an unclean shutdown) and fetched again, so a
    // per-blob fsync would buy nothing but latency.
    fsyncBlobs: false,
  });
  const objects = new ObjectStore(store.blobs, store.trees, client, { downloadConcurrency: config.fetch_file_thread });
  // LFS files are shown with their objects (fetched through `lfs_url`, cached like blobs); docs/lfs.md.
  objects.lfs = new LfsObjects(store.blobs, store.lfs, lfsClientFor(config, { token: config.mega_token || undefined }));
  const open = new Set<ViewTreeStore>();
  return {
    config,
    client,
    store,
    objects,
    openView(opts) {
      const root = opts.tuning === "root";
      const shared = opts.basePath === "/" && !opts.pinnedCommit;
      const tree: ViewTreeStore = shared ? store : TreeStore.open(treeDirFor(config.store_path, opts.basePath, opts.pinnedCommit));
      if (!shared) open.add(tree);
      const negativeTtl = root ? config.dicfuse_reply_ttl_secs : config.antares_dicfuse_reply_ttl_secs;
      const view = new DicfuseView(tree, objects, {
        basePath: opts.basePath,
        pinnedCommit: opts.pinnedCommit ?? null,
        replyTtlSecs: KERNEL_TTL_SECS,
        requestDeadlineMs: config.dicfuse_fetch_dir_timeout_secs * 1000,
        statMode: root ? config.dicfuse_stat_mode : config.antares_dicfuse_stat_mode,
        loadDirDepth: root ? config.load_dir_depth : config.antares_load_dir_depth,
        watchIntervalMs: opts.pinnedCommit ? 0 : watchIntervalMs(config, opts.tuning),
        negativeTtlSecs: negativeTtl,
        dirReadahead: config.dicfuse_dir_readahead,
      });
      return {
        view,
        tree: {
          path: tree.path,
          inodes: tree.inodes,
          close: () => {
            if (shared) return;
            open.delete(tree);
            tree.close();
          },
        },
      };
    },
    close() {
      for (const t of open) t.close();
      open.clear();
      objects.close();
      store.close();
    },
  };
}
