/**
 * @module config/file-source — reads scorpio.toml and answers "what does the file say about key X?" in the
 * original's terms: the `[section].short` form wins over the flat key, empty strings count as absent, scalars
 * are stringified, anything else is an error naming where it was written. Also collects the file-level
 * warnings (flat/section conflicts, unknown keys, a section that is not a table) that the original either
 * printed before logging existed or never printed at all.
 */
import { readFileSync } from "node:fs";
import TOML from "@iarna/toml";
import { ConfigError } from "./errors.ts";
import { ioErrorText } from "./io-error.ts";
import { KEYS, KEY_NAMES, SECTIONS, keySpec, type KeyName } from "./keys.ts";

type Table = Record<string, unknown>;

/** What the file holds for one key. */
export type FileValue =
  | { kind: "absent" }
  | { kind: "scalar"; raw: string; where: string }
  | { kind: "list"; items: unknown[]; where: string }
  | { kind: "invalid"; message: string };

export interface FileSource {
  path: string;
  lookup(name: KeyName): FileValue;
  warnings: string[];
}

function isTable(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function describeNonScalar(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v instanceof Date) return "a datetime";
  return "a table";
}

/** Reads and parses the file; every failure is a one-problem ConfigError. */
export function readConfigFile(path: string): FileSource {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`Config file not found at '${path}': ${ioErrorText(err)}`, { cause: err });
  }
  let table: Table;
  try {
    table = TOML.parse(text) as Table;
  } catch (err) {
    // @iarna/toml appends a multi-line excerpt; the first line already names row and column, and a single
    // line keeps `config validate`'s one-problem-per-line output readable.
    const first = (err instanceof Error ? err.message : String(err)).split("\n")[0]!.trim();
    throw new ConfigError(`Invalid config format in '${path}': ${first}`, { cause: err });
  }
  return fromTable(path, table);
}

/** Builds a source over an already parsed table (also used with an empty table when no file exists). */
export function fromTable(path: string, table: Table): FileSource {
  const sections = new Map<string, Table>();
  const warnings: string[] = [];
  for (const s of SECTIONS) {
    const v = table[s];
    if (v === undefined) continue;
    if (isTable(v)) sections.set(s, v);
    else warnings.push(`config section '${s}' is not a table; ignoring it (flat keys still apply)`);
  }

  const classify = (v: unknown, where: string, name: KeyName): FileValue => {
    if (v === undefined) return { kind: "absent" };
    if (typeof v === "string") return v.trim() === "" ? { kind: "absent" } : { kind: "scalar", raw: v, where };
    if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return { kind: "scalar", raw: String(v), where };
    if (Array.isArray(v) && keySpec(name).kind === "globs") return v.length === 0 ? { kind: "absent" } : { kind: "list", items: v, where };
    return {
      kind: "invalid",
      message: `Invalid value for '${where}': expected a scalar (string/number/bool), got ${describeNonScalar(v)}`,
    };
  };

  const present = (v: FileValue) => v.kind !== "absent";
  for (const name of KEY_NAMES) {
    const spec = keySpec(name);
    const sec = classify(sections.get(spec.section)?.[spec.short], `[${spec.section}].${spec.short}`, name);
    const flat = classify(table[name], name, name);
    if (present(sec) && present(flat)) {
      warnings.push(
        `config key '${name}' set both as a flat key and as [${spec.section}].${spec.short}; using the [${spec.section}] value (flat keys are deprecated)`,
      );
    }
  }
  warnings.push(...unknownKeyWarnings(table, sections));

  return {
    path,
    warnings,
    lookup(name) {
      const spec = keySpec(name);
      const sec = classify(sections.get(spec.section)?.[spec.short], `[${spec.section}].${spec.short}`, name);
      return present(sec) ? sec : classify(table[name], name, name);
    },
  };
}

function unknownKeyWarnings(table: Table, sections: Map<string, Table>): string[] {
  const out: string[] = [];
  const flat = new Set<string>(KEY_NAMES);
  for (const k of Object.keys(table)) {
    if (flat.has(k) || (SECTIONS as readonly string[]).includes(k)) continue;
    out.push(`unknown config key '${k}' ignored${suggest(k, [...flat, ...SECTIONS])}`);
  }
  for (const [s, t] of sections) {
    const shorts = KEY_NAMES.filter((n) => KEYS[n].section === s).map((n) => KEYS[n].short);
    for (const k of Object.keys(t)) {
      if (shorts.includes(k)) continue;
      out.push(`unknown config key '[${s}].${k}' ignored${suggest(k, shorts)}`);
    }
  }
  return out;
}

/** " (did you mean 'x'?)" for a likely typo, else "". */
function suggest(word: string, candidates: string[]): string {
  let best: string | undefined;
  let bestDist = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c);
    if (d < bestDist) [best, bestDist] = [c, d];
  }
  return best !== undefined && bestDist <= Math.max(2, Math.floor(word.length / 4)) ? ` (did you mean '${best}'?)` : "";
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
