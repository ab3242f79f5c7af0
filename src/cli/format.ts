/**
 * @module cli/format — small text helpers for command output: byte sizes, durations, size parsing,
 * and HTTP status lines rendered the way the original's client (reqwest) did: `400 Bad Request`.
 */
import { STATUS_CODES } from "node:http";
import { parseByteSize, SIZE_SYNTAX } from "../util/size.ts";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

export function humanBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return String(n);
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

export function humanDuration(secs: number): string {
  const s = Math.max(0, Math.floor(secs));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts: string[] = [];
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  parts.push(`${s % 60}s`);
  return parts.join(" ");
}

/** Parses a size (util/size: `512`, `2K`, `10GB` = 10 GiB, `1.5GiB`) into bytes; throws on bad input. */
export function parseSize(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new Error(`invalid size '${text}' (expected ${SIZE_SYNTAX})`);
  return bytes;
}

/** `400 Bad Request`: the canonical reason phrase, not whatever the server sent. */
export function statusLine(status: number): string {
  const reason = STATUS_CODES[status];
  return reason ? `${status} ${reason}` : `${status}`;
}
