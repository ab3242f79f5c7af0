/**
 * @module config/template — text generated from the key table: the `config init` template, the fully
 * commented `scorpio.toml.example`, and the key reference table of docs/configuration.md. Keeping all three
 * derived from `KEYS` is what stops docs, example and code from drifting apart (a test compares them).
 */
import { KIND_DOC } from "./kinds.ts";
import { KEY_NAMES, SECTIONS, envName, keySpec, type KeyName, type KeySpec } from "./keys.ts";
import { tomlValue } from "./toml-text.ts";

const GIB = 1024 ** 3;

/** The default as a user would write it in the file (`~` forms for per-user paths, `"10GiB"` for sizes). */
function exampleValue(spec: KeySpec): string {
  if (typeof spec.default === "function") {
    const shown = (spec.defaultDoc ?? "")
      .replace("$XDG_DATA_HOME", "~/.local/share")
      .replace("$XDG_STATE_HOME", "~/.local/state");
    return tomlValue(shown);
  }
  if (spec.kind === "size" && typeof spec.default === "number" && spec.default > 0 && spec.default % GIB === 0) {
    return tomlValue(`${spec.default / GIB}GiB`);
  }
  return tomlValue(spec.default as string | number | boolean | readonly string[]);
}

/** Wraps text into `# `-prefixed comment lines of at most `width` characters. */
function commentLines(text: string, width = 100): string[] {
  const out: string[] = [];
  let line = "#";
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > width && line !== "#") {
      out.push(line);
      line = "#";
    }
    line += " " + word;
  }
  if (line !== "#") out.push(line);
  return out;
}

const PRECEDENCE_HEADER = [
  "# Every key can be overridden by an environment variable named SCORPIO_<KEY> (the flat key in upper",
  "# case, e.g. SCORPIO_BASE_URL, SCORPIO_LOAD_DIR_DEPTH). Precedence, highest first:",
  "#   command-line flags > SCORPIO_<KEY> environment > this file > built-in defaults.",
  "# An empty value at any level counts as unset. Keys may also be written in sections ([server],",
  "# [dicfuse], [antares]); a section value wins over the same flat key (with a warning).",
];

const PATHS_NOTE = [
  "# Directories default to per-user locations: data under $XDG_DATA_HOME/scorpio (~/.local/share/scorpio),",
  "# state files under $XDG_STATE_HOME/scorpio (~/.local/state/scorpio). A leading ~/ is expanded;",
  "# relative paths are relative to the directory scorpio is started from.",
];

const TEMPLATE_ACTIVE: readonly KeyName[] = ["base_url", "git_author", "git_email", "log_level"];
const TEMPLATE_PATHS: readonly KeyName[] = [
  "workspace", "store_path", "config_file", "antares_upper_root", "antares_cl_root", "antares_mount_root",
  "antares_state_file",
];

function renderTemplate(): string {
  const lines = [
    "# Scorpio configuration, written by `scorpio config init`.",
    "#",
    ...PRECEDENCE_HEADER,
    "# Every key, its meaning and default: scorpio.toml.example and docs/configuration.md.",
    "",
    "# Edit base_url/lfs_url to point at your Mega server, then run: scorpio --config-path <this file> doctor",
    ...TEMPLATE_ACTIVE.map((k) => `${k} = ${exampleValue(keySpec(k))}`),
    // Commented out so that it follows base_url; written active, an edited base_url would leave it behind.
    "# lfs_url follows base_url ({base_url}/info/lfs, where Mega serves Git LFS); set it only for another LFS server:",
    `# lfs_url = ${exampleValue(keySpec("lfs_url"))}`,
    "",
    ...PATHS_NOTE,
    ...TEMPLATE_PATHS.map((k) => `# ${k} = ${exampleValue(keySpec(k))}`),
  ];
  return lines.join("\n") + "\n";
}

/** What `scorpio config init` writes. */
export const CONFIG_TEMPLATE: string = renderTemplate();

const SECTION_TITLES: Record<string, string> = {
  server: "Server, paths and logging (section [server])",
  dicfuse: "Read-only view of the monorepo and blob cache (section [dicfuse])",
  antares: "Antares job mounts (section [antares])",
};

/** scorpio.toml.example: every key, commented out at its default, grouped by section. */
export function renderExample(): string {
  const lines = [
    "# scorpio.toml.example: every configuration key with its default value (generated from",
    "# src/config/keys.ts by scripts/gen-config-docs.ts; do not edit by hand).",
    "# Everything is commented out, so this file alone means \"all defaults\"; uncomment what you change.",
    "#",
    ...PRECEDENCE_HEADER,
    "#",
    ...PATHS_NOTE,
  ];
  for (const section of SECTIONS) {
    lines.push("", `# ---- ${SECTION_TITLES[section]} ----`);
    for (const name of KEY_NAMES) {
      const spec = keySpec(name);
      if (spec.section !== section) continue;
      lines.push("");
      lines.push(...commentLines(`${spec.isNew ? "(new) " : ""}${spec.doc}`));
      lines.push(`# env: ${envName(name)}; section form: [${spec.section}].${spec.short}`);
      lines.push(`# ${name} = ${exampleValue(spec)}`);
    }
  }
  lines.push(
    "",
    "# ---- The same settings in section form (preferred; flat keys above are the original's form) ----",
    "# [server]",
    "# base_url = \"http://localhost:8000\"",
    "# [dicfuse]",
    "# load_dir_depth = 3",
    "# stat_mode = \"accurate\"",
    "# [antares]",
    "# upper_root = \"/var/lib/scorpio/antares/upper\"",
  );
  return lines.join("\n") + "\n";
}

function mdCell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function defaultDoc(spec: KeySpec): string {
  if (spec.defaultDoc) return `\`${spec.defaultDoc}\``;
  const d = spec.default;
  if (Array.isArray(d)) return d.length === 0 ? "`[]`" : `\`${JSON.stringify(d)}\``;
  if (d === "") return '`""`';
  return `\`${String(d)}\``;
}

/** The key reference table of docs/configuration.md (the part between the GENERATED markers). */
export function renderKeyReference(): string {
  const rows = [
    "| Flat key | Section form | Env var | Type | Default | Meaning |",
    "|---|---|---|---|---|---|",
  ];
  for (const name of KEY_NAMES) {
    const spec = keySpec(name);
    const type = KIND_DOC[spec.kind] + (spec.min !== undefined ? ` ≥ ${spec.min}` : "") + (spec.max !== undefined ? ` ≤ ${spec.max}` : "");
    const meaning = (spec.isNew ? "**New.** " : "") + spec.doc;
    rows.push(
      `| \`${name}\` | \`[${spec.section}].${spec.short}\` | \`${envName(name)}\` | ${mdCell(type)} | ${mdCell(defaultDoc(spec))} | ${mdCell(meaning)} |`,
    );
  }
  return rows.join("\n") + "\n";
}

export const DOCS_BEGIN_MARKER = "<!-- BEGIN GENERATED KEY TABLE (scripts/gen-config-docs.ts) -->";
export const DOCS_END_MARKER = "<!-- END GENERATED KEY TABLE -->";

/** Replaces the generated region of docs/configuration.md; throws if the markers are missing. */
export function spliceKeyReference(doc: string): string {
  const b = doc.indexOf(DOCS_BEGIN_MARKER);
  const e = doc.indexOf(DOCS_END_MARKER);
  if (b < 0 || e < b) throw new Error("docs/configuration.md lacks the generated key table markers");
  return doc.slice(0, b + DOCS_BEGIN_MARKER.length) + "\n" + renderKeyReference() + doc.slice(e);
}
