/**
 * @module overlay/layers — how a path of the merged tree resolves across the layers, top to bottom:
 * upper (host directory, writable), CL (host directory, read-only to the overlay), lower (Dicfuse).
 *
 * Rules (Linux overlayfs): a whiteout hides the name in every layer below it; a non-directory hides
 * everything below it; directories merge until one is opaque or a layer below holds a non-directory.
 * Also lists merged directories. Reads only: never writes to any layer.
 */
import { lstatSync, type BigIntStats } from "node:fs";
import { join } from "node:path";
import type { DicfuseView, Node } from "../dicfuse/index.ts";
import { Errno, FsError } from "../util/errno.ts";
import { fsPath, readDirTyped } from "../util/names.ts";
import { hasWhiteout, isOpaque, isPrivateName, isWhiteout, OPAQUE_MARKER } from "./whiteout.ts";

export type LayerName = "upper" | "cl" | "lower";
export type EntryKind = "dir" | "file" | "symlink" | "special";

export interface HostEntry {
  readonly path: string;
  readonly st: BigIntStats;
}

/** Where the children of a merged directory come from (null = that layer does not contribute). */
export interface DirLayers {
  readonly upper: string | null;
  readonly cl: string | null;
  readonly lower: number | null;
}

export interface Resolved {
  /** Merged-tree path, "" for the root. */
  readonly rel: string;
  readonly top: LayerName;
  readonly kind: EntryKind;
  readonly upper: HostEntry | null;
  readonly cl: HostEntry | null;
  readonly lower: Node | null;
  /** A layer below upper still holds this name: deleting or moving it needs a whiteout. */
  readonly below: boolean;
  /** For directories: the contributing layer directories. */
  readonly dir: DirLayers | null;
}

interface Probe {
  layer: LayerName;
  kind: "whiteout" | EntryKind;
  host?: HostEntry;
  node?: Node;
}

const ROOT_LOWER_INO = 1;

function hostKind(st: BigIntStats): EntryKind {
  if (st.isDirectory()) return "dir";
  if (st.isFile()) return "file";
  if (st.isSymbolicLink()) return "symlink";
  return "special";
}

export function nodeKind(n: Node): EntryKind {
  return n.kind === "dir" || n.kind === "gitlink" ? "dir" : n.kind === "symlink" ? "symlink" : "file";
}

export function joinRel(parent: string, name: string): string {
  return parent === "" ? name : `${parent}/${name}`;
}

export function splitRel(rel: string): { parent: string; name: string } {
  const i = rel.lastIndexOf("/");
  return i < 0 ? { parent: "", name: rel } : { parent: rel.slice(0, i), name: rel.slice(i + 1) };
}

export class Layers {
  /** DirLayers of merged directories by path; cleared by every mutation (`invalidate`). */
  private readonly dirCache = new Map<string, DirLayers>();

  constructor(readonly upperDir: string, public clDir: string | null, public lower: DicfuseView) {}

  invalidate(): void {
    this.dirCache.clear();
  }

  upperPath(rel: string): string {
    return rel === "" ? this.upperDir : join(this.upperDir, rel);
  }

  private rootLayers(): DirLayers {
    let cl: string | null = null;
    if (this.clDir) {
      const st = lstatSync(this.clDir, { throwIfNoEntry: false });
      if (st?.isDirectory()) cl = this.clDir;
    }
    const opaque = isOpaque(this.upperDir);
    return { upper: this.upperDir, cl: opaque ? null : cl, lower: opaque ? null : ROOT_LOWER_INO };
  }

  /** The layers of directory `rel`; ENOENT / ENOTDIR when it is missing or not a directory. */
  async dirLayers(rel: string): Promise<DirLayers> {
    const cached = this.dirCache.get(rel);
    if (cached) return cached;
    let d: DirLayers;
    if (rel === "") d = this.rootLayers();
    else {
      const r = await this.resolve(rel);
      if (!r) throw new FsError(Errno.ENOENT, rel);
      if (!r.dir) throw new FsError(Errno.ENOTDIR, rel);
      d = r.dir;
    }
    this.dirCache.set(rel, d);
    return d;
  }

  /** The entry at `rel`, or null when no layer shows it. */
  async resolve(rel: string): Promise<Resolved | null> {
    if (rel === "") {
      const st = lstatSync(this.upperDir, { bigint: true });
      return { rel, top: "upper", kind: "dir", upper: { path: this.upperDir, st }, cl: null, lower: null, below: false, dir: await this.dirLayers("") };
    }
    const { parent, name } = splitRel(rel);
    const pd = await this.dirLayers(parent);
    return this.child(pd, parent, name);
  }

  /** The entry `name` in a directory whose layers are `pd`. */
  async child(pd: DirLayers, parentRel: string, name: string): Promise<Resolved | null> {
    if (isPrivateName(name)) return null;
    const probes: Probe[] = [];
    for (const layer of ["upper", "cl"] as const) {
      const dir = pd[layer];
      if (!dir) continue;
      const p = join(dir, name);
      const st = lstatSync(fsPath(p), { bigint: true, throwIfNoEntry: false });
      if (!st) {
        if (hasWhiteout(p)) {
          probes.push({ layer, kind: "whiteout" });
          break;
        }
        continue;
      }
      if (isWhiteout(st)) {
        probes.push({ layer, kind: "whiteout" });
        break;
      }
      probes.push({ layer, kind: hostKind(st), host: { path: p, st } });
    }
    const last = probes[probes.length - 1];
    if (pd.lower !== null && last?.kind !== "whiteout") {
      const node = await this.lower.lookup(pd.lower, name);
      if (node) probes.push({ layer: "lower", kind: nodeKind(node), node });
    }
    const topIdx = probes.findIndex((p) => p.kind !== "whiteout");
    if (topIdx < 0 || probes.slice(0, topIdx).some((p) => p.kind === "whiteout")) return null;
    const top = probes[topIdx]!;
    const rest = probes.slice(topIdx + 1).filter((p) => p.kind !== "whiteout");
    const rel = joinRel(parentRel, name);
    const out = { upper: null as HostEntry | null, cl: null as HostEntry | null, lower: null as Node | null };
    const take = (p: Probe) => {
      if (p.layer === "lower") out.lower = p.node!;
      else out[p.layer] = p.host!;
    };
    take(top);
    const below = top.layer !== "upper" || rest.length > 0;
    if (top.kind !== "dir") return { rel, top: top.layer, kind: top.kind as EntryKind, ...out, below, dir: null };
    // A directory: merge the directories below until an opaque one or a non-directory.
    let opaque = top.host ? rest.length > 0 && isOpaque(top.host.path) : false;
    for (const p of rest) {
      if (opaque || p.kind !== "dir") break;
      take(p);
      if (p.host) opaque = isOpaque(p.host.path);
    }
    const dir: DirLayers = { upper: out.upper?.path ?? null, cl: out.cl?.path ?? null, lower: out.lower?.ino ?? null };
    return { rel, top: top.layer, kind: "dir", ...out, below, dir };
  }

  /**
   * The names of a merged directory, upper first, then CL, then lower; whiteouts, markers and
   * duplicates left out. Each name comes with the kind of its top entry.
   */
  async list(d: DirLayers): Promise<Array<{ name: string; kind: EntryKind }>> {
    const seen = new Set<string>();
    const hidden = new Set<string>();
    const out: Array<{ name: string; kind: EntryKind }> = [];
    const host = (dir: string | null) => {
      if (!dir) return;
      const ents = readDirTyped(dir);
      const layerHidden: string[] = [];
      for (const e of ents) {
        const name = e.name;
        if (name.startsWith(".wh.")) {
          if (name !== OPAQUE_MARKER) layerHidden.push(name.slice(4));
          continue;
        }
        if (seen.has(name) || hidden.has(name)) continue;
        if (e.isCharacterDevice() && isWhiteout(join(dir, name))) {
          layerHidden.push(name);
          continue;
        }
        seen.add(name);
        out.push({ name, kind: e.isDirectory() ? "dir" : e.isSymbolicLink() ? "symlink" : e.isFile() ? "file" : "special" });
      }
      // A whiteout hides the name only in the layers below this one.
      for (const h of layerHidden) hidden.add(h);
    };
    host(d.upper);
    host(d.cl);
    if (d.lower !== null) {
      for (const n of await this.lower.children(d.lower)) {
        if (seen.has(n.name) || hidden.has(n.name) || isPrivateName(n.name)) continue;
        seen.add(n.name);
        out.push({ name: n.name, kind: nodeKind(n) });
      }
    }
    return out;
  }

  /** True when merged directory `d` shows no entries. */
  async isEmpty(d: DirLayers): Promise<boolean> {
    return (await this.list(d)).length === 0;
  }
}
