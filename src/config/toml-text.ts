/**
 * @module config/toml-text — writing TOML values as text (for the state file, the template and the example).
 * @iarna/toml's stringify is not used because its layout (`works = [ ]`) differs from the original's bytes.
 */

/** TOML basic string. JSON escaping is almost TOML's, but TOML also requires DEL escaped and forbids lone surrogates. */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (cp < 0x20 || cp === 0x7f) out += `\\u${cp.toString(16).padStart(4, "0")}`;
    else if (cp >= 0xd800 && cp <= 0xdfff) out += "\\uFFFD";
    else out += ch;
  }
  return out + '"';
}

/** A scalar or a list of strings as a TOML value. */
export function tomlValue(v: string | number | boolean | readonly string[]): string {
  if (typeof v === "string") return tomlString(v);
  if (Array.isArray(v)) return `[${v.map((x) => tomlString(x)).join(", ")}]`;
  return String(v);
}
