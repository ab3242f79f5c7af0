/**
 * @module remote/oid — git object ids: validation, normalisation and hashing (blob and tree SHA-1).
 * Pure functions; knows nothing of HTTP.
 */
import { FsError } from "../util/errno.ts";

/** A 40-hex lower-case git SHA-1 object id. */
export type Oid = string & { readonly __brand: "Oid" };

/** The id of the empty blob: a 0-byte file never needs a download. */
export const EMPTY_BLOB_OID = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391" as Oid;
/** The id of the empty tree: what an empty raw-tree body hashes to. */
export const EMPTY_TREE_OID = "4b825dc642cb6eb9a060e54bf8d69288fbee4904" as Oid;

const HEX40 = /^[0-9a-f]{40}$/;

export function isOid(value: string): value is Oid {
  return HEX40.test(value);
}

/**
 * Parses an oid as Mega clients meet it: optional `sha1:` prefix (CL files-list), any case.
 * Throws FsError(EINVAL) for anything else, so a bad id never reaches a URL.
 */
export function parseOid(value: string): Oid {
  const v = value.trim().replace(/^sha1:/i, "").toLowerCase();
  if (!HEX40.test(v)) throw FsError.of("EINVAL", `not a git object id: ${JSON.stringify(value)}`);
  return v as Oid;
}

const encoder = new TextEncoder();

/** git's object hash: SHA-1 of `"<type> <len>\0" + payload`. */
export function gitObjectOid(type: "blob" | "tree" | "commit" | "tag", payload: Uint8Array): Oid {
  const h = new Bun.CryptoHasher("sha1");
  h.update(encoder.encode(`${type} ${payload.byteLength}\0`));
  h.update(payload);
  return h.digest("hex") as Oid;
}

/** The blob id git would give these bytes (`git hash-object`). */
export function gitBlobOid(bytes: Uint8Array): Oid {
  return gitObjectOid("blob", bytes);
}

/** The tree id of a raw tree payload (the body of /api/v1/file/tree). */
export function gitTreeOid(body: Uint8Array): Oid {
  return gitObjectOid("tree", body);
}

/** Hex encoding of raw SHA-1 bytes (as found inside tree objects). */
export function hexOf(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}
