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

export function createProgress(label: string, stream: ProgressStream = process.stderr, now: () => number = Date.now): Progress {
  if (!stream.isTTY) return NOOP;
  let last = 0;
  let drawn = false;
  return {
    update(done, total, detail) {
      const t = now();
      if (drawn && t - last < 100 && done !== total) return;
      last = t;
      drawn = true;
      stream.write(`\r\x1b[2K${renderProgressLine(label, done, total, detail, stream.columns ?? 80)}`);
    },
    finish() {
      if (drawn) stream.write("\r\x1b[2K");
      drawn = false;
    },
  };
}

/** The text of one progress line, cut to `width` columns. Exported for tests. */
export function renderProgressLine(label: string, done: number, total: number | undefined, detail: string | undefined, width: number): string {
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
  return line.length > width - 1 ? line.slice(0, Math.max(0, width - 1)) : line;
}
