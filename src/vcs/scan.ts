/**
 * @module vcs/scan — the tree a writable mount shows, computed from its upper and CL layers over the base
 * tree, without reading one unchanged lower file: a directory that no host layer touches keeps its base
 * tree id as is; only directories present in the upper or CL layer are listed (base listings come from
 * the tree source, i.e. tree objects, never file contents). The overlay's rules apply (overlay/layers):
 * a whiteout (0/0 character device or `.wh.<name>`) hides the name below, a non-directory hides
 * everything below it, directories merge until an opaque one (xattr or `.wh..wh..opq`). Untracked
 * entries matched by `.gitignore` are left out; special files (fifos, sockets, devices) are skipped and
 * empty directories vanish, as in git. New trees are kept in the source's scratch map, new blobs as
 * "where to read them": nothing is written until a commit. A file at an LFS path (`filter=lfs` in the
 * attribute files of the scanned tree) gets its LFS pointer as its blob, as `git add` with git-lfs does.
 */
import { lstatSync, readlinkSync, type BigIntStats } from "node:fs";
import { join } from "node:path";
import { isOpaque, OPAQUE_MARKER, WH_PREFIX } from "../overlay/whiteout.ts";
import { cleanedBlob, toPointer } from "../lfs/clean.ts";
import type { AttributeFileName } from "../lfs/attributes.ts";
import { fsPath, readDirNames } from "../util/names.ts";
import type { HashCache } from "./hash-cache.ts";
import { LayerReader } from "./host-read.ts";
import { IgnoreStack } from "./ignore-rules.ts";
import { AttrStack } from "../lfs/attr-stack.ts";
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
  /**
   * Attribute files of the monorepo directories above the mount (their rules apply below, as on the read
   * path), and the mount's path relative to the monorepo root ("" for a root mount): attribute rules see
   * monorepo-relative paths.
   */
  attrsAbove?: { prefix: string; stack: AttrStack };
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

  /** A mount-relative path as the attribute rules see it (monorepo-relative). */
  private repoRel(rel: string): string {
    const prefix = this.input.attrsAbove?.prefix ?? "";
    return prefix === "" ? rel : rel === "" ? prefix : `${prefix}/${rel}`;
  }

  /** The root tree id the mount shows now. */
  async scan(): Promise<string> {
    const { upperDir, clDir, baseTree } = this.input;
    const tree = await this.dir("", upperDir, clDir, baseTree, IgnoreStack.empty(), this.input.attrsAbove?.stack ?? AttrStack.empty(), false);
    return tree ?? EMPTY_TREE_ID;
  }

  /** A host file or symlink as a blob entry (hashes cached by stat); at an LFS path, its pointer. */
  private async blob(p: HostEntry, lfs: boolean): Promise<TreeItem & { name: "" }> {
    if (p.kind === "symlink") {
      const target = readlinkSync(fsPath(p.path), { encoding: "buffer" });
      const oid = objectId("blob", target);
      this.input.source.scratchBlobs.set(oid, () => new Uint8Array(target));
      return { name: "", mode: "120000", oid };
    }
    const mode = (p.st.mode & S_IXUSR) !== 0n ? "100755" : "100644";
    if (lfs) return { name: "", mode, oid: await this.lfsBlob(p) };
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

  /**
   * The pointer blob of a file at an LFS path (git-lfs's clean filter; empty files and files that already
   * are pointers stay as they are). Cached apart from plain hashes, so a changed `.gitattributes` counts.
   */
  private async lfsBlob(p: HostEntry): Promise<string> {
    const content = () => this.files.stream(p.path, Number(p.st.size));
    const oid = await this.input.hashes.oidOfAsync(`lfs:${p.path}`, p.st, async () => objectId("blob", (await cleanedBlob(content(), true)).blob));
    const check = (blob: Uint8Array) => {
      if (objectId("blob", blob) !== oid) throw new VcsError("CHANGED_DURING_SCAN", `${p.path} changed while it was being committed; run the command again`, 409);
      return blob;
    };
    this.input.source.scratchLfs.set(oid, {
      pointer: async () => check((await cleanedBlob(content(), true)).blob),
      store: async (objects) => check((await toPointer(content(), { isLfsPath: true, objects })).blob),
    });
    return oid;
  }

  /** A file of the merged directory (upper, then CL layer, then base), or null when there is none. */
  private async layerFile(name: string, up: HostDir | null, cl: HostDir | null, base: Map<string, TreeItem>): Promise<Uint8Array | null> {
    for (const layer of [up, cl]) {
      const p = layer?.entries.get(name);
      if (!p) continue;
      if (p.kind === "file") return new Uint8Array(this.files.read(p.path));
      return null;
    }
    const b = base.get(name);
    if (b && b.mode !== "120000" && b.mode !== "160000" && !isTreeMode(b.mode)) return this.input.source.readBlob(b.oid);
    return null;
  }

  /**
   * The tree of merged directory `rel` (null when it ends up empty). `upper`/`cl` are host directories of
   * the layers that contribute, `base` the base tree below them (already cut by opacity and non-directories).
   */
  private async dir(rel: string, upperPath: string | null, clPath: string | null, baseId: string | null, ign: IgnoreStack, parentAttrs: AttrStack, inIgnored: boolean): Promise<string | null> {
    const up = upperPath ? listHost(upperPath) : null;
    let cl = clPath && !up?.opaque ? listHost(clPath) : null;
    if (up?.opaque) cl = null;
    const baseVisible = baseId !== null && !up?.opaque && !cl?.opaque;
    const baseItems = baseVisible ? await this.input.source.listTree(rel, baseId) : [];
    const base = new Map(baseItems.map((i) => [i.name, i]));
    const gitignore = inIgnored ? null : await this.layerFile(".gitignore", up, cl, base);
    const rules = gitignore === null ? ign : ign.with(rel, new TextDecoder().decode(gitignore));
    const attrs = await parentAttrs.with(this.repoRel(rel), (name: AttributeFileName) => this.layerFile(name, up, cl, base));

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
        out.push({ ...(await this.blob(top, top.kind === "file" && attrs.isLfsPath(this.repoRel(path)))), name });
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
      subdirs.push(this.dir(path, childUpper, childCl, childBase, rules, attrs, dirIgnored).then((sub) => (sub === null ? null : { name, mode: "40000", oid: sub })));
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
