/**
 * @module dicfuse/from-config — the one place a view's store and tuning are derived from the
 * configuration: the root view uses the `dicfuse_*` keys, sub-path views (Antares) the `antares_*`
 * ones. Every daemon (workspace, Antares job mounts, legacy checkouts) opens its views through here.
 */
import type { ScorpioConfig } from "../config/index.ts";
import type { MegaClient } from "../remote/index.ts";
import { openLocalStore, type LocalStore } from "../store/index.ts";
import { DicfuseView } from "./view.ts";

export type ViewTuning = "root" | "subpath";

export async function openViewFromConfig(
  config: ScorpioConfig,
  client: MegaClient,
  opts: { basePath: string; storePath: string; tuning: ViewTuning },
): Promise<{ view: DicfuseView; store: LocalStore }> {
  const store = await openLocalStore({
    path: opts.storePath,
    cacheMaxBytes: config.cache_max_bytes > 0 ? config.cache_max_bytes : Number.MAX_SAFE_INTEGER,
    // The blob cache holds verified copies of server data, not user data: a blob torn by a crash is
    // caught on open (size check, and a re-hash after an unclean shutdown) and fetched again, so a
    // per-blob fsync would buy nothing but latency.
    fsyncBlobs: false,
  });
  const root = opts.tuning === "root";
  const replyTtlSecs = root ? config.dicfuse_reply_ttl_secs : config.antares_dicfuse_reply_ttl_secs;
  const view = new DicfuseView(store, client, {
    basePath: opts.basePath,
    dirSyncTtlMs: (root ? config.dicfuse_dir_sync_ttl_secs : config.antares_dicfuse_dir_sync_ttl_secs) * 1000,
    replyTtlSecs,
    statMode: root ? config.dicfuse_stat_mode : config.antares_dicfuse_stat_mode,
    loadDirDepth: root ? config.load_dir_depth : config.antares_load_dir_depth,
    watchIntervalMs: config.dicfuse_watch_interval_secs * 1000,
    negativeTtlSecs: Math.min(5, Math.max(1, replyTtlSecs)),
    dirReadahead: config.dicfuse_dir_readahead,
  });
  return { view, store };
}
