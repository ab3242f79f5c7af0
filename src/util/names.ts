/**
 * @module util/names — file names as the kernel and the host hold them (bytes) and as JavaScript holds
 * them (strings), without loss. Linux names are any bytes but `/` and NUL; most are UTF-8, some are not
 * (Latin-1 archives, test suites such as stress-ng's). Valid UTF-8 decodes as usual; each byte 0x80–0xFF
 * of an invalid sequence becomes the private-use character U+EF00 + byte (U+EF80–U+EFFF, the mapping
 * of MirBSD's OPTU-16). Lone surrogates (Python's "surrogateescape") would not do: Bun's `node:path`
 * turns them into U+FFFD. So that the mapping stays one to one, a valid name that itself contains
 * U+EF80–U+EFFF is escaped byte by byte too; `encodeName(decodeName(bytes))` is always exactly `bytes`.
 * (A name from elsewhere — a server listing — that contains those private-use characters is written
 * as the raw bytes they stand for.)
 *
 * Every place a name crosses between bytes and strings goes through here: the FUSE binding (request
 * names, directory entries, link targets) and the overlay's host calls (`fsPath`, `readDirNames`,
 * `readDirTyped`).
 */
import { lstatSync, readdirSync, type Dirent } from "node:fs";
import { join } from "node:path";
import { reachablePath } from "./long-path.ts";

// ignoreBOM: keep a leading U+FEFF, which is part of the name (the default would drop it).
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const ESCAPE_BASE = 0xef00;
const ESCAPE = /[\uEF80-\uEFFF]/;
/** What a fast decode leaves that needs the exact path: U+FFFD (lost bytes) or escape-range characters. */
export const NEEDS_EXACT_DECODE = /[\uFFFD\uEF80-\uEFFF]/;

/** Length of the valid UTF-8 sequence starting at `i` (RFC 3629: no overlongs, surrogates or > U+10FFFF), or 0. */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  // EE BE xx / EE BF xx spell U+EF80–U+EFFF, the escape range: escaped byte by byte, like invalid input.
  if (c === 0xee) return cont(1, 0x80, 0xbd) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** The name these bytes spell, escaping the bytes that are not valid UTF-8. */
export function decodeName(bytes: Uint8Array): string {
  try {
    const s = utf8.decode(bytes);
    if (!ESCAPE.test(s)) return s;
  } catch {
    // Not valid UTF-8: decode piece by piece.
  }
  let out = "";
  let run = 0; // start of the current run of valid bytes
  for (let i = 0; i < bytes.length; ) {
    const c = bytes[i]!;
    const n = c < 0x80 ? 1 : sequenceLength(bytes, i);
    if (n > 0) {
      i += n;
      continue;
    }
    if (run < i) out += utf8.decode(bytes.subarray(run, i));
    out += String.fromCharCode(ESCAPE_BASE + c);
    run = ++i;
  }
  if (run < bytes.length) out += utf8.decode(bytes.subarray(run));
  return out;
}

/** True when `name` carries escaped bytes (see decodeName), i.e. is not plain UTF-8 text. */
export function hasEscapes(name: string): boolean {
  return ESCAPE.test(name);
}

/** The bytes of a name: UTF-8, with escaped bytes restored. */
export function encodeName(name: string): Buffer {
  if (!hasEscapes(name)) return Buffer.from(name, "utf8");
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < name.length; i++) {
    const u = name.charCodeAt(i);
    if (u < 0xef80 || u > 0xefff) continue;
    if (run < i) parts.push(Buffer.from(name.slice(run, i), "utf8"));
    parts.push(Buffer.of(u - ESCAPE_BASE));
    run = i + 1;
  }
  if (run < name.length) parts.push(Buffer.from(name.slice(run), "utf8"));
  return Buffer.concat(parts);
}

/** Byte length of a name once encoded. */
export function nameByteLength(name: string): number {
  return hasEscapes(name) ? encodeName(name).length : Buffer.byteLength(name, "utf8");
}

/**
 * A path for node:fs: the string itself when it is plain text, else its exact bytes (node:fs would
 * encode the escapes as U+FFFD and touch a different file). A path longer than PATH_MAX comes back
 * as an equivalent short one through directory fds (util/long-path): use it right away.
 */
export function fsPath(path: string): string | Buffer {
  return reachablePath(hasEscapes(path) ? encodeName(path) : path);
}

/** True when node:fs's decoding of a name lost bytes (U+FFFD) or left escape-range characters unescaped. */
const lossy = (name: string) => NEEDS_EXACT_DECODE.test(name);

/**
 * The names in a host directory, decoded without loss. Directories whose names are all UTF-8 (nearly
 * all) take node's string listing; a U+FFFD in it means some name was not, and the listing is re-read
 * as bytes.
 */
export function readDirNames(path: string): string[] {
  const names = readdirSync(fsPath(path));
  if (!names.some(lossy)) return names;
  return readdirSync(fsPath(path), { encoding: "buffer" }).map((b) => decodeName(b));
}

/** `readDirNames`, or no names when the directory is missing or unreadable (e.g. a root not created yet). */
export function readDirNamesIfAny(path: string): string[] {
  try {
    return readDirNames(path);
  } catch {
    return [];
  }
}

/** A directory entry with its type, as `readdirSync(…, { withFileTypes: true })` gives it. */
export type TypedEntry = Pick<Dirent, "name" | "isDirectory" | "isFile" | "isSymbolicLink" | "isCharacterDevice">;

/** `readDirNames` with each entry's type (from the listing; from an lstat in the rare lossy case). */
export function readDirTyped(path: string): TypedEntry[] {
  const entries = readdirSync(fsPath(path), { withFileTypes: true });
  if (!entries.some((e) => lossy(e.name))) return entries;
  return readDirNames(path).map((name) => Object.assign(lstatSync(fsPath(join(path, name))), { name }));
}
