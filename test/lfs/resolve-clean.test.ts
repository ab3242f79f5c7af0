/**
 * The read-side decision (resolveLfs) and the commit-side conversion (toPointer), with git + git-lfs as
 * the oracle for what a commit stores.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { directoryAttributeSource, formatLfsPointer, LfsAttributes, LfsCommitFilter, LfsObjectDir, lfsOidOf, resolveLfs, resolveLfsBytes } from "../../src/lfs/index.ts";
import { gitBlobOid } from "../../src/remote/oid.ts";
import { git } from "../support/sample-repo.ts";

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "lfs-resolve-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const enc = new TextEncoder();
const content = enc.encode("the real content of a large file\n".repeat(100));
const pointerText = formatLfsPointer({ oid: lfsOidOf(content), size: content.byteLength });

/** A blob whose loads are counted, so tests can see that big blobs are never fetched. */
function blob(bytes: Uint8Array, sizeKnown = true) {
  const ref = { loads: 0, size: sizeKnown ? bytes.byteLength : null, load: async () => (ref.loads++, bytes) };
  return ref;
}

describe("resolveLfs", () => {
  const lfsPaths = async (p: string) => p.endsWith(".bin");

  test("a pointer at an LFS path shows the object's size and id", async () => {
    const r = await resolveLfs("a/model.bin", blob(enc.encode(pointerText)), lfsPaths);
    expect(r).toEqual({ kind: "lfs", pointer: { oid: lfsOidOf(content), size: content.byteLength, extensions: [] } });
  });

  test("the same pointer outside LFS patterns is an ordinary file, and is not even loaded", async () => {
    const b = blob(enc.encode(pointerText));
    expect(await resolveLfs("a/notes.txt", b, lfsPaths)).toEqual({ kind: "plain" });
    expect(b.loads).toBe(0);
  });

  test("a blob over 1024 bytes is never loaded nor matched", async () => {
    const b = blob(content);
    let asked = 0;
    expect(await resolveLfs("x.bin", b, async () => (asked++, true))).toEqual({ kind: "plain" });
    expect(b.loads + asked).toBe(0);
  });

  test("small non-pointer content and empty blobs at LFS paths are shown as they are", async () => {
    expect(await resolveLfs("x.bin", blob(enc.encode("not a pointer\n")), lfsPaths)).toEqual({ kind: "plain" });
    expect(await resolveLfs("x.bin", blob(new Uint8Array(0)), lfsPaths)).toEqual({ kind: "plain" });
  });

  test("a blob of unknown size is loaded to decide", async () => {
    const b = blob(enc.encode(pointerText), false);
    expect((await resolveLfs("x.bin", b, lfsPaths)).kind).toBe("lfs");
    expect(b.loads).toBe(1);
  });

  test("pointers that need extension programs are refused, never shown as text", () => {
    const o = lfsOidOf(content);
    const text = formatLfsPointer({ oid: o, size: 5, extensions: [{ priority: 0, name: "gpg", oid: o }] });
    const r = resolveLfsBytes(enc.encode(text), true);
    expect(r.kind).toBe("unsupported");
  });
});

describe("toPointer: what a commit stores", () => {
  test("matches the blob git + git-lfs put in the index, and stores the object", async () => {
    const work = join(tmp, "work");
    const env = { HOME: join(tmp, "home") };
    git(tmp, ["init", "-q", work], { env });
    const hasGitLfs = Bun.spawnSync(["git", "lfs", "version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
    writeFileSync(join(work, ".gitattributes"), "*.bin filter=lfs diff=lfs merge=lfs -text\n");
    const files: Record<string, Uint8Array> = {
      "big.bin": content,
      "empty.bin": new Uint8Array(0),
      "already.bin": enc.encode(pointerText),
      "plain.txt": enc.encode("plain text\n"),
      "sub/deep.bin": crypto.getRandomValues(new Uint8Array(100_000)),
    };
    git(tmp, ["-C", work, "config", "core.autocrlf", "false"]);
    for (const [p, bytes] of Object.entries(files)) {
      Bun.spawnSync(["mkdir", "-p", join(work, p, "..")]);
      writeFileSync(join(work, p), bytes);
    }
    const objects = new LfsObjectDir(join(tmp, "objects"));
    const filter = new LfsCommitFilter((p) => new LfsAttributes(directoryAttributeSource(work)).isLfsPath(p), objects);
    const ours: Record<string, string> = {};
    for (const [p, bytes] of Object.entries(files)) {
      const fromBytes = await filter.toPointer(p, bytes);
      const fromFile = await filter.toPointer(p, { file: join(work, p) });
      expect(fromFile.blob).toEqual(fromBytes.blob);
      const preview = await filter.cleanedBlob(p, bytes);
      expect(preview.blob).toEqual(fromBytes.blob);
      ours[p] = gitBlobOid(fromBytes.blob);
      if (fromBytes.object) {
        expect(new Uint8Array(readFileSync(objects.pathFor(fromBytes.object.oid)))).toEqual(new Uint8Array(bytes));
      }
    }
    // Real content became objects; the empty file and the pointer did not.
    expect(await objects.has(lfsOidOf(files["big.bin"]!))).toBe(true);
    expect(await objects.has(lfsOidOf(files["sub/deep.bin"]!))).toBe(true);
    expect(await objects.has(lfsOidOf(new Uint8Array(0)))).toBe(false);
    expect(await objects.has(lfsOidOf(enc.encode(pointerText)))).toBe(false);
    expect(readdirSync(objects.tmpDir)).toEqual([]);
    expect(ours["plain.txt"]).toBe(gitBlobOid(files["plain.txt"]!));
    expect(ours["already.bin"]).toBe(gitBlobOid(enc.encode(pointerText)));
    if (!hasGitLfs) return;
    git(work, ["lfs", "install", "--local"], { env });
    git(work, ["add", "."], { env });
    const index = git(work, ["ls-files", "-s"], { env });
    for (const [p, oid] of Object.entries(ours)) expect(index).toContain(`${oid} 0\t${p}\n`);
  });
});
