/**
 * @module config/runtime-state — the runtime state file (`config_file`): the original's `works = []` list of
 * legacy workspaces, plus an optional `[daemon]` table that tells client commands where the running daemon
 * listens. Reads validate every field (the file is outside input); writes are atomic and byte-compatible
 * with the original's serializer for the `works` part, so either version can read the other's file.
 */
import { readFileSync } from "node:fs";
import TOML from "@iarna/toml";
import { writeFileAtomicSync } from "../util/atomic-write.ts";
import { errnoOf, Errno } from "../util/errno.ts";
import { ConfigError } from "./errors.ts";
import { ioErrorText } from "./io-error.ts";
import { tomlString } from "./toml-text.ts";
import type { DaemonRecord, RuntimeState, WorkDir } from "./types.ts";

/** What init writes when the file is missing (exact bytes of the original). */
export const EMPTY_RUNTIME_STATE_TEXT = "works = []\n";

export function renderRuntimeState(state: RuntimeState): string {
  const parts: string[] = [];
  if (state.works.length === 0) parts.push("works = []\n");
  else {
    parts.push(
      state.works
        .map((w) => `[[works]]\npath = ${tomlString(w.path)}\nnode = ${w.node}\nhash = ${tomlString(w.hash)}\n`)
        .join("\n"),
    );
  }
  if (state.daemon) {
    const d = state.daemon;
    parts.push(`[daemon]\nhttp_addr = ${tomlString(d.http_addr)}\npid = ${d.pid}\nstarted_at = ${tomlString(d.started_at)}\n`);
  }
  return parts.join("\n");
}

function invalid(path: string, detail: string, cause?: unknown): ConfigError {
  return new ConfigError(`invalid runtime state file '${path}': ${detail}`, { key: "config_file", cause });
}

function isNonNegativeInt(v: unknown): v is number | bigint {
  if (typeof v === "bigint") return v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER);
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function parseWork(path: string, v: unknown, i: number): WorkDir {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw invalid(path, `works[${i}] is not a table`);
  const w = v as Record<string, unknown>;
  if (typeof w.path !== "string") throw invalid(path, `works[${i}].path must be a string`);
  if (!isNonNegativeInt(w.node)) throw invalid(path, `works[${i}].node must be a non-negative integer`);
  if (typeof w.hash !== "string") throw invalid(path, `works[${i}].hash must be a string`);
  return { path: w.path, node: Number(w.node), hash: w.hash };
}

function parseDaemon(path: string, v: unknown): DaemonRecord {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Date) throw invalid(path, "daemon is not a table");
  const d = v as Record<string, unknown>;
  if (typeof d.http_addr !== "string" || d.http_addr === "") throw invalid(path, "daemon.http_addr must be a non-empty string");
  if (!isNonNegativeInt(d.pid) || Number(d.pid) === 0) throw invalid(path, "daemon.pid must be a positive integer");
  const started = d.started_at instanceof Date ? d.started_at.toISOString() : d.started_at;
  if (typeof started !== "string") throw invalid(path, "daemon.started_at must be a string");
  return { http_addr: d.http_addr, pid: Number(d.pid), started_at: started };
}

/** Missing file → `{ works: [] }`; unreadable or malformed → ConfigError (key `config_file`). */
export function readRuntimeState(path: string): RuntimeState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (errnoOf(err) === Errno.ENOENT) return { works: [] };
    throw new ConfigError(`failed to read runtime state file '${path}': ${ioErrorText(err)}`, { key: "config_file", cause: err });
  }
  let table: Record<string, unknown>;
  try {
    table = TOML.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw invalid(path, (err instanceof Error ? err.message : String(err)).split("\n")[0]!.trim(), err);
  }
  const works = table.works ?? [];
  if (!Array.isArray(works)) throw invalid(path, "works must be an array");
  const state: RuntimeState = { works: works.map((w, i) => parseWork(path, w, i)) };
  if (table.daemon !== undefined) state.daemon = parseDaemon(path, table.daemon);
  return state;
}

/** Atomic replace (temp sibling + fsync + rename): a crash leaves the old or the new file, never a torn one. */
export function writeRuntimeState(path: string, state: RuntimeState): void {
  for (const w of state.works) {
    if (!Number.isSafeInteger(w.node) || w.node < 0) throw new ConfigError(`invalid work node ${w.node} for '${w.path}'`, { key: "config_file" });
  }
  writeFileAtomicSync(path, renderRuntimeState(state));
}
