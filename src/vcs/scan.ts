/**
 * @module vcs/scan — the tree a writable mount shows, computed from its upper and CL layers over the base
 * tree, without reading one unchanged lower file: a directory that no host layer touches keeps its base
 * tree id as is; only directories present in the upper or CL layer are listed (base listings come from
 * the tree source, i.e. tree objects, never file contents). The overlay's rules apply (overlay/layers):
 * a whiteout (0/0 character device or `.wh.<name>`) hides the name below, a non-directory hides
 * everything below it, directories merge until an opaque one (xattr or `.wh..wh..opq`). Untracked
 * entries matched by `.gitignore` are left out; special files (fifos, sockets, devices) are skipped and
 * empty directories vanish, as in git. New trees are kept in the source's scratch map, new blobs as
 * "where to read them": nothing is written until a commit.
 */
import { lstatSync, readlinkSync, type BigIntStats } from "node:fs";
import { join } from "node:path";
import { isOpaque, OPAQUE_MARKER, WH_PREFIX } from "../overlay/whiteout.ts";
import { fsPath, readDirNames } from "../util/names.ts";
import type { HashCache } from "./hash-cache.ts";
import { LayerReader } from "./host-read.ts";
import { IgnoreStack } from "./ignore-rules.ts";
import { EMPTY_TREE_ID, encodeTree, isTreeMode, objectId, type TreeItem } from "./objects.ts";
import { VcsError, type MountTreeSource } from "./tree-source.ts";

type HostEntry = { kind: "dir" | "file" | "symlink" | "special"; path: string; st: BigIntStats };
type HostProbe = { kind: "whiteout" } | HostEntry;

interface HostDir {
  entries: Map<string, HostProbe>;
  opaque: boolean;
}

export interface ScanInput {
  upperDir: string;
  clDir: string | null;
  baseTree: string;
  source: MountTreeSource;
  hashes: HashCache;
  /**
   * Paths tracked although not in the base: files the local commits added. Like git, a tracked file stays
   * in the tree when a `.gitignore` pattern matches it.
   */
  tracked?: ReadonlySet<string>;
}

const S_IXUSR = 0o100n;

function listHost(dir: string): HostDir {
  const entries = new Map<string, HostProbe>();
  for (const name of readDirNames(dir)) {
    if (name.startsWith(WH_PREFIX)) {
      if (name !== OPAQUE_MARKER) entries.set(name.slice(WH_PREFIX.length), { kind: "whiteout" });
      continue;
    }
    if (entries.get(name)?.kind === "whiteout") continue;
    const path = join(dir, name);
    const st = lstatSync(fsPath(path), { bigint: true, throwIfNoEntry: false });
    if (!st) continue;
    if (st.isCharacterDevice() && st.rdev === 0n) entries.set(name, { kind: "whiteout" });
    else entries.set(name, { kind: st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : "special", path, st });
  }
  return { entries, opaque: isOpaque(dir) };
}

const joinRel = (parent: string, name: string) => (parent === "" ? name : `${parent}/${name}`);

export class MountScanner {
  /** Directories holding a path of `input.tracked`. */
  private readonly trackedDirs = new Set<string>();
  private readonly files: LayerReader;

  constructor(private readonly input: ScanInput) {
    this.files = new LayerReader([input.upperDir, input.clDir]);
    for (const p of input.tracked ?? []) {
      for (let i = p.indexOf("/"); i >= 0; i = p.indexOf("/", i + 1)) this.trackedDirs.add(p.slice(0, i));
    }
  }

  /** The root tree id the mount shows now. */
  async scan(): Promise<string> {
    const { upperDir, clDir, baseTree } = this.input;
    const tree = await this.dir("", upperDir, clDir, baseTree, IgnoreStack.empty(), false);
    return tree ?? EMPTY_TREE_ID;
  }

  /** A host file or symlink as a blob entry (hashes cached by stat). */
  private blob(p: HostEntry): TreeItem & { name: "" } {
    if (p.kind === "symlink") {
      const target = readlinkSync(fsPath(p.path), { encoding: "buffer" });
      const oid = objectId("blob", target);
      this.input.source.scratchBlobs.set(oid, () => new Uint8Array(target));
      return { name: "", mode: "120000", oid };
    }
    const mode = (p.st.mode & S_IXUSR) !== 0n ? "100755" : "100644";
    const oid = this.input.hashes.oidOf(p.path, p.st, () => objectId("blob", this.files.read(p.path)));
    const files = this.files;
    this.input.source.scratchBlobs.set(oid, () => {
      const bytes = files.read(p.path);
      // The file may have changed since it was hashed: a commit must hold exactly the object it names.
      if (objectId("blob", bytes) !== oid) throw new VcsError("CHANGED_DURING_SCAN", `${p.path} changed while it was being committed; run the command again`, 409);
      return new Uint8Array(bytes);
    });
    return { name: "", mode, oid };
  }

  private async gitignoreText(rel: string, up: HostDir | null, cl: HostDir | null, base: Map<string, TreeItem>): Promise<string | null> {
    for (const layer of [up, cl]) {
      const p = layer?.entries.get(".gitignore");
      if (!p) continue;
      if (p.kind === "whiteout") return null;
      if (p.kind === "file") return this.files.read(p.path).toString("utf8");
      return null;
    }
    const b = base.get(".gitignore");
    if (b && b.mode !== "120000" && !isTreeMode(b.mode)) return new TextDecoder().decode(await this.input.source.readBlob(b.oid));
    return null;
  }

  /**
   * The tree of merged directory `rel` (null when it ends up empty). `upper`/`cl` are host directories of
   * the layers that contribute, `base` the base tree below them (already cut by opacity and non-directories).
   */
  private async dir(rel: string, upperPath: string | null, clPath: string | null, baseId: string | null, ign: IgnoreStack, inIgnored: boolean): Promise<string | null> {
    const up = upperPath ? listHost(upperPath) : null;
    let cl = clPath && !up?.opaque ? listHost(clPath) : null;
    if (up?.opaque) cl = null;
    const baseVisible = baseId !== null && !up?.opaque && !cl?.opaque;
    const baseItems = baseVisible ? await this.input.source.listTree(rel, baseId) : [];
    const base = new Map(baseItems.map((i) => [i.name, i]));
    const rules = inIgnored ? ign : ign.with(rel, await this.gitignoreText(rel, up, cl, base));

    const names = new Set<string>([...(up?.entries.keys() ?? []), ...(cl?.entries.keys() ?? []), ...base.keys()]);
    const out: TreeItem[] = [];
    const subdirs: Array<Promise<TreeItem | null>> = [];
    for (const name of names) {
      const probes: Array<HostEntry | { kind: "base"; item: TreeItem }> = [];
      let hidden = false;
      for (const layer of [up, cl]) {
        const p = layer?.entries.get(name);
        if (!p) continue;
        if (p.kind === "whiteout") {
          hidden = true;
          break;
        }
        probes.push(p);
      }
      const b = base.get(name);
      if (!hidden && b) probes.push({ kind: "base", item: b });
      const top = probes[0];
      if (!top) continue;
      const path = joinRel(rel, name);
      const tracked = b !== undefined || (this.input.tracked?.has(path) ?? false);
      if (top.kind === "base") {
        out.push(top.item);
        continue;
      }
      if (top.kind === "special") continue;
      if (top.kind !== "dir") {
        if (!tracked && (inIgnored || rules.ignores(path, false))) continue;
        out.push({ ...this.blob(top), name });
        continue;
      }
      // A directory: merge the directories below it until a non-directory.
      let childUpper: string | null = null;
      let childCl: string | null = null;
      let childBase: string | null = null;
      for (const p of probes) {
        if (p.kind === "base") {
          if (isTreeMode(p.item.mode)) childBase = p.item.oid;
          break;
        }
        if (p.kind !== "dir") break;
        if (p === up?.entries.get(name)) childUpper = p.path;
        else childCl = p.path;
      }
      const dirIgnored = inIgnored || rules.ignores(path, true);
      if (dirIgnored && childBase === null && !this.trackedDirs.has(path)) continue;
      // Sub-directories are scanned concurrently (their base listings may come over the network).
      subdirs.push(this.dir(path, childUpper, childCl, childBase, rules, dirIgnored).then((sub) => (sub === null ? null : { name, mode: "40000", oid: sub })));
    }
    for (const sub of await Promise.all(subdirs)) if (sub !== null) out.push(sub);
    if (out.length === 0) return null;
    if (baseVisible && sameItems(out, baseItems)) return baseId;
    const body = encodeTree(out);
    const oid = objectId("tree", body);
    this.input.source.scratch.set(oid, out);
    return oid;
  }
}

function sameItems(a: readonly TreeItem[], b: readonly TreeItem[]): boolean {
  if (a.length !== b.length) return false;
  const m = new Map(b.map((i) => [i.name, i]));
  return a.every((i) => {
    const o = m.get(i.name);
    return o !== undefined && o.oid === i.oid && (o.mode === i.mode || (isTreeMode(o.mode) && isTreeMode(i.mode)));
  });
}
