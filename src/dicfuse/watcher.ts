/**
 * @module dicfuse/watcher — how a following view learns of new commits. Every interval it asks the
 * server for the newest commit under the view's base path (one cheap request); when that differs from
 * the commit the view was last brought up to (persisted in its tree store, so a restart compares with
 * the last run's), it applies the change top-down (`DicfuseView.refreshChanged`) and records the new
 * commit. Failures are logged and retried next round; the watcher never stops on an error (the
 * original's panicked). Pinned views have no watcher.
 */
import { logger } from "../util/log.ts";
import { recordWatcherCheck } from "../util/metrics.ts";
import { ROOT_INO } from "../store/index.ts";
import type { DicfuseView } from "./view.ts";

const log = logger("dicfuse/watcher");

export class ChangeWatcher {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Completed checks, and rounds that found a new commit, for status and tests. */
  rounds = 0;
  applied = 0;

  constructor(
    private readonly view: DicfuseView,
    private readonly intervalMs: number,
    /** Deadline of the one request of a round. */
    private readonly deadlineMs = 10_000,
  ) {}

  /** Starts watching; the first round runs at once (a restarted daemon learns at start whether it is behind). */
  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.check().finally(() => {
        this.running = undefined;
        this.schedule(this.intervalMs);
      });
    }, delayMs);
    this.timer.unref?.();
  }

  /** One round: compare the newest commit, refresh what changed. */
  async check(): Promise<void> {
    try {
      if (this.view.pinned) return;
      // The root listing first (the mount needs it anyway): a commit is only recorded for a tree that is
      // at least as new as it, so a restart can trust it.
      await this.view.ensureLoaded(ROOT_INO);
      const commit = await this.view.objects.backing.latestCommit(this.view.opts.basePath, { signal: AbortSignal.timeout(this.deadlineMs) });
      const seen = this.view.commit;
      if (commit.oid !== seen) {
        const changed = await this.view.refreshChanged();
        this.view.setCommit(commit.oid);
        this.applied++;
        if (seen !== null || changed > 0) log.info("remote changes applied", { commit: commit.oid, directories: changed });
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
