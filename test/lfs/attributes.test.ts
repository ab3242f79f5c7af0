import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { directoryAttributeSource } from "../../src/lfs/attribute-sources.ts";
import { checkAttr, LfsAttributes, parseAttributeFile, type AttrValue } from "../../src/lfs/attributes.ts";
import { wildmatch } from "../../src/lfs/wildmatch.ts";

const ROOT_ATTRS = [
  "# LFS patterns at the root",
  "*.bin filter=lfs diff=lfs merge=lfs -text",
  "*.psd filter=lfs",
  "/top.dat filter=lfs",
  "docs/*.pdf filter=lfs",
  "assets/** filter=lfs",
  "**/models/*.onnx filter=lfs",
  "big[0-9].iso filter=lfs",
  "img[[:digit:]].png filter=lfs",
  "*.txt -filter",
  "[attr]lfsmacro filter=lfs diff=lfs",
  "*.mac lfsmacro",
  "*.notmac -lfsmacro",
  '"with space.bin" -filter',
  '"\u00fc q.dat" filter=lfs',
  '"\\303\\251t\\303\\251.dat" filter=lfs',
  "!negated.bin -filter",
  "data/ filter=lfs",
  "f.{a,b} filter=lfs",
  "x\\?y filter=lfs",
  "*.both filter=lfs -filter",
  "*.both2 -filter filter=lfs",
  "*.bad filter=lfs b@d",
  "*.ovr filter=lfs",
  "*.ovr filter=other",
  "",
].join("\n");
const SUB_ATTRS = ["*.bin !filter", "keep.bin filter=lfs", "/anchored.psd -filter", "*.tga filter=lfs", "[attr]submacro filter=lfs", "*.sm submacro", ""].join("\n");
const DEEP_ATTRS = "*.psd filter=custom\n";

const PATHS = [
  "a.bin", "dir/a.bin", "sub/a.bin", "sub/keep.bin", "sub/deep/keep.bin", "top.dat", "sub/top.dat", "docs/x.pdf",
  "docs/y/x.pdf", "sub/docs/x.pdf", "assets/a/b/c", "assets", "models/m.onnx", "a/b/models/m.onnx", "big1.iso",
  "bigX.iso", "img5.png", "imgX.png", "readme.txt", "t.mac", "t.notmac", "sub/t.sm", "with space.bin", "negated.bin", "data",
  "data/file", "f.{a,b}", "f.a", "x?y", "xzy", "sub/anchored.psd", "sub/x/anchored.psd", "sub/deep/a.psd", "sub/deep/a.tga",
  "\u00fc.bin", "\u00fc q.dat", "\u00e9t\u00e9.dat", "sub/\u00e9t\u00e9.dat", "ete.dat", "\u00e9/x/y.bin", "plain.c", "q.both", "q.both2", "q.bad", "q.ovr",
];

let repo: string;

function write(rel: string, text: string) {
  mkdirSync(dirname(join(repo, rel)), { recursive: true });
  writeFileSync(join(repo, rel), text);
}

/** `git check-attr filter -- paths` with -z, as our AttrValue. */
function gitCheckAttr(paths: string[]): Map<string, AttrValue> {
  const p = Bun.spawnSync(["git", "-c", "core.quotepath=false", "check-attr", "-z", "filter", "--", ...paths], { cwd: repo, stdout: "pipe", stderr: "ignore" });
  if (p.exitCode !== 0) throw new Error("git check-attr failed");
  const f = p.stdout.toString().split("\0");
  const out = new Map<string, AttrValue>();
  for (let i = 0; i + 2 < f.length; i += 3) {
    const v = f[i + 2]!;
    out.set(f[i]!, v === "set" ? true : v === "unset" ? false : v === "unspecified" ? undefined : v);
  }
  return out;
}

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), "lfs-attrs-"));
  Bun.spawnSync(["git", "init", "-q", repo]);
  write(".gitattributes", ROOT_ATTRS);
  write("sub/.gitattributes", SUB_ATTRS);
  write("sub/deep/.gitattributes", DEEP_ATTRS);
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

describe("attribute matching agrees with git check-attr", () => {
  test("every path of the table", async () => {
    const attrs = new LfsAttributes(directoryAttributeSource(repo));
    const expected = gitCheckAttr(PATHS);
    expect(expected.size).toBe(PATHS.length);
    for (const path of PATHS) {
      const ours = await attrs.attribute(path, "filter");
      expect({ path, value: ours }).toEqual({ path, value: expected.get(path) });
    }
    // The table covers every outcome.
    const values = new Set([...expected.values()].map((v) => String(v)));
    for (const v of ["lfs", "false", "undefined", "custom", "other"]) expect(values).toContain(v);
  });

  test("a .libra_attributes file counts as lines after the directory's .gitattributes", async () => {
    write("lib/.gitattributes", "*.dat filter=lfs\n*.keep filter=lfs\n");
    write("lib/.libra_attributes", "*.dat -filter\n*.new filter=lfs\n");
    const attrs = new LfsAttributes(directoryAttributeSource(repo));
    // git's oracle for the same lines in one file.
    const oracle = mkdtempSync(join(tmpdir(), "lfs-attrs-oracle-"));
    try {
      Bun.spawnSync(["git", "init", "-q", oracle]);
      mkdirSync(join(oracle, "lib"));
      writeFileSync(join(oracle, "lib/.gitattributes"), "*.dat filter=lfs\n*.keep filter=lfs\n*.dat -filter\n*.new filter=lfs\n");
      const p = Bun.spawnSync(["git", "check-attr", "filter", "--", "lib/a.dat", "lib/a.keep", "lib/a.new"], { cwd: oracle, stdout: "pipe" });
      expect(p.stdout.toString()).toBe("lib/a.dat: filter: unset\nlib/a.keep: filter: lfs\nlib/a.new: filter: lfs\n");
    } finally {
      rmSync(oracle, { recursive: true, force: true });
    }
    expect(await attrs.attribute("lib/a.dat", "filter")).toBe(false);
    expect(await attrs.isLfsPath("lib/a.keep")).toBe(true);
    expect(await attrs.isLfsPath("lib/a.new")).toBe(true);
    expect(await attrs.isLfsPath("a.new")).toBe(false);
  });

  test("an edited attribute file is read again", async () => {
    const attrs = new LfsAttributes(directoryAttributeSource(repo));
    write("edit/.gitattributes", "*.z filter=lfs\n");
    expect(await attrs.isLfsPath("edit/f.z")).toBe(true);
    write("edit/.gitattributes", "*.z -filter\n# changed size\n");
    expect(await attrs.isLfsPath("edit/f.z")).toBe(false);
  });
});

describe("attribute file parsing", () => {
  test("warns for lines git ignores", () => {
    const f = parseAttributeFile("!neg filter=lfs\n*.x b@d\n[attr]m filter=lfs\n", "sub");
    expect(f.lines).toHaveLength(0);
    expect(f.warnings).toHaveLength(3);
  });

  test("overlong lines are ignored", () => {
    const f = parseAttributeFile(`${"a".repeat(2100)} filter=lfs\n*.y filter=lfs\n`, "");
    expect(checkAttr([f], "x.y", "filter")).toBe("lfs");
    expect(f.warnings[0]).toContain("overly long");
  });
});

describe("wildmatch (git's t3070 cases)", () => {
  const cases: Array<[string, string, boolean, boolean]> = [
    // pattern, text, match without pathname, match with pathname
    ["foo", "foo", true, true],
    ["*", "foo/bar", true, false],
    ["**", "foo/bar", true, true],
    ["foo/**", "foo/bar/baz", true, true],
    ["foo/**/bar", "foo/bar", true, true],
    ["foo/**/bar", "foo/a/b/bar", true, true],
    ["**/foo", "foo", true, true],
    ["**/foo", "x/y/foo", true, true],
    ["foo*bar", "foo/baz/bar", true, false],
    ["foo**bar", "foo/baz/bar", false, false],
    ["*/bar", "foo/bar", true, true],
    ["?", "/", true, false],
    ["[a-c]x", "bx", true, true],
    ["[!a-c]x", "dx", true, true],
    ["[^a-c]x", "ax", false, false],
    ["[[:alpha:]]1", "z1", true, true],
    ["[[:bogus:]]", "a", false, false],
    ["[a-]", "-", true, true],
    ["\\*", "*", true, true],
    ["\\*", "x", false, false],
    ["a[/]b", "a/b", true, false],
    ["*.c", "dir/x.c", true, false],
    ["**/*.c", "dir/x.c", true, true],
    ["[]]", "]", true, true],
    ["[\\]]", "]", true, true],
    ["a/*/c", "a/b/c", true, true],
    ["a/*/c", "a/b/x/c", true, false],
    ["a/b*", "a/bcd", true, true],
    ["a/b*", "a/b/c", true, false],
    ["**/b/**", "a/b/c/d", true, true],
    ["a/?/c", "a/x/c", true, true],
    ["**/*.o", "x.o", true, true],
  ];
  for (const [p, t, plain, path] of cases) {
    test(`${p} ~ ${t}`, () => {
      expect(wildmatch(p, t, { pathname: false })).toBe(plain);
      expect(wildmatch(p, t, { pathname: true })).toBe(path);
    });
  }

  test("patterns with a slash match what git check-attr matches (WM_PATHNAME)", () => {
    const oracle = mkdtempSync(join(tmpdir(), "lfs-wild-"));
    try {
      Bun.spawnSync(["git", "init", "-q", oracle]);
      const withSlash = cases.filter(([p]) => p.includes("/") && !p.endsWith("/"));
      expect(withSlash.length).toBeGreaterThanOrEqual(10);
      writeFileSync(join(oracle, ".gitattributes"), withSlash.map(([p], i) => `${p} case${i}\n`).join(""));
      withSlash.forEach(([p, t, , path], i) => {
        const out = Bun.spawnSync(["git", "check-attr", `case${i}`, "--", t], { cwd: oracle, stdout: "pipe" }).stdout.toString();
        expect({ p, t, git: out.endsWith(": set\n") }).toEqual({ p, t, git: path });
      });
    } finally {
      rmSync(oracle, { recursive: true, force: true });
    }
  });
});
