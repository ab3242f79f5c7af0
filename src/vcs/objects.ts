/**
 * @module vcs/objects — git blob, tree and commit objects, byte-exact with git (`git hash-object`,
 * `git mktree`, `git commit-tree`), and the writer of a mount's loose object store (git layout, zlib,
 * written atomically: temp file + rename, so a crash never leaves a torn object). Names are the
 * escaped strings of util/names; tree entries hold their original bytes.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { deflateSync } from "node:zlib";
import { encodeName } from "../util/names.ts";
import { loosePath, readLooseObject, type GitObjectType, type LooseObject } from "./loose-objects.ts";

export const EMPTY_TREE_ID = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/** Git modes as git writes them in trees. */
export type GitMode = "100644" | "100755" | "120000" | "40000" | "160000";

export interface TreeItem {
  /** Escaped name (util/names). */
  name: string;
  mode: string;
  oid: string;
}

const enc = new TextEncoder();

export function objectId(type: GitObjectType, body: Uint8Array): string {
  return new Bun.CryptoHasher("sha1").update(enc.encode(`${type} ${body.byteLength}\0`)).update(body).digest("hex");
}

export const isTreeMode = (mode: string) => mode === "40000" || mode === "040000";

/** Git's entry order: bytewise by name, a tree's name compared as if it ended in "/". */
function sortKey(item: { nameBytes: Buffer; mode: string }): Buffer {
  return isTreeMode(item.mode) ? Buffer.concat([item.nameBytes, Buffer.from("/")]) : item.nameBytes;
}

export function encodeTree(items: readonly TreeItem[]): Uint8Array {
  const rows = items.map((i) => ({ ...i, nameBytes: encodeName(i.name) }));
  rows.sort((a, b) => Buffer.compare(sortKey(a), sortKey(b)));
  const parts: Buffer[] = [];
  for (const r of rows) {
    parts.push(Buffer.from(`${isTreeMode(r.mode) ? "40000" : r.mode} `), r.nameBytes, Buffer.from([0]), Buffer.from(r.oid, "hex"));
  }
  return new Uint8Array(Buffer.concat(parts));
}

export interface Signature {
  name: string;
  email: string;
  /** Seconds since the epoch. */
  when: number;
  /** Minutes east of UTC. */
  tzOffsetMin: number;
}

function tz(min: number): string {
  const sign = min < 0 ? "-" : "+";
  const a = Math.abs(min);
  return `${sign}${String(Math.floor(a / 60)).padStart(2, "0")}${String(a % 60).padStart(2, "0")}`;
}

export function formatSignature(s: Signature): string {
  return `${s.name} <${s.email}> ${s.when} ${tz(s.tzOffsetMin)}`;
}

/** A signature for now in the local time zone. */
export function signatureNow(name: string, email: string, date = new Date()): Signature {
  return { name, email, when: Math.floor(date.getTime() / 1000), tzOffsetMin: -date.getTimezoneOffset() };
}

/** Parses `Name <email>`; null when malformed. */
export function parseIdent(raw: string): { name: string; email: string } | null {
  const m = /^\s*([^<>\n]*?)\s*<([^<>\n]*)>\s*$/.exec(raw);
  if (!m || m[1] === "") return null;
  return { name: m[1]!, email: m[2]! };
}

/** Git's message clean-up for `commit -m`: trailing whitespace of lines and surrounding blank lines removed, one final newline. */
export function cleanMessage(msg: string): string {
  const lines = msg.split("\n").map((l) => l.replace(/\s+$/, ""));
  while (lines.length && lines[0] === "") lines.shift();
  while (lines.length && lines[lines.length - 1] === "") lines.pop();
  const out: string[] = [];
  for (const l of lines) if (!(l === "" && out[out.length - 1] === "")) out.push(l);
  return out.length ? out.join("\n") + "\n" : "";
}

export function encodeCommit(c: { tree: string; parents: readonly string[]; author: Signature; committer: Signature; message: string }): Uint8Array {
  let head = `tree ${c.tree}\n`;
  for (const p of c.parents) head += `parent ${p}\n`;
  head += `author ${formatSignature(c.author)}\ncommitter ${formatSignature(c.committer)}\n\n`;
  return enc.encode(head + c.message);
}

/** Parsed commit fields that status/log need. */
export interface CommitInfo {
  tree: string;
  parents: string[];
  author: string;
  message: string;
}

export function parseCommit(body: Uint8Array): CommitInfo {
  const text = new TextDecoder().decode(body);
  const split = text.indexOf("\n\n");
  const head = split < 0 ? text : text.slice(0, split);
  const message = split < 0 ? "" : text.slice(split + 2);
  const tree = /^tree ([0-9a-f]{40})$/m.exec(head)?.[1] ?? "";
  const parents = [...head.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((m) => m[1]!);
  const author = /^author (.*) \d+ [+-]\d{4}$/m.exec(head)?.[1] ?? "";
  return { tree, parents, author, message };
}

/** A git-layout loose object directory (`objects/ab/cdef…`). */
export class ObjectStore {
  constructor(readonly dir: string) {}

  has(oid: string): boolean {
    return existsSync(loosePath(this.dir, oid));
  }

  read(oid: string): LooseObject | null {
    return readLooseObject(this.dir, oid);
  }

  /** Stores an object (no-op when present); returns its id. */
  write(type: GitObjectType, body: Uint8Array): string {
    const oid = objectId(type, body);
    const file = loosePath(this.dir, oid);
    if (existsSync(file)) return oid;
    mkdirSync(dirname(file), { recursive: true });
    const raw = Buffer.concat([Buffer.from(`${type} ${body.byteLength}\0`), body]);
    const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    writeFileSync(tmp, deflateSync(raw), { mode: 0o444 });
    renameSync(tmp, file);
    return oid;
  }
}
