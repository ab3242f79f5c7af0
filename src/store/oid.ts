/**
 * @module store/oid — parsing git object ids and computing the git blob id of some bytes, which is
 * how the store proves that cached content is what the server named. Knows nothing of storage.
 */
import type { Oid } from "./types.ts";
import { FsError } from "../util/errno.ts";

const OID_RE = /^[0-9a-f]{40}$/;

/** The id of the empty blob; its content is known without asking anyone. */
export const EMPTY_BLOB_OID = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391" as Oid;

export function isOid(text: string): text is Oid {
  return OID_RE.test(text);
}

/** Accepts 40 hex digits in either case; anything else is EINVAL. */
export function parseOid(text: string): Oid {
  const lower = text.toLowerCase();
  if (!OID_RE.test(lower)) throw FsError.of("EINVAL", `not a git object id: ${JSON.stringify(text)}`);
  return lower as Oid;
}

/** SHA-1 of `blob <len>\0` + bytes, as git computes a blob id. */
export function gitBlobOid(bytes: Uint8Array): Oid {
  const hasher = new Bun.CryptoHasher("sha1");
  hasher.update(`blob ${bytes.byteLength}\0`);
  hasher.update(bytes);
  return hasher.digest("hex") as Oid;
}
