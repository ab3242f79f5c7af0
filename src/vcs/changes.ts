/**
 * @module vcs/changes — what changed between two trees, as git reports it: added, deleted, modified
 * (content or exec bit), type changes (file ↔ symlink ↔ submodule) and renames. Only subtrees whose
 * ids differ are listed. Renames pair a deleted and an added file of the same kind: identical content
 * first, then by content similarity with git's default threshold (50%) and estimate (64-byte chunks
 * split at newlines, counted in bytes), when there are at most `RENAME_LIMIT` candidates a side.
 */
import { encodeName } from "../util/names.ts";
import { isTreeMode, type TreeItem } from "./objects.ts";
import type { BaseTreeSource } from "./tree-source.ts";

export interface FileState {
  mode: string;
  oid: string;
}

export interface RawChange {
  path: string;
  old: FileState | null;
  new: FileState | null;
}

export type ChangeStatus = "added" | "deleted" | "modified" | "typechange" | "renamed";

export interface Change {
  status: ChangeStatus;
  path: string;
  /** For renames: the path before. */
  old_path: string | null;
  old_mode: string | null;
  new_mode: string | null;
  old_oid: string | null;
  new_oid: string | null;
  /** Renames: similarity in percent (100 = identical content). */
  similarity: number | null;
}

export const RENAME_LIMIT = 1000;
const RENAME_THRESHOLD = 50;

const joinRel = (p: string, n: string) => (p === "" ? n : `${p}/${n}`);

export async function diffTrees(src: BaseTreeSource, oldTree: string | null, newTree: string | null, prefix = ""): Promise<RawChange[]> {
  if (oldTree === newTree) return [];
  const out: RawChange[] = [];
  const [oldItems, newItems] = await Promise.all([oldTree ? src.listTree(prefix, oldTree) : [], newTree ? src.listTree(prefix, newTree) : []]);
  const olds = new Map(oldItems.map((i) => [i.name, i]));
  const news = new Map(newItems.map((i) => [i.name, i]));
  const names = [...new Set([...olds.keys(), ...news.keys()])].sort();
  for (const name of names) {
    const o = olds.get(name);
    const n = news.get(name);
    if (o && n && o.oid === n.oid && o.mode === n.mode) continue;
    const path = joinRel(prefix, name);
    const oT = o !== undefined && isTreeMode(o.mode);
    const nT = n !== undefined && isTreeMode(n.mode);
    if (oT || nT) {
      out.push(...(await diffTrees(src, oT ? o!.oid : null, nT ? n!.oid : null, path)));
      if (o && !oT) out.push({ path, old: state(o), new: null });
      if (n && !nT) out.push({ path, old: null, new: state(n) });
      continue;
    }
    out.push({ path, old: o ? state(o) : null, new: n ? state(n) : null });
  }
  return out;
}

const state = (i: TreeItem): FileState => ({ mode: i.mode, oid: i.oid });

type Kind = "file" | "symlink" | "gitlink";
const kindOf = (mode: string): Kind => (mode === "120000" ? "symlink" : mode === "160000" ? "gitlink" : "file");

function plain(c: RawChange): Change {
  const base = { path: c.path, old_path: null, old_mode: c.old?.mode ?? null, new_mode: c.new?.mode ?? null, old_oid: c.old?.oid ?? null, new_oid: c.new?.oid ?? null, similarity: null };
  if (!c.old) return { status: "added", ...base };
  if (!c.new) return { status: "deleted", ...base };
  return { status: kindOf(c.old.mode) === kindOf(c.new.mode) ? "modified" : "typechange", ...base };
}

/** git's similarity estimate: bytes of `a` found again in `b`, over the larger size, in percent. */
export function similarity(a: Uint8Array, b: Uint8Array): number {
  const max = Math.max(a.length, b.length);
  if (max === 0) return 100;
  if (Math.min(a.length, b.length) * 100 < max * RENAME_THRESHOLD) return 0;
  const ca = chunks(a);
  const cb = chunks(b);
  let same = 0;
  for (const [h, n] of ca) same += Math.min(n, cb.get(h) ?? 0);
  return Math.floor((same * 100) / max);
}

function chunks(data: Uint8Array): Map<string, number> {
  const out = new Map<string, number>();
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] === 0x0a || i - start + 1 === 64) {
      add(out, data.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < data.length) add(out, data.subarray(start));
  return out;
}

function add(m: Map<string, number>, chunk: Uint8Array): void {
  const h = Bun.hash(chunk).toString(36);
  m.set(h, (m.get(h) ?? 0) + chunk.length);
}

/** Classifies raw changes and pairs renames. `read` gives the bytes of a blob (old or new). */
export async function classify(raw: readonly RawChange[], read: (oid: string) => Promise<Uint8Array>): Promise<Change[]> {
  const deleted = raw.filter((c) => c.old && !c.new);
  const added = raw.filter((c) => !c.old && c.new);
  const paired = new Map<RawChange, { from: RawChange; score: number }>();
  const usedDeletes = new Set<RawChange>();
  // Exact renames: same blob, same kind; prefer the same file name.
  const byOid = new Map<string, RawChange[]>();
  for (const d of deleted) {
    if (kindOf(d.old!.mode) === "gitlink") continue;
    const k = `${kindOf(d.old!.mode)}:${d.old!.oid}`;
    byOid.set(k, [...(byOid.get(k) ?? []), d]);
  }
  for (const a of added) {
    const cands = byOid.get(`${kindOf(a.new!.mode)}:${a.new!.oid}`)?.filter((d) => !usedDeletes.has(d));
    if (!cands?.length) continue;
    const base = a.path.slice(a.path.lastIndexOf("/") + 1);
    const pick = cands.find((d) => d.path.slice(d.path.lastIndexOf("/") + 1) === base) ?? cands[0]!;
    usedDeletes.add(pick);
    paired.set(a, { from: pick, score: 100 });
  }
  // Similar content: regular files only, bounded like git's rename limit.
  const restD = deleted.filter((d) => !usedDeletes.has(d) && kindOf(d.old!.mode) === "file");
  const restA = added.filter((a) => !paired.has(a) && kindOf(a.new!.mode) === "file");
  if (restD.length > 0 && restA.length > 0 && restD.length <= RENAME_LIMIT && restA.length <= RENAME_LIMIT) {
    const dBytes = await Promise.all(restD.map((d) => read(d.old!.oid)));
    const aBytes = await Promise.all(restA.map((a) => read(a.new!.oid)));
    const scores: Array<{ a: number; d: number; s: number }> = [];
    for (let ai = 0; ai < restA.length; ai++) {
      for (let di = 0; di < restD.length; di++) {
        const s = similarity(dBytes[di]!, aBytes[ai]!);
        if (s >= RENAME_THRESHOLD) scores.push({ a: ai, d: di, s });
      }
    }
    scores.sort((x, y) => y.s - x.s);
    const takenA = new Set<number>();
    for (const { a, d, s } of scores) {
      if (takenA.has(a) || usedDeletes.has(restD[d]!)) continue;
      takenA.add(a);
      usedDeletes.add(restD[d]!);
      paired.set(restA[a]!, { from: restD[d]!, score: s });
    }
  }
  const out: Change[] = [];
  for (const c of raw) {
    if (usedDeletes.has(c)) continue;
    const p = paired.get(c);
    if (!p) {
      out.push(plain(c));
      continue;
    }
    out.push({
      status: "renamed",
      path: c.path,
      old_path: p.from.path,
      old_mode: p.from.old!.mode,
      new_mode: c.new!.mode,
      old_oid: p.from.old!.oid,
      new_oid: c.new!.oid,
      similarity: p.score,
    });
  }
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/** One porcelain line (git status --porcelain for a staged change). */
export function porcelainLine(c: Change): string {
  const x = { added: "A", deleted: "D", modified: "M", typechange: "T", renamed: "R" }[c.status];
  return c.status === "renamed" ? `${x}  ${quotePath(c.old_path!)} -> ${quotePath(c.path)}` : `${x}  ${quotePath(c.path)}`;
}

/**
 * git's path quoting (core.quotePath): a path with control characters, `"`, `\` or bytes ≥ 0x80 is
 * written in double quotes with C escapes and octal bytes. Escaped names (util/names) become their bytes.
 */
export function quotePath(path: string): string {
  const bytes = pathBytes(path);
  if (!bytes.some((b) => b < 0x20 || b >= 0x7f || b === 0x22 || b === 0x5c)) return path;
  let s = '"';
  const named: Record<number, string> = { 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r", 0x22: '\\"', 0x5c: "\\\\" };
  for (const b of bytes) s += named[b] ?? (b < 0x20 || b >= 0x7f ? "\\" + b.toString(8).padStart(3, "0") : String.fromCharCode(b));
  return s + '"';
}

export function pathBytes(path: string): Uint8Array {
  return encodeName(path);
}
