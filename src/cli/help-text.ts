/**
 * @module cli/help-text — help and error text touch-ups clipanion cannot be configured for: option values
 * are shown as `#0`; we show what they are (`--endpoint <url>`). Also the closest command to a mistyped one.
 */

/** What each option's value is; options not listed show `<value>`. */
const PLACEHOLDERS: Record<string, string> = {
  "--endpoint": "<url>",
  "--bind": "<ip:port>",
  "--addr": "<ip:port>",
  "--http-addr": "<ip:port>",
  "--config-path": "<path>",
  "--upper-root": "<path>",
  "--cl-root": "<path>",
  "--mount-root": "<path>",
  "--state-file": "<path>",
  "--repo": "<path>",
  "--bundle": "<path>",
  "--log-level": "<directive>",
  "--cl": "<cl>",
  "--job-id": "<job-id>",
  "--mount-id": "<mount-id>",
  "--target": "<size>",
  "--interval": "<secs>",
  "--count": "<n>",
};

/** Replaces clipanion's `--name #0` value markers with named placeholders, keeping option tables aligned. */
export function withPlaceholders(text: string): string {
  const named = text.replace(/(--[a-z][a-z0-9-]*)((?: #\d+)+)/g, (_m, name: string, marks: string) => {
    const placeholder = PLACEHOLDERS[name] ?? "<value>";
    return name + marks.replace(/#\d+/g, placeholder);
  });
  return realignOptionRows(named);
}

/** Option rows (`  --x <v>   description`) in runs: re-pad the description column after the renaming. */
function realignOptionRows(text: string): string {
  const lines = text.split("\n");
  const row = /^(  -\S.*?) {2,}(\S.*)$/;
  for (let i = 0; i < lines.length; ) {
    let j = i;
    while (j < lines.length && row.test(lines[j]!)) j++;
    if (j > i) {
      const rows = lines.slice(i, j).map((l) => row.exec(l)!);
      const width = Math.max(...rows.map((m) => m[1]!.length));
      rows.forEach((m, k) => (lines[i + k] = `${m[1]!.padEnd(width)}    ${m[2]}`));
      i = j;
    } else i++;
  }
  return lines.join("\n");
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** The known word closest to `word` when it is plausibly a typo (distance ≤ 2, or a prefix), else undefined. */
export function closestWord(word: string, known: readonly string[]): string | undefined {
  let best: { w: string; d: number } | undefined;
  for (const w of known) {
    const d = w.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, w);
    if (!best || d < best.d) best = { w, d };
  }
  return best && best.d <= (word.length >= 4 ? 2 : 1) ? best.w : undefined;
}
