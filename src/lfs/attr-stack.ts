/**
 * @module lfs/attr-stack — the attribute files that apply below a directory, collected while walking a
 * tree from its root down (like `.gitignore` rules): each directory adds its `.gitattributes` and then
 * `.libra_attributes`. Used where a walk already visits every directory on the way (a commit's scan, a
 * push's tree walk, the read-only view's directories); `LfsAttributes` answers one path over any tree.
 */
import { ATTRIBUTE_FILE_NAMES, checkAttr, parseAttributeFile, type AttributeFile, type AttributeFileName } from "./attributes.ts";

export class AttrStack {
  private constructor(private readonly files: readonly AttributeFile[]) {}

  static empty(): AttrStack {
    return new AttrStack([]);
  }

  /** True when no attribute file applies (every path is plain). */
  get isEmpty(): boolean {
    return this.files.length === 0;
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
