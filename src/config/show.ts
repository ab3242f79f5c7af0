/**
 * @module config/show — `scorpio config show`: the effective configuration as the original printed it, a Rust
 * pretty `Debug` dump in struct field order (byte parity for the original's fields), new keys appended.
 * Unlike the original, secrets (keys marked `secret: true`, e.g. `http_token`) are redacted in every form.
 */
import { KEY_NAMES, SHOW_ORDER, isSecretKey, keySpec, type KeyName } from "./keys.ts";
import { rustDebugString } from "./rust-debug.ts";
import type { ScorpioConfig } from "./types.ts";

export const REDACTED = "<redacted>";

/** A secret's printable form: empty stays empty (so "not set" is visible), anything else is `<redacted>`. */
function redactedValue(value: unknown): string {
  return value === "" ? "" : REDACTED;
}

/** The configuration with every secret redacted: what `config show --json` and diagnostic bundles print. */
export function redactConfig(config: ScorpioConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(config)) {
    out[name] = isConfigKey(name) && isSecretKey(name) ? redactedValue(value) : value;
  }
  return out;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function renderValue(name: keyof ScorpioConfig, value: unknown): string {
  const kind = keySpec(name).kind;
  if (kind === "stat_mode" || kind === "log_format") return capitalize(String(value)); // Rust enum variants
  if (isSecretKey(name)) return rustDebugString(redactedValue(value));
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => `        ${rustDebugString(String(v))},\n`).join("")}    ]`;
  }
  if (typeof value === "string") return rustDebugString(value);
  return String(value);
}

/** The dump without a trailing newline (print it as a line, like Rust's `println!("{:#?}")`). */
export function renderConfigShow(config: ScorpioConfig): string {
  const lines = SHOW_ORDER.map((name) => `    ${name}: ${renderValue(name, config[name])},`);
  return `ScorpioConfig {\n${lines.join("\n")}\n}`;
}

/** True if `name` is a flat key name (for `config get <key>` style commands). */
export function isConfigKey(name: string): name is KeyName {
  return (KEY_NAMES as readonly string[]).includes(name);
}

/**
 * One value as plain text for scripts (`scorpio config get workspace`): strings unquoted, lists
 * comma-separated, enums lower-case as written in the file, the token redacted.
 */
export function renderConfigValue(config: ScorpioConfig, name: KeyName): string {
  const value = config[name];
  if (isSecretKey(name)) return redactedValue(value);
  if (Array.isArray(value)) return value.join(",");
  return String(value);
}
