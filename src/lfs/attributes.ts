/**
 * @module lfs/attributes — git attribute files (`.gitattributes`, and Mega's `.libra_attributes`) and
 * git's rules for which line applies to a path (attr.c):
 *
 * - A file in directory D applies to paths below D. A pattern without `/` matches the basename at any
 *   depth; a pattern with `/` (a leading one included) is anchored at D and matched with `*` stopping at
 *   `/` and `**` spanning directories. A trailing `/` makes a directory-only pattern, which never applies
 *   to a file. Negative patterns (`!x`) are ignored, as git does.
 * - Precedence: deeper files over shallower, later lines over earlier, later attributes on a line over
 *   earlier. `-attr` unsets, `!attr` returns to unspecified (and hides shallower lines), `attr=v` sets a
 *   value, `attr` sets true.
 * - `[attr]name ...` macros may be defined in the root files only; a set macro expands to its attributes.
 *   `binary` (`-diff -merge -text`) is predefined.
 * - In one directory `.libra_attributes` is read after `.gitattributes`, so its lines win.
 *
 * Pure parsing and matching here; `LfsAttributes` adds the per-path lookup over any tree and a cache of
 * parsed files keyed by their content id.
 */
import { encodeName } from "../util/names.ts";
import { wildmatch } from "./wildmatch.ts";
import { setBounded } from "../util/bounded-map.ts";

/** An attribute's state for a path: true (set), false (unset), a string value, or undefined (unspecified). */
export type AttrValue = true | false | string | undefined;

/** What a line assigns; null is `!attr`: unspecified, but it hides lower-precedence lines. */
type Assigned = true | false | string | null;

interface Assignment {
  name: string;
  value: Assigned;
}

interface Rule {
  kind: "pattern";
  pattern: Uint8Array;
  /** No slash in the pattern: matched against the basename. */
  basenameOnly: boolean;
  /** Trailing slash: applies to directories only (never to files). */
  dirOnly: boolean;
  assignments: Assignment[];
}

interface Macro {
  kind: "macro";
  name: string;
  assignments: Assignment[];
}

/** One parsed attribute file, placed in the tree. */
export interface AttributeFile {
  /** Repository-relative directory, "" for the root, no leading or trailing slash. */
  readonly dir: string;
  readonly lines: ReadonlyArray<Rule | Macro>;
  /** git's warnings for ignored lines ("negative patterns are ignored", bad names, ...). */
  readonly warnings: readonly string[];
}

/** The names read in each directory, lowest precedence first. */
export const ATTRIBUTE_FILE_NAMES = [".gitattributes", ".libra_attributes"] as const;
export type AttributeFileName = (typeof ATTRIBUTE_FILE_NAMES)[number];

/** git ignores longer lines (ATTR_MAX_LINE_LENGTH) and larger files (ATTR_MAX_FILE_SIZE). */
export const ATTR_MAX_LINE_LENGTH = 2048;
export const ATTR_MAX_FILE_SIZE = 100 * 1024 * 1024;

const BLANK = " \t\r\n";
const isBlank = (c: string | undefined) => c !== undefined && BLANK.includes(c);
const ATTR_NAME = /^[-._A-Za-z0-9]+$/;
const validAttrName = (n: string) => ATTR_NAME.test(n) && !n.startsWith("-");

const BUILTIN: AttributeFile = {
  dir: "",
  lines: [{ kind: "macro", name: "binary", assignments: [{ name: "diff", value: false }, { name: "merge", value: false }, { name: "text", value: false }] }],
  warnings: [],
};

/** C-style unquoting of a `"..."` pattern (git's unquote_c_style); null when malformed. Returns the rest too. */
function unquote(s: string): { value: string; rest: string } | null {
  if (s[0] !== '"') return null;
  // `s` holds one byte per char (latin1), so char codes are the bytes.
  const bytes: number[] = [];
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') return { value: Buffer.from(bytes).toString("latin1"), rest: s.slice(i + 1) };
    if (c !== "\\") {
      bytes.push(c.charCodeAt(0));
      continue;
    }
    const e = s[++i];
    const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 92, '"': 34 };
    if (e !== undefined && e in simple) bytes.push(simple[e]!);
    else if (e !== undefined && /[0-3]/.test(e) && /^[0-7]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i, i + 3), 8));
      i += 2;
    } else return null;
  }
  return null;
}

/** Parses `attr`, `-attr`, `!attr`, `attr=value`; null for an invalid name (git drops the whole line). */
function parseAssignments(states: string): Assignment[] | null {
  const out: Assignment[] = [];
  for (const tok of states.split(/[ \t\r\n]+/).filter((t) => t !== "")) {
    const eq = tok.indexOf("=");
    let name = eq >= 0 ? tok.slice(0, eq) : tok;
    let value: Assigned;
    if (name.startsWith("-") || name.startsWith("!")) {
      value = name[0] === "-" ? false : null;
      name = name.slice(1);
    } else {
      value = eq >= 0 ? tok.slice(eq + 1) : true;
    }
    if (!validAttrName(name)) return null;
    out.push({ name, value });
  }
  return out;
}

/**
 * Parses an attribute file that lives in directory `dir` (repository-relative, "" = root). Macros are
 * honoured only in the root, as git does.
 */
export function parseAttributeFile(content: Uint8Array | string, dir: string, source = `${dir ? dir + "/" : ""}.gitattributes`): AttributeFile {
  const warnings: string[] = [];
  const lines: Array<Rule | Macro> = [];
  const size = typeof content === "string" ? Buffer.byteLength(content) : content.byteLength;
  if (size > ATTR_MAX_FILE_SIZE) return { dir, lines, warnings: [`ignoring overly large gitattributes file '${source}'`] };
  // git works on bytes; latin1 keeps every byte as one char so patterns round-trip to the same bytes.
  const text = typeof content === "string" ? Buffer.from(content, "utf8").toString("latin1") : Buffer.from(content).toString("latin1");
  const macroOk = dir === "";
  text.split("\n").forEach((raw, index) => {
    const lineno = index + 1;
    if (raw.length >= ATTR_MAX_LINE_LENGTH) {
      warnings.push(`ignoring overly long attributes line ${lineno} in ${source}`);
      return;
    }
    let i = 0;
    while (isBlank(raw[i])) i++;
    const line = raw.slice(i);
    if (line === "" || line[0] === "#") return;
    let name: string;
    let states: string;
    const quoted = unquote(line);
    if (quoted) {
      name = quoted.value;
      states = quoted.rest;
    } else {
      let n = 0;
      while (n < line.length && !isBlank(line[n])) n++;
      name = line.slice(0, n);
      states = line.slice(n);
    }
    if (name.length > "[attr]".length && name.startsWith("[attr]")) {
      if (!macroOk) {
        warnings.push(`${name} not allowed: ${source}:${lineno}`);
        return;
      }
      const macroName = (name.slice("[attr]".length) + states).replace(/^[ \t\r\n]+/, "");
      const m = /^[^ \t\r\n]*/.exec(macroName)![0];
      if (!validAttrName(m)) {
        warnings.push(`${JSON.stringify(m)} is not a valid attribute name: ${source}:${lineno}`);
        return;
      }
      const assignments = parseAssignments(macroName.slice(m.length));
      if (!assignments) return warnings.push(`invalid attribute name on ${source}:${lineno}`), undefined;
      lines.push({ kind: "macro", name: m, assignments });
      return;
    }
    const assignments = parseAssignments(states);
    if (!assignments) {
      warnings.push(`invalid attribute name on ${source}:${lineno}`);
      return;
    }
    if (name.startsWith("!")) {
      warnings.push(`Negative patterns are ignored in git attributes (${source}:${lineno}); use '\\!' for a literal leading exclamation`);
      return;
    }
    let pat = name;
    const dirOnly = pat.endsWith("/");
    if (dirOnly) pat = pat.slice(0, -1);
    const basenameOnly = !pat.includes("/");
    if (pat.startsWith("/")) pat = pat.slice(1);
    lines.push({ kind: "pattern", pattern: Buffer.from(pat, "latin1"), basenameOnly, dirOnly, assignments });
  });
  return { dir, lines, warnings };
}

function ruleMatches(rule: Rule, rel: Uint8Array): boolean {
  if (rule.dirOnly) return false;
  if (rule.basenameOnly) {
    const slash = rel.lastIndexOf(0x2f);
    return wildmatch(rule.pattern, slash < 0 ? rel : rel.subarray(slash + 1), { pathname: false });
  }
  return wildmatch(rule.pattern, rel, { pathname: true });
}

/** The directories whose attribute files apply to `path`, root first: "", "a", "a/b" for "a/b/c". */
export function attributeDirs(path: string): string[] {
  const parts = path.split("/").filter((p) => p !== "");
  const dirs = [""];
  for (let i = 1; i < parts.length; i++) dirs.push(parts.slice(0, i).join("/"));
  return dirs;
}

/**
 * The value of attribute `attr` for file `path` (repository-relative) given the attribute files that
 * apply to it (any order; each file's `dir` must be an ancestor of `path`, files of one directory in
 * precedence order). This is `git check-attr <attr> -- <path>`.
 */
export function checkAttr(files: readonly AttributeFile[], path: string, attr: string): AttrValue {
  const rel = path.replace(/^\/+/, "");
  const depth = (d: string) => (d === "" ? 0 : d.split("/").length);
  // Stable sort: deeper directories first; within a directory the later file first.
  const stack = files.map((f, i) => ({ f, i })).sort((a, b) => depth(b.f.dir) - depth(a.f.dir) || b.i - a.i).map((x) => x.f);
  stack.push(BUILTIN);

  const macros = new Map<string, Macro>();
  for (const f of stack) {
    for (let i = f.lines.length - 1; i >= 0; i--) {
      const l = f.lines[i]!;
      if (l.kind === "macro" && !macros.has(l.name)) macros.set(l.name, l);
    }
  }

  const known = new Map<string, Assigned>();
  const fillOne = (assignments: readonly Assignment[]) => {
    for (let i = assignments.length - 1; i >= 0; i--) {
      const { name, value } = assignments[i]!;
      if (known.has(name)) continue;
      known.set(name, value);
      const macro = macros.get(name);
      if (macro && value === true) fillOne(macro.assignments);
    }
  };
  const pathBytes = encodeName(rel);
  for (const f of stack) {
    if (f.dir !== "" && !(rel.startsWith(f.dir + "/"))) continue;
    const sub = f.dir === "" ? pathBytes : pathBytes.subarray(encodeName(f.dir + "/").length);
    for (let i = f.lines.length - 1; i >= 0; i--) {
      const l = f.lines[i]!;
      if (l.kind === "pattern" && ruleMatches(l, sub)) fillOne(l.assignments);
      if (known.has(attr)) return known.get(attr) ?? undefined;
    }
  }
  return known.get(attr) ?? undefined;
}

/** A file as the tree holds it: an id that changes when its content changes (a blob oid) and a loader. */
export interface AttributeFileRef {
  id: string;
  load(): Promise<Uint8Array>;
}

/** Where attribute files come from: the read-only view, a job mount's merged view, a git tree. */
export interface AttributeSource {
  /** The regular file `name` in directory `dir` ("" = root), or null when there is none. */
  lookup(dir: string, name: AttributeFileName): Promise<AttributeFileRef | null>;
}

/** Whether `filter=lfs` applies to each path of a tree, with parsed attribute files cached by content id. */
export class LfsAttributes {
  private readonly parsed = new Map<string, AttributeFile>();

  constructor(
    private readonly source: AttributeSource,
    private readonly maxCachedFiles = 4096,
  ) {}

  /** `git check-attr filter -- path` is `lfs`. */
  async isLfsPath(path: string): Promise<boolean> {
    return (await this.attribute(path, "filter")) === "lfs";
  }

  async attribute(path: string, attr: string): Promise<AttrValue> {
    const rel = path.split("/").filter((p) => p !== "").join("/");
    const files: AttributeFile[] = [];
    for (const dir of attributeDirs(rel)) {
      for (const name of ATTRIBUTE_FILE_NAMES) {
        const ref = await this.source.lookup(dir, name);
        if (ref) files.push(await this.parse(dir, name, ref));
      }
    }
    return checkAttr(files, rel, attr);
  }

  private async parse(dir: string, name: AttributeFileName, ref: AttributeFileRef): Promise<AttributeFile> {
    // Macros are honoured in the root only, so the same content parses differently there.
    const key = `${dir === "" ? "root" : "sub"}:${name}:${ref.id}`;
    const file = this.parsed.get(key) ?? parseAttributeFile(await ref.load(), dir, `${dir ? dir + "/" : ""}${name}`);
    setBounded(this.parsed, key, file, this.maxCachedFiles); // a hit moves to the newest end
    // The same content may sit in several directories: place it where it was found.
    return file.dir === dir ? file : { ...file, dir };
  }
}
