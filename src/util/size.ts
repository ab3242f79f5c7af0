/**
 * @module util/size — the one byte-size parser of the CLI (`gc --target 10GB`) and the config
 * (`cache_max_bytes = "10GB"`), so a size means the same everywhere. Every unit is binary:
 * `K`, `KB` and `KiB` all mean 1024 (`10GB` = 10 GiB = 10737418240 bytes), as cache sizes are meant
 * in practice and as `du`/`status` print them.
 */

const POWERS = ["", "k", "m", "g", "t", "p"];

/** Bytes for `512`, `2K`, `10GB`, `1.5GiB` (case-insensitive, optional space); undefined if not a size. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgtp])(?:i?b)?|b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const power = POWERS.indexOf((m[2] ?? "").toLowerCase());
  const bytes = Math.floor(Number(m[1]) * 1024 ** power);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** How sizes are written, for help texts and error messages. */
export const SIZE_SYNTAX = "a byte count or a size like 512M, 10GB or 1.5GiB (units are powers of 1024)";
