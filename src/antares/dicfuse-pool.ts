/**
 * @module antares/dicfuse-pool — which read-only view a job mount sits on (§5.4.2).
 *
 * `/` → the root view (in `scorpio serve` the workspace's own view; in `antares serve` one opened
 * lazily over `store_path`). Any other base path → its own `DicfuseView` (its own tree store at
 * `{store_path}/dicfuse/{16 hex of sha256(path)}`; content comes from the process's one object store),
 * tuned by the `antares_dicfuse_*` keys, created once per process and shared by every mount of that
 * path. `get(path, { pinnedCommit })` hands out a view pinned at a commit instead (shared by every
 * mount at the same (path, commit); it never follows the watcher). A view is handed out once its root
 * listing is loaded (bounded wait); pre-loading and change watching continue in the background. A view
 * whose first load fails is dropped so that a later request can retry.
 *
 * Job mounts take views with `acquire` (reference-counted): a pinned view is closed, and its tree
 * store removed, when its last job lets go — a later job at that commit opens it again. Following
 * views stay open for the life of the process (the legacy checkouts take them with `get`).
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { ScorpioConfig } from "../config/index.ts";
import { ChangeWatcher, treeDirFor, type DicfuseView, type ReadPath } from "../dicfuse/index.ts";
import { ROOT_INO, type Oid, type ViewTreeStore } from "../store/index.ts";
import { Errno, errnoOf } from "../util/errno.ts";
import { writeFileAtomicSync } from "../util/atomic-write.ts";
import { logger } from "../util/log.ts";
import { fuseFailure, invalidRequest, messageOf } from "./errors.ts";

const log = logger("antares/dicfuse");

/** The original waited this long for a view to become ready. */
export const VIEW_READY_TIMEOUT_MS = 120_000;

export interface PooledView {
  view: DicfuseView;
  /** "shared" for the root view, otherwise the store directory (shown in `layers.dicfuse`). */
  label: string;
}

/** A view held by one job mount: `release` it exactly once when the job stops using it. */
export interface ViewLease extends PooledView {
  readonly pinnedCommit: Oid | null;
  release(): Promise<void>;
}

interface Entry {
  ready: Promise<PooledView>;
  tree?: ViewTreeStore;
  watcher?: ChangeWatcher;
  /** Leases held (`acquire`); a pinned entry closes when this drops to 0. */
  refs: number;
  /** A pinned view's tree store directory (known before it is opened). */
  pinnedDir: string | null;
}

function keyOf(basePath: string, pinned: Oid | null): string {
  return pinned ? `${basePath}@${pinned}` : basePath;
}

/** File in a pinned view's tree store naming its (path, commit): how `gc` tells pinned stores from following ones. */
export const PINNED_STORE_MARKER = "pinned-view";

export function storeDirFor(storePath: string, basePath: string, pinnedCommit?: Oid | null): string {
  return treeDirFor(storePath, basePath, pinnedCommit);
}

export class DicfusePool {
  private readonly entries = new Map<string, Entry>();
  /** Pinned views being closed, by key: a new acquire of the same key waits (same tree directory). */
  private readonly closing = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly config: ScorpioConfig,
    /** The process's read path (object store + view factory), opened on first use in `antares serve`. */
    private readonly readPath: () => Promise<ReadPath>,
    /** The root view: the workspace's, or one opened on first use. */
    private readonly rootView: () => Promise<DicfuseView>,
    private readonly readyTimeoutMs = VIEW_READY_TIMEOUT_MS,
  ) {}

  /** Views opened so far (for status and tests). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The ready view for a normalised base path: following the server, or pinned at `pinnedCommit`
   * (one line for the caller: pass the commit recorded at mount creation to pin a job's lower layer).
   */
  async get(basePath: string, opts: { pinnedCommit?: Oid | null } = {}): Promise<PooledView> {
    return this.entryFor(basePath, opts.pinnedCommit ?? null).ready;
  }

  /** Tree store directories of the pinned views open, being opened or being closed (gc spares them). */
  pinnedDirsInUse(): Set<string> {
    const out = new Set<string>();
    for (const e of this.entries.values()) if (e.pinnedDir) out.add(e.pinnedDir);
    for (const key of this.closing.keys()) {
      const at = key.lastIndexOf("@");
      out.add(storeDirFor(this.config.store_path, key.slice(0, at), key.slice(at + 1) as Oid));
    }
    return out;
  }

  /** Pinned views open now (for status and tests). */
  get pinnedCount(): number {
    return [...this.entries.keys()].filter((k) => k.includes("@")).length;
  }

  /**
   * Like `get`, for a job mount: the view stays open until the lease is released; a pinned view
   * whose last lease goes is closed and its tree store removed.
   */
  async acquire(basePath: string, opts: { pinnedCommit?: Oid | null } = {}): Promise<ViewLease> {
    const pinned = opts.pinnedCommit ?? null;
    const key = keyOf(basePath, pinned);
    await this.closing.get(key);
    const e = this.entryFor(basePath, pinned);
    e.refs++;
    let pooled: PooledView;
    try {
      pooled = await e.ready;
    } catch (err) {
      e.refs--;
      throw err;
    }
    let released = false;
    return {
      ...pooled,
      pinnedCommit: pinned,
      release: async () => {
        if (released) return;
        released = true;
        e.refs--;
        if (e.refs > 0 || !pinned || this.entries.get(key) !== e) return;
        this.entries.delete(key);
        const done = this.closeEntry(e, { removeStore: true }).finally(() => {
          if (this.closing.get(key) === done) this.closing.delete(key);
        });
        this.closing.set(key, done);
        await done;
        log.info("pinned view closed (its last job mount went)", { path: basePath, commit: pinned });
      },
    };
  }

  private entryFor(basePath: string, pinned: Oid | null): Entry {
    if (this.closed) throw fuseFailure("the Dicfuse pool is shut down");
    const key = keyOf(basePath, pinned);
    let e = this.entries.get(key);
    if (!e) {
      const entry: Entry = { ready: Promise.resolve(undefined as never), refs: 0, pinnedDir: pinned ? storeDirFor(this.config.store_path, basePath, pinned) : null };
      entry.ready = this.open(basePath, pinned, entry);
      e = entry;
      this.entries.set(key, e);
      // A failed first load must not poison the cache.
      entry.ready.catch(() => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
        void this.closeEntry(entry);
      });
    }
    return e;
  }

  private async open(basePath: string, pinnedCommit: Oid | null, entry: Entry): Promise<PooledView> {
    let view: DicfuseView;
    if (basePath === "/" && !pinnedCommit) view = await this.rootView();
    else {
      const rp = await this.readPath();
      const opened = rp.openView({ basePath, tuning: "subpath", pinnedCommit });
      entry.tree = opened.tree;
      view = opened.view;
      if (pinnedCommit) writeFileAtomicSync(join(opened.tree.path, PINNED_STORE_MARKER), `${basePath}@${pinnedCommit}\n`);
    }
    await this.waitReady(view, basePath);
    if (entry.tree) {
      const depth = this.config.antares_load_dir_depth;
      const watcher = new ChangeWatcher(view, view.opts.watchIntervalMs, view.opts.requestDeadlineMs);
      entry.watcher = watcher;
      void view
        .preloadDirs(depth)
        .then((n) => log.debug("directories pre-loaded", { path: basePath, count: n }))
        .catch((err) => log.warn("pre-load failed; directories load on first use", { path: basePath, error: err as Error }))
        .finally(() => {
          if (!this.closed) watcher.start();
        });
    }
    return { view, label: entry.tree ? entry.tree.path : "shared" };
  }

  /** Ready = the root listing is loaded (it is what the mount root shows first). */
  private async waitReady(view: DicfuseView, basePath: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(fuseFailure(`Dicfuse initialization timed out for path '${basePath}' after ${Math.round(this.readyTimeoutMs / 1000)}s. Check network connectivity to the monorepo server.`)),
        this.readyTimeoutMs,
      );
    });
    try {
      await Promise.race([view.ensureLoaded(ROOT_INO), timeout]);
    } catch (err) {
      if (errnoOf(err) === Errno.ENOENT) throw invalidRequest(`path '${basePath}' does not exist in the monorepo`);
      if (err instanceof Error && err.name === "AntaresError") throw err;
      throw fuseFailure(`Dicfuse initialization failed for path '${basePath}': ${messageOf(err)}`);
    } finally {
      clearTimeout(timer);
    }
    if (basePath !== "/") {
      // Mega answers an empty listing for a missing path; tell the two apart once.
      const root = view.tree.inodes.listChildren(ROOT_INO);
      if (root.length === 0 && (await (await this.readPath()).client.dirHash(basePath).catch(() => "unknown")) === null) {
        throw invalidRequest(`path '${basePath}' does not exist in the monorepo`);
      }
    }
  }

  private async closeEntry(e: Entry, opts: { removeStore?: boolean } = {}): Promise<void> {
    await e.watcher?.stop();
    try {
      e.tree?.close();
    } catch (err) {
      log.warn("closing a Dicfuse store failed", { error: err as Error });
    }
    // A pinned view's tree store is only an inode table over content-addressed trees: cheap to rebuild.
    if (opts.removeStore && e.tree) await rm(e.tree.path, { recursive: true, force: true }).catch((err) => log.warn("removing a pinned view's tree store failed", { dir: e.tree!.path, error: err as Error }));
  }

  /** Stops watchers and closes the per-path tree stores (the root view belongs to its opener). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map(async (e) => {
      await e.ready.catch(() => {});
      await this.closeEntry(e);
    }));
  }
}
