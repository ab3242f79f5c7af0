/**
 * @module cli/progress — a one-line progress bar for long CLI work (prefetch, warm-up, push).
 * Draws on stderr only when it is a TTY, at most ~10 times a second; otherwise every call is a no-op,
 * so piped output and logs stay clean.
 */

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string): unknown;
}

export interface Progress {
  /** Reports `done` of `total` units (total unknown → a counter instead of a bar). */
  update(done: number, total?: number, detail?: string): void;
  /** Clears the line. */
  finish(): void;
}

const NOOP: Progress = { update() {}, finish() {} };

/** Columns assumed when the terminal reports none (0 or undefined: some CI terminals and `script`). */
const FALLBACK_COLUMNS = 80;

export function createProgress(label: string, stream: ProgressStream = process.stderr, now: () => number = Date.now): Progress {
  if (!stream.isTTY) return NOOP;
  let last = 0;
  let drawn = false;
  let startedAt: number | undefined;
  return {
    update(done, total, detail) {
      const t = now();
      startedAt ??= t;
      if (drawn && t - last < 100 && done !== total) return;
      last = t;
      drawn = true;
      const elapsedSecs = (t - startedAt) / 1000;
      stream.write(`\r\x1b[2K${renderProgressLine(label, done, total, detail, stream.columns || FALLBACK_COLUMNS, elapsedSecs)}`);
    },
    finish() {
      if (drawn) stream.write("\r\x1b[2K");
      drawn = false;
    },
  };
}

/** `7s`, `2m05s`, `1h02m`: short enough for a progress line. */
function shortDuration(secs: number): string {
  const s = Math.max(0, Math.round(secs));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * The text of one progress line, cut to `width` columns. With `elapsedSecs` (and progress made), the rate
 * in units per second and, when the total is known, the ETA. Exported for tests.
 */
export function renderProgressLine(label: string, done: number, total: number | undefined, detail: string | undefined, width: number, elapsedSecs?: number): string {
  let line: string;
  if (total && total > 0) {
    const ratio = Math.min(1, Math.max(0, done / total));
    const barWidth = 24;
    const filled = Math.round(ratio * barWidth);
    line = `${label} [${"#".repeat(filled)}${"-".repeat(barWidth - filled)}] ${Math.floor(ratio * 100)}% ${done}/${total}`;
  } else {
    line = `${label} ${done}`;
  }
  if (detail) line += ` ${detail}`;
  if (elapsedSecs !== undefined && elapsedSecs > 0 && done > 0) {
    const rate = done / elapsedSecs;
    line += ` ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(1)}/s`;
    if (total && total > done) line += ` ETA ${shortDuration((total - done) / rate)}`;
  }
  const w = width > 0 ? width : FALLBACK_COLUMNS;
  return line.length > w - 1 ? line.slice(0, Math.max(0, w - 1)) : line;
}
