/**
 * @module lfs/wildmatch — git's glob matcher (wildmatch.c), on bytes, so `.gitattributes` patterns match
 * exactly the paths git matches: `*`, `?`, `[...]` with ranges, `!`/`^` negation and `[:class:]`, backslash
 * escapes, and with `pathname` set, `*` stops at `/` while `**` between slashes spans directories.
 * Pure functions.
 */

const MATCH = 0;
const NOMATCH = 1;
const ABORT_ALL = -1;
const ABORT_TO_STARSTAR = -2;

const SLASH = 0x2f;
const STAR = 0x2a;
const QUESTION = 0x3f;
const BACKSLASH = 0x5c;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COLON = 0x3a;
const DASH = 0x2d;

const isGlobSpecial = (c: number | undefined) => c === STAR || c === QUESTION || c === LBRACKET || c === BACKSLASH;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isUpper = (c: number) => c >= 0x41 && c <= 0x5a;
const isLower = (c: number) => c >= 0x61 && c <= 0x7a;
const isAlpha = (c: number) => isUpper(c) || isLower(c);
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isPrint = (c: number) => c >= 0x20 && c <= 0x7e;
const isGraph = (c: number) => c > 0x20 && c <= 0x7e;

/** git's character classes (C locale: ASCII only). Null for an unknown name (a malformed pattern). */
function inClass(name: string, c: number): boolean | null {
  switch (name) {
    case "alnum": return isAlpha(c) || isDigit(c);
    case "alpha": return isAlpha(c);
    case "blank": return c === 0x20 || c === 0x09;
    case "cntrl": return c < 0x20 || c === 0x7f;
    case "digit": return isDigit(c);
    case "graph": return isGraph(c);
    case "lower": return isLower(c);
    case "print": return isPrint(c);
    case "punct": return isGraph(c) && !isAlpha(c) && !isDigit(c);
    case "space": return isSpace(c);
    case "upper": return isUpper(c);
    case "xdigit": return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
    default: return null;
  }
}

/** Index of the first `/` in text at or after i, or -1. */
function slashFrom(t: Uint8Array, i: number): number {
  for (let k = i; k < t.length; k++) if (t[k] === SLASH) return k;
  return -1;
}

/** p and t are indexes into pattern and text; reading past the end gives undefined (C's NUL). */
function dowild(pat: Uint8Array, p: number, text: Uint8Array, t: number, pathname: boolean): number {
  for (; p < pat.length; t++, p++) {
    let pc = pat[p]!;
    const tc = text[t];
    if (tc === undefined && pc !== STAR) return ABORT_ALL;
    switch (pc) {
      case BACKSLASH:
        // Literal match with the next pattern byte (a trailing backslash matches nothing).
        p++;
        if (p >= pat.length || tc !== pat[p]) return NOMATCH;
        continue;
      default:
        if (tc !== pc) return NOMATCH;
        continue;
      case QUESTION:
        if (pathname && tc === SLASH) return NOMATCH;
        continue;
      case STAR: {
        let matchSlash: boolean;
        if (pat[++p] === STAR) {
          const prev = p - 2;
          while (pat[++p] === STAR) { /* collapse runs of stars */ }
          if ((prev < 0 || pat[prev] === SLASH) && (p >= pat.length || pat[p] === SLASH || (pat[p] === BACKSLASH && pat[p + 1] === SLASH))) {
            // "**/" may match no directory at all: try the rest of the pattern right here.
            if (pat[p] === SLASH && dowild(pat, p + 1, text, t, pathname) === MATCH) return MATCH;
            matchSlash = true;
          } else {
            matchSlash = false; // as git: "**" inside a name is a plain "*"
          }
        } else {
          matchSlash = !pathname;
        }
        if (p >= pat.length) {
          // Trailing "**" matches everything; a trailing "*" only what has no more slashes.
          if (!matchSlash && slashFrom(text, t) >= 0) return NOMATCH;
          return MATCH;
        }
        if (!matchSlash && pat[p] === SLASH) {
          // One star followed by a slash matches up to the next directory.
          const s = slashFrom(text, t);
          if (s < 0) return NOMATCH;
          t = s;
          break; // the loop's t++/p++ consume both slashes
        }
        let cur = text[t];
        for (;;) {
          if (cur === undefined) break;
          if (!isGlobSpecial(pat[p])) {
            // A literal after the star: skip ahead to its next occurrence (never past a slash unless allowed).
            const want = pat[p];
            while ((cur = text[t]) !== undefined && (matchSlash || cur !== SLASH)) {
              if (cur === want) break;
              t++;
            }
            if (cur !== want) return NOMATCH;
          }
          const m = dowild(pat, p, text, t, pathname);
          if (m !== NOMATCH) {
            if (!matchSlash || m !== ABORT_TO_STARSTAR) return m;
          } else if (!matchSlash && cur === SLASH) {
            return ABORT_TO_STARSTAR;
          }
          cur = text[++t];
        }
        return ABORT_ALL;
      }
      case LBRACKET: {
        pc = pat[++p]!;
        if (pc === 0x5e /* ^ */) pc = 0x21; /* ! */
        const negated = pc === 0x21;
        if (negated) pc = pat[++p]!;
        let prev = 0;
        let matched = false;
        do {
          if (pc === undefined) return ABORT_ALL;
          if (pc === BACKSLASH) {
            pc = pat[++p]!;
            if (pc === undefined) return ABORT_ALL;
            if (tc === pc) matched = true;
          } else if (pc === DASH && prev && pat[p + 1] !== undefined && pat[p + 1] !== RBRACKET) {
            pc = pat[++p]!;
            if (pc === BACKSLASH) {
              pc = pat[++p]!;
              if (pc === undefined) return ABORT_ALL;
            }
            if (tc! <= pc && tc! >= prev) matched = true;
            pc = 0; // so prev becomes 0: "a-c-e" is a range then a literal
          } else if (pc === LBRACKET && pat[p + 1] === COLON) {
            const s = p + 2;
            let e = s;
            while (pat[e] !== undefined && pat[e] !== RBRACKET) e++;
            if (pat[e] === undefined) return ABORT_ALL;
            if (e - s - 1 < 0 || pat[e - 1] !== COLON) {
              // No ":]": an ordinary "[" in the set.
              p = s - 2;
              pc = LBRACKET;
              if (tc === pc) matched = true;
              prev = pc;
              pc = pat[++p]!;
              continue;
            }
            const name = String.fromCharCode(...pat.subarray(s, e - 1));
            const hit = inClass(name, tc!);
            if (hit === null) return ABORT_ALL;
            if (hit) matched = true;
            p = e;
            pc = 0;
          } else if (tc === pc) {
            matched = true;
          }
          prev = pc;
          pc = pat[++p]!;
        } while (pc !== RBRACKET);
        if (matched === negated || (pathname && tc === SLASH)) return NOMATCH;
        continue;
      }
    }
  }
  return t < text.length ? NOMATCH : MATCH;
}

const encoder = new TextEncoder();

/** Whether `text` matches the glob `pattern`, as git's wildmatch. `pathname`: WM_PATHNAME (`*` stops at `/`). */
export function wildmatch(pattern: string | Uint8Array, text: string | Uint8Array, opts: { pathname: boolean }): boolean {
  const p = typeof pattern === "string" ? encoder.encode(pattern) : pattern;
  const t = typeof text === "string" ? encoder.encode(text) : text;
  return dowild(p, 0, t, 0, opts.pathname) === MATCH;
}
