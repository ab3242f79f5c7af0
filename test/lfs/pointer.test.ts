import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatLfsPointer, inspectLfsPointer, lfsOidOf, parseLfsPointer } from "../../src/lfs/pointer.ts";

const hasGitLfs = Bun.spawnSync(["git", "lfs", "version"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;

/** git-lfs's own verdict: 0 = canonical pointer, 1 = not a pointer, 2 = a pointer git-lfs would not write. */
function gitLfsCheck(text: string): number {
  const p = Bun.spawnSync(["git", "lfs", "pointer", "--check", "--strict", "--stdin"], { stdin: Buffer.from(text), stdout: "ignore", stderr: "ignore" });
  return p.exitCode;
}

const O = lfsOidOf(new TextEncoder().encode("hello"));
const V = "version https://git-lfs.github.com/spec/v1";

const CASES: Array<[string, string]> = [
  ["canonical", `${V}\noid sha256:${O}\nsize 5\n`],
  ["size 0", `${V}\noid sha256:${O}\nsize 0\n`],
  ["big size", `${V}\noid sha256:${O}\nsize 9007199254740991\n`],
  ["extension", `${V}\next-0-foo sha256:${O}\noid sha256:${O}\nsize 5\n`],
  ["two extensions", `${V}\next-0-foo sha256:${O}\next-1-bar sha256:${O}\noid sha256:${O}\nsize 5\n`],
  ["upper-case oid", `${V}\noid sha256:${O.toUpperCase()}\nsize 5\n`],
  ["65 hex digits", `${V}\noid sha256:${O}a\nsize 5\n`],
  ["63 hex digits", `${V}\noid sha256:${O.slice(1)}\nsize 5\n`],
  ["sha1 oid type", `${V}\noid sha1:${O.slice(0, 40)}\nsize 5\n`],
  ["leading zero size", `${V}\noid sha256:${O}\nsize 05\n`],
  ["negative size", `${V}\noid sha256:${O}\nsize -5\n`],
  ["size not a number", `${V}\noid sha256:${O}\nsize five\n`],
  ["CRLF", `${V}\r\noid sha256:${O}\r\nsize 5\r\n`],
  ["no final newline", `${V}\noid sha256:${O}\nsize 5`],
  ["blank line", `${V}\n\noid sha256:${O}\nsize 5\n`],
  ["trailing blank line", `${V}\noid sha256:${O}\nsize 5\n\n`],
  ["keys out of order", `${V}\nsize 5\noid sha256:${O}\n`],
  ["version not first", `oid sha256:${O}\n${V}\nsize 5\n`],
  ["no size", `${V}\noid sha256:${O}\n`],
  ["no oid", `${V}\nsize 5\n`],
  ["unknown key", `${V}\noid sha256:${O}\nsize 5\nzzz 1\n`],
  ["old alias version", `version https://hawser.github.com/spec/v1\noid sha256:${O}\nsize 5\n`],
  ["unknown version", `version https://example.com/spec/v9\noid sha256:${O}\nsize 5\n`],
  ["double space", `${V}\noid  sha256:${O}\nsize 5\n`],
  ["plain text", "hello world\n"],
  ["empty", ""],
];

describe("LFS pointer parsing", () => {
  test("formats what git lfs pointer prints", () => {
    const dir = mkdtempSync(join(tmpdir(), "lfs-ptr-"));
    try {
      for (const content of ["hello", "x".repeat(100_000), "\u00e9\n\0binary"]) {
        const bytes = new TextEncoder().encode(content);
        const text = formatLfsPointer({ oid: lfsOidOf(bytes), size: bytes.byteLength });
        expect(parseLfsPointer(text)).toEqual({ oid: lfsOidOf(bytes), size: bytes.byteLength, extensions: [] });
        if (hasGitLfs) {
          writeFileSync(join(dir, "f"), bytes);
          const p = Bun.spawnSync(["git", "lfs", "pointer", `--file=${join(dir, "f")}`], { stdout: "pipe", stderr: "ignore" });
          expect(p.stdout.toString()).toBe(text);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("round-trips extensions in priority order", () => {
    const p = { oid: O, size: 7, extensions: [{ priority: 1, name: "b", oid: O }, { priority: 0, name: "a", oid: O }] };
    const parsed = parseLfsPointer(formatLfsPointer(p));
    expect(parsed?.extensions.map((e) => e.name)).toEqual(["a", "b"]);
  });

  test("refuses bad input to the formatter", () => {
    expect(() => formatLfsPointer({ oid: "abc", size: 1 })).toThrow(RangeError);
    expect(() => formatLfsPointer({ oid: O, size: -1 })).toThrow(RangeError);
  });

  test("over 1024 bytes is never a pointer", () => {
    const long = `${V}\n${Array.from({ length: 10 }, (_, i) => `ext-${i}-${"n".repeat(30)} sha256:${O}\n`).join("")}oid sha256:${O}\nsize 5\n`;
    expect(long.length).toBeGreaterThan(1024);
    expect(inspectLfsPointer(long)).toEqual({ ok: false, reason: "larger than 1024 bytes" });
  });

  test("not UTF-8 is not a pointer", () => {
    expect(parseLfsPointer(new Uint8Array([0xff, 0xfe, 0x0a]))).toBeNull();
  });

  /**
   * Where we differ from git-lfs on purpose. git-lfs's canonical pointer of an empty object is the empty
   * file, so it calls "size 0" non-canonical and "" a pointer; both smudge to an empty file, and so do we
   * ("" is just an empty blob, a size-0 pointer resolves to no content).
   */
  const DIFFERENT: Record<string, boolean> = { "size 0": true, empty: false };

  for (const [name, text] of CASES) {
    test(`${name}: agrees with git lfs pointer --check --strict`, () => {
      const ours = parseLfsPointer(text) !== null;
      if (name in DIFFERENT) {
        expect(ours).toBe(DIFFERENT[name]!);
        if (hasGitLfs) expect(gitLfsCheck(text) === 0).toBe(!DIFFERENT[name]);
        return;
      }
      if (hasGitLfs) expect(ours).toBe(gitLfsCheck(text) === 0);
      else expect(ours).toBe(["canonical", "size 0", "big size", "extension", "two extensions"].includes(name));
    });
  }
});
