/**
 * @module dicfuse/watcher — background change detection. Every interval it asks the server for the
 * newest commit under the view's base path (one cheap request); when that changed, it re-checks the
 * loaded directories whose tree ids changed (`DicfuseView.refreshChanged`). Failures are logged and
 * retried next round; the watcher never stops on an error (the original's panicked).
 */
import { logger } from "../util/log.ts";
import { recordWatcherCheck } from "../util/metrics.ts";
import type { DicfuseView } from "./view.ts";

const log = logger("dicfuse/watcher");

export class ChangeWatcher {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastCommit: string | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Completed checks, for status and tests. */
  rounds = 0;

  constructor(private readonly view: DicfuseView, private readonly intervalMs: number) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.check().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.intervalMs);
    this.timer.unref?.();
  }

  /** One round: compare the newest commit, refresh what changed. */
  async check(): Promise<void> {
    try {
      const commit = await this.view.client.latestCommit(this.view.opts.basePath);
      if (commit.oid !== this.lastCommit) {
        const first = this.lastCommit === undefined;
        this.lastCommit = commit.oid;
        const changed = await this.view.refreshChanged();
        if (!first || changed > 0) log.info("remote changes applied", { commit: commit.oid, directories: changed });
      }
      recordWatcherCheck(true);
    } catch (err) {
      recordWatcherCheck(false);
      log.warn("change check failed; will retry", { error: err as Error });
    } finally {
      this.rounds++;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
