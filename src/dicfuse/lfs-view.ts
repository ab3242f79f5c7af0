/**
 * @module dicfuse/lfs-view — how a view shows Git LFS files. A file is an LFS file when `filter=lfs`
 * applies to its path (the `.gitattributes`/`.libra_attributes` of its directories, monorepo root first,
 * read from the view's listings and the object store) and its blob is a canonical pointer. It is then
 * shown with the pointer's size (no download for `stat`) and the LFS object as its content.
 *
 * Decisions are made once per (inode, blob id) and kept in memory; the attribute files of a directory
 * are collected once per (directory, tree id). A small blob at an LFS path is read to see whether it is
 * a pointer (≤ 1024 bytes, one cached GET); a blob of unknown size is sized first, so a big non-pointer
 * file is never downloaded just to be stat'ed.
 */
import { AttrStack } from "../lfs/attr-stack.ts";
import { ATTRIBUTE_FILE_NAMES, type AttributeFileName } from "../lfs/attributes.ts";
import { LFS_POINTER_MAX_BYTES } from "../lfs/pointer.ts";
import { resolveLfsBytes, type LfsResolution } from "../lfs/resolve.ts";
import type { Ino, ObjectStore, Oid, ViewTreeStore } from "../store/index.ts";
import type { Node } from "./types.ts";
import { setBounded } from "../util/bounded-map.ts";

const PLAIN: LfsResolution = { kind: "plain" };
/** Decisions kept in memory (oldest dropped first); a dropped one is simply made again. */
const MAX_DECISIONS = 200_000;
const MAX_DIR_STACKS = 20_000;

export interface LfsViewHost {
  readonly tree: ViewTreeStore;
  readonly objects: ObjectStore;
  /** The monorepo path of an inode ("/a/b"). */
  remotePath(ino: number): string;
  /** The view's base path ("/" or "/a/b"). */
  readonly basePath: string;
  /** The commit the view shows (pinned or followed), for listings of directories above its base. */
  readonly commit: Oid | null;
  /** Makes sure a directory's listing is loaded. */
  ensureLoaded(dirIno: number): Promise<void>;
}

export class LfsView {
  private readonly decisions = new Map<number, { oid: Oid; res: LfsResolution }>();
  /** Attribute rules per directory and tree id; `value` once read (so listings can use them without a turn). */
  private readonly dirStacks = new Map<number, { oid: Oid | null; stack: Promise<AttrStack>; value?: AttrStack }>();
  private above: { commit: Oid | null; stack: Promise<AttrStack> } | null = null;

  constructor(private readonly host: LfsViewHost) {}

  /**
   * A listing changed: when an attribute file came, went or changed, every decision may change (rules
   * apply to whole subtrees), so all are made again. Decisions of unchanged blobs otherwise stand.
   */
  listingChanged(names: readonly string[]): void {
    if (!names.some((n) => (ATTRIBUTE_FILE_NAMES as readonly string[]).includes(n))) return;
    this.decisions.clear();
    this.dirStacks.clear();
    this.above = null;
  }

  /** The decision for a file already made (and still valid for its blob), or undefined. */
  decided(node: Node): LfsResolution | undefined {
    if (node.kind !== "file" || !node.oid) return PLAIN;
    const d = this.decisions.get(node.ino);
    return d && d.oid === node.oid ? d.res : undefined;
  }

  /** How a file is shown: plain, an LFS object (pointer), or an unsupported pointer. */
  async resolve(node: Node, signal?: AbortSignal): Promise<LfsResolution> {
    const known = this.decided(node);
    if (known) return known;
    return this.remember(node, await this.decide(node, node.oid!, signal));
  }

  /**
   * Decides, for the files of directory `dirIno` listed in `files`, what needs no download: plain by
   * the attribute rules (no `filter=lfs` applies) or by size (empty, or too big for a pointer). Done at
   * once (undefined) when the directory's rules are known; otherwise a promise that reads them first.
   * A listing calls this so that its entries can carry their attributes; files left undecided are
   * decided on their own later.
   */
  decideListing(dirIno: number, files: readonly Node[]): Promise<void> | undefined {
    const undecided = files.filter((f) => f.kind === "file" && f.oid && this.decided(f) === undefined);
    if (undecided.length === 0) return undefined;
    const dir = this.host.tree.inodes.getInode(dirIno as Ino);
    const hit = this.dirStacks.get(dirIno);
    if (hit?.value && hit.oid === (dir?.oid ?? null)) return this.decideWith(hit.value, dirIno, undecided);
    return this.stackOf(dirIno).then((stack) => this.decideWith(stack, dirIno, undecided));
  }

  private decideWith(stack: AttrStack, dirIno: number, files: readonly Node[]): undefined {
    const dirPath = stack.isEmpty ? "" : this.host.remotePath(dirIno).replace(/^\/+/, "");
    for (const f of files) {
      // The rules first: in a tree without LFS paths they settle every file with no per-file query.
      if (!stack.isLfsPath(dirPath ? `${dirPath}/${f.name}` : f.name)) {
        this.remember(f, PLAIN);
        continue;
      }
      const size = this.host.objects.knownSize(f.oid!);
      if (size !== null && (size === 0 || size > LFS_POINTER_MAX_BYTES)) this.remember(f, PLAIN);
    }
    return undefined;
  }

  private remember(node: Node, res: LfsResolution): LfsResolution {
    setBounded(this.decisions, node.ino, { oid: node.oid!, res }, MAX_DECISIONS);
    return res;
  }

  private async decide(node: Node, oid: Oid, signal?: AbortSignal): Promise<LfsResolution> {
    const size = this.host.objects.knownSize(oid);
    if (size !== null && (size === 0 || size > LFS_POINTER_MAX_BYTES)) return PLAIN;
    if (node.parent === 0) return PLAIN;
    const stack = await this.stackOf(node.parent);
    if (!stack.isLfsPath(this.host.remotePath(node.ino).replace(/^\/+/, ""))) return PLAIN;
    const blobSize = size ?? (await this.host.objects.size(oid, { signal }));
    if (blobSize === 0 || blobSize > LFS_POINTER_MAX_BYTES) return PLAIN;
    const { bytes } = await this.host.objects.read(oid, { signal });
    return resolveLfsBytes(bytes, true);
  }

  /** The attribute files that apply to the entries of directory `dirIno` (its own included). */
  private stackOf(dirIno: number): Promise<AttrStack> {
    const dir = this.host.tree.inodes.getInode(dirIno as Ino);
    const oid = dir?.oid ?? null;
    const hit = this.dirStacks.get(dirIno);
    if (hit && hit.oid === oid) return hit.stack;
    const parent = dir && dir.parent !== 0 ? this.stackOf(dir.parent) : this.aboveBase();
    const stack = parent.then(async (p) => {
      await this.host.ensureLoaded(dirIno);
      const rel = this.host.remotePath(dirIno).replace(/^\/+/, "");
      return p.with(rel, async (name: AttributeFileName) => {
        const f = this.host.tree.inodes.lookupChild(dirIno as Ino, name);
        if (!f || f.kind !== "file" || !f.oid) return null;
        return (await this.host.objects.read(f.oid)).bytes;
      });
    });
    const entry: { oid: Oid | null; stack: Promise<AttrStack>; value?: AttrStack } = { oid, stack };
    // A failed read is not remembered: the next request tries again.
    stack.then(
      (value) => { entry.value = value; },
      () => { if (this.dirStacks.get(dirIno) === entry) this.dirStacks.delete(dirIno); },
    );
    setBounded(this.dirStacks, dirIno, entry, MAX_DIR_STACKS);
    return stack;
  }

  /** Attribute files of the monorepo directories above a sub-path view's base (root first). */
  private aboveBase(): Promise<AttrStack> {
    const commit = this.host.commit;
    if (this.above && this.above.commit === commit) return this.above.stack;
    const parts = this.host.basePath.split("/").filter((p) => p !== "");
    const stack = (async () => {
      let s = AttrStack.empty();
      for (let i = 0; i < parts.length; i++) {
        const dir = "/" + parts.slice(0, i).join("/");
        const { entries } = await this.host.objects.listing(dir, { commit });
        s = await s.with(parts.slice(0, i).join("/"), async (name) => {
          const e = entries.find((x) => x.name === name && x.kind === "blob" && x.mode !== 0o120000);
          return e ? (await this.host.objects.read(e.oid)).bytes : null;
        });
      }
      return s;
    })();
    stack.catch(() => {
      if (this.above?.stack === stack) this.above = null;
    });
    this.above = { commit, stack };
    return stack;
  }
}
