/**
 * @module lfs/attribute-sources — AttributeSource over a directory on disk (a work tree, a job mount's
 * upper or merged view). The read-only view and git trees supply their own (blob oid as the id).
 */
import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import { errnoOf, Errno } from "../util/errno.ts";
import { fsPath } from "../util/names.ts";
import type { AttributeFileName, AttributeFileRef, AttributeSource } from "./attributes.ts";

/** Attribute files under `root`; the id is (inode, size, mtime), so an edited file is parsed again. */
export function directoryAttributeSource(root: string): AttributeSource {
  return {
    async lookup(dir: string, name: AttributeFileName): Promise<AttributeFileRef | null> {
      const path = join(root, dir, name);
      try {
        // git does not follow a symlinked attribute file in the tree.
        const st = await lstat(fsPath(path), { bigint: true });
        if (!st.isFile()) return null;
        return { id: `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`, load: async () => new Uint8Array(await readFile(fsPath(path))) };
      } catch (err) {
        const e = errnoOf(err);
        if (e === Errno.ENOENT || e === Errno.ENOTDIR) return null;
        throw err;
      }
    },
  };
}
