/**
 * @module antares/dicfuse-pool — which read-only view a job mount sits on (§5.4.2).
 *
 * `/` → the root view (in `scorpio serve` the workspace's own view; in `antares serve` one opened
 * lazily over `store_path`). Any other base path → its own `DicfuseView` over its own store at
 * `{store_path}/dicfuse/{first 16 hex of sha256(path)}`, tuned by the `antares_dicfuse_*` keys,
 * created once per process and shared by every mount of that path. A view is handed out once its
 * root listing is loaded (bounded wait); directory pre-loading and change watching continue in the
 * background. A view whose first load fails is dropped so that a later request can retry.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { ScorpioConfig } from "../config/index.ts";
import { ChangeWatcher, openViewFromConfig, type DicfuseView } from "../dicfuse/index.ts";
import type { MegaClient } from "../remote/index.ts";
import { ROOT_INO, type LocalStore } from "../store/index.ts";
import { Errno, errnoOf } from "../util/errno.ts";
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

interface Entry {
  ready: Promise<PooledView>;
  store?: LocalStore;
  watcher?: ChangeWatcher;
}

export function storeDirFor(storePath: string, basePath: string): string {
  return join(storePath, "dicfuse", createHash("sha256").update(basePath).digest("hex").slice(0, 16));
}

export class DicfusePool {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(
    private readonly config: ScorpioConfig,
    private readonly client: MegaClient,
    /** The root view: the workspace's, or one opened on first use. */
    private readonly rootView: () => Promise<DicfuseView>,
    private readonly readyTimeoutMs = VIEW_READY_TIMEOUT_MS,
  ) {}

  /** Views opened so far (for status and tests). */
  get size(): number {
    return this.entries.size;
  }

  /** The ready view for a normalised base path. */
  async get(basePath: string): Promise<PooledView> {
    if (this.closed) throw fuseFailure("the Dicfuse pool is shut down");
    let e = this.entries.get(basePath);
    if (!e) {
      const entry: Entry = { ready: Promise.resolve(undefined as never) };
      entry.ready = this.open(basePath, entry);
      e = entry;
      this.entries.set(basePath, e);
      // A failed first load must not poison the cache.
      entry.ready.catch(() => {
        if (this.entries.get(basePath) === entry) this.entries.delete(basePath);
        void this.closeEntry(entry);
      });
    }
    return e.ready;
  }

  private async open(basePath: string, entry: Entry): Promise<PooledView> {
    let view: DicfuseView;
    if (basePath === "/") view = await this.rootView();
    else {
      const opened = await openViewFromConfig(this.config, this.client, { basePath, storePath: storeDirFor(this.config.store_path, basePath), tuning: "subpath" });
      entry.store = opened.store;
      view = opened.view;
    }
    await this.waitReady(view, basePath);
    if (basePath !== "/") {
      const depth = this.config.antares_load_dir_depth;
      const watcher = new ChangeWatcher(view, view.opts.watchIntervalMs);
      entry.watcher = watcher;
      void view
        .preloadDirs(depth)
        .then((n) => log.debug("directories pre-loaded", { path: basePath, count: n }))
        .catch((err) => log.warn("pre-load failed; directories load on first use", { path: basePath, error: err as Error }))
        .finally(() => {
          if (!this.closed) watcher.start();
        });
    }
    return { view, label: basePath === "/" ? "shared" : storeDirFor(this.config.store_path, basePath) };
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
      await Promise.race([view.ensureFresh(ROOT_INO), timeout]);
    } catch (err) {
      if (errnoOf(err) === Errno.ENOENT) throw invalidRequest(`path '${basePath}' does not exist in the monorepo`);
      if (err instanceof Error && err.name === "AntaresError") throw err;
      throw fuseFailure(`Dicfuse initialization failed for path '${basePath}': ${messageOf(err)}`);
    } finally {
      clearTimeout(timer);
    }
    if (basePath !== "/") {
      // Mega answers an empty listing for a missing path; tell the two apart once.
      const root = view.store.inodes.listChildren(ROOT_INO);
      if (root.length === 0 && (await view.client.dirHash(basePath).catch(() => "unknown")) === null) {
        throw invalidRequest(`path '${basePath}' does not exist in the monorepo`);
      }
    }
  }

  private async closeEntry(e: Entry): Promise<void> {
    await e.watcher?.stop();
    try {
      e.store?.close();
    } catch (err) {
      log.warn("closing a Dicfuse store failed", { error: err as Error });
    }
  }

  /** Stops watchers and closes the per-path stores (the root view belongs to its opener). */
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
