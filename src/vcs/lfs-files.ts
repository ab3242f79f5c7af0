/**
 * @module vcs/lfs-files — Git LFS in a mount's commits. Which files are LFS files is decided by the
 * attribute files (`.gitattributes`, then `.libra_attributes`) of the tree being committed, carried down
 * a tree walk like `.gitignore` rules (`AttrStack`): the scan reads them from the upper layer, then the CL
 * layer, then the base tree, never through the mount. A push uploads the LFS objects that the new trees
 * point to (`lfsObjectsOf`) before it sends the pack.
 */
import { checkAttr, parseAttributeFile, ATTRIBUTE_FILE_NAMES, type AttributeFile, type AttributeFileName } from "../lfs/attributes.ts";
import { parseLfsPointer, type LfsPointer } from "../lfs/pointer.ts";
import { isTreeMode, type ObjectStore } from "./objects.ts";
import type { BaseTreeSource } from "./tree-source.ts";

/** The attribute files that apply below a directory, root first. */
export class AttrStack {
  private constructor(private readonly files: readonly AttributeFile[]) {}

  static empty(): AttrStack {
    return new AttrStack([]);
  }

  /** This stack plus directory `dir`'s attribute files (`read` gives a file's bytes, or null: no file). */
  async with(dir: string, read: (name: AttributeFileName) => Promise<Uint8Array | null>): Promise<AttrStack> {
    const added: AttributeFile[] = [];
    for (const name of ATTRIBUTE_FILE_NAMES) {
      const bytes = await read(name);
      if (bytes !== null && bytes.byteLength > 0) added.push(parseAttributeFile(bytes, dir, `${dir ? dir + "/" : ""}${name}`));
    }
    return added.length === 0 ? this : new AttrStack([...this.files, ...added]);
  }

  /** `git check-attr filter -- path` is `lfs` (path relative to the stack's root). */
  isLfsPath(path: string): boolean {
    return this.files.length > 0 && checkAttr(this.files, path, "filter") === "lfs";
  }
}

/** An LFS object a commit points to, with the paths that name it. */
export interface CommittedLfsObject {
  pointer: LfsPointer;
  paths: string[];
}

const joinRel = (p: string, n: string) => (p === "" ? n : `${p}/${n}`);

/**
 * The LFS objects named by the new blobs of `tree`: pointer blobs at LFS paths, found in the trees and
 * blobs of `local` (what a push packs; anything else is on the server already, its objects too).
 */
export async function lfsObjectsOf(src: BaseTreeSource, local: ObjectStore, tree: string): Promise<CommittedLfsObject[]> {
  const found = new Map<string, CommittedLfsObject>();
  const walk = async (rel: string, id: string, parent: AttrStack): Promise<void> => {
    if (!local.has(id)) return;
    const items = await src.listTree(rel, id);
    const byName = new Map(items.map((i) => [i.name, i]));
    const attrs = await parent.with(rel, async (name) => {
      const i = byName.get(name);
      return i && !isTreeMode(i.mode) && i.mode !== "120000" && i.mode !== "160000" ? src.readBlob(i.oid) : null;
    });
    for (const i of items) {
      const path = joinRel(rel, i.name);
      if (isTreeMode(i.mode)) await walk(path, i.oid, attrs);
      else if ((i.mode === "100644" || i.mode === "100755") && local.has(i.oid) && attrs.isLfsPath(path)) {
        const pointer = parseLfsPointer(local.read(i.oid)!.body);
        if (!pointer || pointer.size === 0) continue;
        const seen = found.get(pointer.oid);
        if (seen) seen.paths.push(path);
        else found.set(pointer.oid, { pointer, paths: [path] });
      }
    }
  };
  await walk("", tree, AttrStack.empty());
  return [...found.values()];
}
