/**
 * @module vcs/lfs-files — Git LFS in a mount's commits, the push side: the LFS objects that a commit's
 * new trees point to (`lfsObjectsOf`), found with the attribute files (`.gitattributes`, then
 * `.libra_attributes`) of the committed tree carried down the walk (`AttrStack`). The scan (vcs/scan.ts)
 * makes the pointers in the first place, with the same rules.
 */
import { AttrStack } from "../lfs/attr-stack.ts";
import { parseLfsPointer, type LfsPointer } from "../lfs/pointer.ts";
import { isTreeMode, type ObjectStore } from "./objects.ts";
import type { BaseTreeSource } from "./tree-source.ts";

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
export async function lfsObjectsOf(src: BaseTreeSource, local: ObjectStore, tree: string, above: { prefix: string; stack: AttrStack } = { prefix: "", stack: AttrStack.empty() }): Promise<CommittedLfsObject[]> {
  const repoRel = (rel: string) => (above.prefix === "" ? rel : rel === "" ? above.prefix : `${above.prefix}/${rel}`);
  const found = new Map<string, CommittedLfsObject>();
  const walk = async (rel: string, id: string, parent: AttrStack): Promise<void> => {
    if (!local.has(id)) return;
    const items = await src.listTree(rel, id);
    const byName = new Map(items.map((i) => [i.name, i]));
    const attrs = await parent.with(repoRel(rel), async (name) => {
      const i = byName.get(name);
      return i && !isTreeMode(i.mode) && i.mode !== "120000" && i.mode !== "160000" ? src.readBlob(i.oid) : null;
    });
    for (const i of items) {
      const path = joinRel(rel, i.name);
      if (isTreeMode(i.mode)) await walk(path, i.oid, attrs);
      else if ((i.mode === "100644" || i.mode === "100755") && local.has(i.oid) && attrs.isLfsPath(repoRel(path))) {
        const pointer = parseLfsPointer(local.read(i.oid)!.body);
        if (!pointer || pointer.size === 0) continue;
        const seen = found.get(pointer.oid);
        if (seen) seen.paths.push(path);
        else found.set(pointer.oid, { pointer, paths: [path] });
      }
    }
  };
  await walk("", tree, above.stack);
  return [...found.values()];
}
