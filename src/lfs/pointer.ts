/**
 * @module lfs/pointer — Git LFS pointer files (spec v1): parsing and formatting. A pointer is the small
 * text git stores in place of a large file:
 *
 *     version https://git-lfs.github.com/spec/v1
 *     oid sha256:<64 lower-case hex>
 *     size <bytes>
 *
 * Parsing is strict: only the canonical form git-lfs itself writes is a pointer (`git lfs pointer --check
 * --strict` exits 0), so a file that merely looks like one is never swapped for something else. Pure
 * functions; knows nothing of attributes, HTTP or the store.
 */

/** The version line git-lfs writes. */
export const LFS_SPEC_V1 = "https://git-lfs.github.com/spec/v1";
/** Older names of spec v1 that git-lfs still reads (alpha and pre-release). */
const V1_ALIASES: ReadonlySet<string> = new Set([LFS_SPEC_V1, "https://hawser.github.com/spec/v1", "http://git-media.io/v/2"]);
/** A pointer is at most this many bytes; anything larger is an ordinary file (git-lfs's cut-off). */
export const LFS_POINTER_MAX_BYTES = 1024;

/** A sha-256 hex digest: the id of an LFS object. */
export type LfsOid = string & { readonly __brand: "LfsOid" };

const SHA256_HEX = /^[0-9a-f]{64}$/;
const KEY = /^[a-z0-9.-]+$/;
const EXT_KEY = /^ext-([0-9])-([a-z0-9.-]+)$/;
/** Decimal without sign or leading zeros. */
const SIZE = /^(0|[1-9][0-9]{0,15})$/;

export function isLfsOid(value: string): value is LfsOid {
  return SHA256_HEX.test(value);
}

/** A pointer extension line `ext-<priority>-<name> sha256:<oid>` (content transformed by a local program). */
export interface LfsPointerExtension {
  priority: number;
  name: string;
  oid: LfsOid;
}

export interface LfsPointer {
  oid: LfsOid;
  /** Size in bytes of the object (the file's real content). */
  size: number;
  /** Empty for ordinary pointers. */
  extensions: readonly LfsPointerExtension[];
}

/** Why bytes are not a pointer; `reason` is for logs and tests. */
export type PointerParse = { ok: true; pointer: LfsPointer } | { ok: false; reason: string };

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** The pointer in `bytes`, or null when they are not a canonical spec-v1 pointer. */
export function parseLfsPointer(bytes: Uint8Array | string): LfsPointer | null {
  const r = inspectLfsPointer(bytes);
  return r.ok ? r.pointer : null;
}

/** Like parseLfsPointer, but says why bytes are not a pointer. */
export function inspectLfsPointer(input: Uint8Array | string): PointerParse {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  if (bytes.byteLength === 0) return { ok: false, reason: "empty" };
  if (bytes.byteLength > LFS_POINTER_MAX_BYTES) return { ok: false, reason: `larger than ${LFS_POINTER_MAX_BYTES} bytes` };
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { ok: false, reason: "not UTF-8" };
  }
  if (!text.endsWith("\n")) return { ok: false, reason: "last line does not end with a newline" };
  const lines = text.slice(0, -1).split("\n");
  const entries: Array<[string, string]> = [];
  for (const [i, line] of lines.entries()) {
    const sp = line.indexOf(" ");
    if (sp <= 0) return { ok: false, reason: `line ${i + 1}: not "key value"` };
    const key = line.slice(0, sp);
    const value = line.slice(sp + 1);
    if (!KEY.test(key)) return { ok: false, reason: `line ${i + 1}: invalid key ${JSON.stringify(key)}` };
    if (value === "" || value.includes("\r")) return { ok: false, reason: `line ${i + 1}: invalid value` };
    entries.push([key, value]);
  }
  const [first, ...rest] = entries;
  if (!first || first[0] !== "version") return { ok: false, reason: "first key is not version" };
  if (!V1_ALIASES.has(first[1])) return { ok: false, reason: `unknown version ${JSON.stringify(first[1])}` };
  // After `version`, keys are strictly ascending (spec: sorted; a repeated key is not canonical).
  for (let i = 1; i < rest.length; i++) {
    if (!(rest[i - 1]![0] < rest[i]![0])) return { ok: false, reason: `keys out of order: ${rest[i - 1]![0]}, ${rest[i]![0]}` };
  }
  const extensions: LfsPointerExtension[] = [];
  let oid: LfsOid | undefined;
  let size: number | undefined;
  for (const [key, value] of rest) {
    const ext = EXT_KEY.exec(key);
    if (ext) {
      const extOid = sha256Value(value);
      if (!extOid) return { ok: false, reason: `${key}: invalid oid` };
      extensions.push({ priority: Number(ext[1]), name: ext[2]!, oid: extOid });
    } else if (key === "oid") {
      oid = sha256Value(value) ?? undefined;
      if (!oid) return { ok: false, reason: `invalid oid ${JSON.stringify(value)}` };
    } else if (key === "size") {
      if (!SIZE.test(value) || !Number.isSafeInteger(Number(value))) return { ok: false, reason: `invalid size ${JSON.stringify(value)}` };
      size = Number(value);
    } else {
      return { ok: false, reason: `unknown key ${JSON.stringify(key)}` };
    }
  }
  if (oid === undefined) return { ok: false, reason: "no oid" };
  if (size === undefined) return { ok: false, reason: "no size" };
  if (new Set(extensions.map((e) => e.priority)).size !== extensions.length) return { ok: false, reason: "duplicate extension priority" };
  // Canonical means the version line git-lfs writes; an alias pointer is readable but re-encodes differently.
  if (first[1] !== LFS_SPEC_V1) return { ok: false, reason: `non-canonical version ${JSON.stringify(first[1])}` };
  return { ok: true, pointer: { oid, size, extensions } };
}

function sha256Value(value: string): LfsOid | null {
  if (!value.startsWith("sha256:")) return null;
  const hex = value.slice("sha256:".length);
  return isLfsOid(hex) ? hex : null;
}

/** The canonical pointer text for an object (what `git lfs pointer --file` prints). */
export function formatLfsPointer(p: { oid: string; size: number; extensions?: readonly LfsPointerExtension[] }): string {
  if (!isLfsOid(p.oid)) throw new RangeError(`not a sha-256 hex oid: ${JSON.stringify(p.oid)}`);
  if (!Number.isSafeInteger(p.size) || p.size < 0) throw new RangeError(`invalid LFS object size: ${p.size}`);
  const exts = [...(p.extensions ?? [])].sort((a, b) => a.priority - b.priority);
  const extLines = exts.map((e) => `ext-${e.priority}-${e.name} sha256:${e.oid}\n`).join("");
  return `version ${LFS_SPEC_V1}\n${extLines}oid sha256:${p.oid}\nsize ${p.size}\n`;
}

/** sha-256 hex of bytes: the LFS object id. */
export function lfsOidOf(bytes: Uint8Array): LfsOid {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex") as LfsOid;
}
