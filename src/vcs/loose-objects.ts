/**
 * @module vcs/loose-objects — git's loose object format: `objects/ab/cdef…` holding zlib("<type> <len>\0<body>").
 * Reading verifies the SHA-1 against the file name, so a corrupt store never reaches a pack.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";

export type GitObjectType = "commit" | "tree" | "blob" | "tag";

export interface LooseObject {
  oid: string;
  type: GitObjectType;
  body: Uint8Array;
}

const OID = /^[0-9a-f]{40}$/;

export class LooseObjectError extends Error {}

/** The path of `oid` in a git-layout objects directory. */
export function loosePath(objectsDir: string, oid: string): string {
  return join(objectsDir, oid.slice(0, 2), oid.slice(2));
}

/** The object `oid` from `objectsDir`, or null when it is not stored there. Throws on corruption. */
export function readLooseObject(objectsDir: string, oid: string): LooseObject | null {
  if (!OID.test(oid)) throw new LooseObjectError(`not an object id: ${JSON.stringify(oid)}`);
  const file = loosePath(objectsDir, oid);
  if (!existsSync(file)) return null;
  let raw: Uint8Array;
  try {
    raw = inflateSync(readFileSync(file));
  } catch (err) {
    throw new LooseObjectError(`${file}: not a zlib stream (${(err as Error).message})`);
  }
  const nul = raw.indexOf(0);
  const header = nul > 0 ? new TextDecoder().decode(raw.subarray(0, nul)) : "";
  const m = /^(commit|tree|blob|tag) (\d+)$/.exec(header);
  if (!m) throw new LooseObjectError(`${file}: bad object header ${JSON.stringify(header.slice(0, 40))}`);
  const body = raw.subarray(nul + 1);
  if (body.length !== Number(m[2])) throw new LooseObjectError(`${file}: length ${body.length} differs from header ${m[2]}`);
  const actual = new Bun.CryptoHasher("sha1").update(raw).digest("hex");
  if (actual !== oid) throw new LooseObjectError(`${file}: content hashes to ${actual}, not ${oid}`);
  return { oid, type: m[1] as GitObjectType, body };
}

export interface TreeEntry {
  mode: string;
  /** Raw name bytes: git names need not be UTF-8. */
  name: Uint8Array;
  oid: string;
}

/** Parses a tree object body. */
export function parseTreeBody(body: Uint8Array): TreeEntry[] {
  const out: TreeEntry[] = [];
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    const nul = sp < 0 ? -1 : body.indexOf(0, sp);
    if (sp < 0 || nul < 0 || nul + 21 > body.length) throw new LooseObjectError(`malformed tree entry at byte ${i}`);
    out.push({
      mode: new TextDecoder().decode(body.subarray(i, sp)),
      name: body.subarray(sp + 1, nul),
      oid: Buffer.from(body.subarray(nul + 1, nul + 21)).toString("hex"),
    });
    i = nul + 21;
  }
  return out;
}

/** The `tree` and `parent` ids of a commit body. */
export function parseCommitLinks(body: Uint8Array): { tree: string; parents: string[] } {
  const head = new TextDecoder().decode(body).split("\n\n", 1)[0] ?? "";
  const tree = /^tree ([0-9a-f]{40})$/m.exec(head)?.[1];
  if (!tree) throw new LooseObjectError("commit without a tree line");
  const parents = [...head.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((m) => m[1]!);
  return { tree, parents };
}
