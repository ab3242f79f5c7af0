/**
 * @module vcs/ignore-rules — `.gitignore` as git applies it, with the `ignore` package doing the pattern
 * matching (negations, directory-only patterns, `**`, anchored and unanchored patterns). Each directory's
 * `.gitignore` applies to paths below it; for one path the rules are tried from the mount root down, and
 * the deepest level that has an opinion (ignored or re-included) wins, as in git. Ignored directories
 * are not descended into, so a file under one cannot be re-included (git's rule too).
 */
import ignore, { type Ignore } from "ignore";

interface Level {
  /** Mount-relative directory the rules belong to ("" = the mount root). */
  dir: string;
  rules: Ignore;
}

export class IgnoreStack {
  private constructor(private readonly levels: readonly Level[]) {}

  static empty(): IgnoreStack {
    return new IgnoreStack([]);
  }

  /** This stack plus the rules of `dir`'s `.gitignore` (text may be null: no file). */
  with(dir: string, text: string | null): IgnoreStack {
    if (text === null || text.trim() === "") return this;
    // git reads the file as bytes; a leading BOM is not part of the first pattern.
    const rules = ignore({ allowRelativePaths: true }).add(text.replace(/^\uFEFF/, ""));
    return new IgnoreStack([...this.levels, { dir, rules }]);
  }

  /** Whether the untracked entry at mount-relative `path` (a directory when `isDir`) is ignored. */
  ignores(path: string, isDir: boolean): boolean {
    let ignored = false;
    for (const l of this.levels) {
      const rel = l.dir === "" ? path : path.startsWith(l.dir + "/") ? path.slice(l.dir.length + 1) : null;
      if (rel === null || rel === "") continue;
      const r = l.rules.test(isDir ? rel + "/" : rel);
      if (r.ignored) ignored = true;
      else if (r.unignored) ignored = false;
    }
    return ignored;
  }
}
