/**
 * @module config/rust-debug — renders strings the way Rust's `{:?}` does, because `config show` and the
 * validation messages of the original print values through it and scripts compare those bytes.
 */

/** `"a\"b"` style quoting: escapes `\`, `"`, `\t`, `\r`, `\n`, `\0` and other control characters as `\u{..}`. */
export function rustDebugString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (cp === 0) out += "\\0";
    else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0xd800 && cp <= 0xdfff)) out += `\\u{${cp.toString(16)}}`;
    else out += ch;
  }
  return out + '"';
}
