/**
 * The VCS building blocks against the git CLI on the same files: `.gitignore` rules (a table checked
 * with `git check-ignore`), the scanner's trees (`git add -A && git write-tree`, non-UTF-8 names, exec
 * bits, symlinks, nested ignore files, empty directories), whiteouts and opaque directories over a base
 * tree, and commit objects byte-exact with `git commit-tree`.
 */
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { makeTempDir, removeDir } from "../support/mount-fixture.ts";
import { git } from "../support/sample-repo.ts";
import type { MegaClient } from "../../src/remote/index.ts";
import { classify, diffTrees, similarity } from "../../src/vcs/changes.ts";
import { HashCache } from "../../src/vcs/hash-cache.ts";
import { LayerReader } from "../../src/vcs/host-read.ts";
import { IgnoreStack } from "../../src/vcs/ignore-rules.ts";
import { cleanMessage, EMPTY_TREE_ID, encodeCommit, ObjectStore } from "../../src/vcs/objects.ts";
import { filePatch } from "../../src/vcs/patch.ts";
import { MountScanner } from "../../src/vcs/scan.ts";
import { MountTreeSource } from "../../src/vcs/tree-source.ts";
import { formatLfsPointer, LfsObjectDir, lfsOidOf } from "../../src/lfs/index.ts";

const tmp = makeTempDir("vcs-units");
afterAll(() => removeDir(tmp));
let n = 0;
const fresh = (name: string) => {
  const d = join(tmp, `${name}-${n++}`);
  fs.mkdirSync(d, { recursive: true });
  return d;
};

function write(root: string, files: Record<string, string>): void {
  for (const [p, c] of Object.entries(files)) {
    fs.mkdirSync(join(root, p, ".."), { recursive: true });
    if (p.endsWith("/")) fs.mkdirSync(join(root, p), { recursive: true });
    else fs.writeFileSync(join(root, p), c);
  }
}

/** Ignored as our scanner decides it: an ignored ancestor directory hides everything below. */
function ignoredByUs(stack: (dir: string) => IgnoreStack, path: string, isDir: boolean): boolean {
  const parts = path.split("/");
  for (let i = 1; i < parts.length; i++) {
    const d = parts.slice(0, i).join("/");
    if (stack(parts.slice(0, i - 1).join("/")).ignores(d, true)) return true;
  }
  return stack(parts.slice(0, -1).join("/")).ignores(path, isDir);
}

// [pattern file contents by directory, paths to check]
const TABLE: Array<[string, Record<string, string>, string[]]> = [
  ["plain name", { "": "foo\n" }, ["foo", "a/foo", "foo2", "a/b/foo"]],
  ["extension glob", { "": "*.log\n" }, ["a.log", "x/b.log", "log", "a.log.txt"]],
  ["anchored", { "": "/top.txt\n" }, ["top.txt", "sub/top.txt"]],
  ["directory only", { "": "build/\n" }, ["build/x.o", "src/build/y.o", "build.txt"]],
  ["directory only, file of that name", { "": "out/\n" }, ["out", "a/out"]],
  ["negation", { "": "*.log\n!keep.log\n" }, ["a.log", "keep.log", "sub/keep.log"]],
  ["negation under ignored dir stays ignored", { "": "logs/\n!logs/keep.log\n" }, ["logs/keep.log", "logs/x.log"]],
  ["double star prefix", { "": "**/gen\n" }, ["gen", "a/gen", "a/b/gen/x.c"]],
  ["double star suffix", { "": "vendor/**\n" }, ["vendor/a", "vendor/b/c", "x/vendor/a"]],
  ["double star middle", { "": "a/**/z.txt\n" }, ["a/z.txt", "a/b/z.txt", "a/b/c/z.txt", "b/a/z.txt"]],
  ["slash in middle anchors", { "": "doc/frotz\n" }, ["doc/frotz", "a/doc/frotz"]],
  ["question mark", { "": "?.tmp\n" }, ["a.tmp", "ab.tmp", "d/x.tmp"]],
  ["character class", { "": "file[0-9].txt\n" }, ["file1.txt", "filea.txt", "d/file9.txt"]],
  ["negated class", { "": "v[!0-9]\n" }, ["va", "v1"]],
  ["comments and blanks", { "": "# comment\n\n#x\nreal\n" }, ["# comment", "#x", "real"]],
  ["escaped hash", { "": "\\#lit\n" }, ["#lit", "lit"]],
  ["trailing spaces trimmed", { "": "sp.txt   \n" }, ["sp.txt"]],
  ["escaped trailing space", { "": "sp\\ \n" }, ["sp ", "sp"]],
  ["nested gitignore applies below", { "": "", sub: "*.o\n" }, ["a.o", "sub/a.o", "sub/deep/b.o"]],
  ["nested anchored is relative to its dir", { sub: "/only.txt\n" }, ["sub/only.txt", "sub/x/only.txt", "only.txt"]],
  ["deeper negation wins", { "": "*.gen\n", keep: "!*.gen\n" }, ["a.gen", "keep/a.gen", "keep/deep/b.gen"]],
  ["deeper ignore wins", { "": "!x.txt\n", d: "x.txt\n" }, ["x.txt", "d/x.txt"]],
  ["star does not cross slash", { "": "a/*.c\n" }, ["a/x.c", "a/b/x.c"]],
  ["dir pattern with star", { "": "tmp*/\n" }, ["tmp1/f", "tmpdir/g", "tmpfile"]],
];

describe(".gitignore rules match git check-ignore", () => {
  for (const [name, ignores, paths] of TABLE) {
    test(name, () => {
      const root = fresh("ign");
      git(root, ["init", "-q"]);
      for (const [d, text] of Object.entries(ignores)) {
        fs.mkdirSync(join(root, d), { recursive: true });
        fs.writeFileSync(join(root, d, ".gitignore"), text);
      }
      for (const p of paths) {
        fs.mkdirSync(join(root, p, ".."), { recursive: true });
        if (!fs.existsSync(join(root, p))) fs.writeFileSync(join(root, p), "x\n");
      }
      const r = Bun.spawnSync(["git", "check-ignore", "--stdin"], { cwd: root, stdin: new TextEncoder().encode(paths.join("\n") + "\n") });
      const gitIgnored = new Set(r.stdout.toString().split("\n").filter(Boolean));
      const stack = (dir: string): IgnoreStack => {
        let s = IgnoreStack.empty();
        const parts = dir === "" ? [] : dir.split("/");
        for (let i = 0; i <= parts.length; i++) {
          const d = parts.slice(0, i).join("/");
          s = s.with(d, ignores[d] ?? null);
        }
        return s;
      };
      for (const p of paths) {
        const isDir = fs.statSync(join(root, p)).isDirectory();
        expect({ path: p, ignored: ignoredByUs(stack, p, isDir) }).toEqual({ path: p, ignored: gitIgnored.has(p) });
      }
    });
  }
  test("the table has at least 20 patterns", () => expect(TABLE.length).toBeGreaterThanOrEqual(20));
});

/** Blobs of the base come from a git repository (what Mega would serve). */
function gitBlobs(repo: string | null): MegaClient {
  return { fetchBlobVerified: async (oid: string) => new Uint8Array(Bun.spawnSync(["git", "cat-file", "blob", oid], { cwd: repo ?? tmp }).stdout) } as unknown as MegaClient;
}

function source(dir: string, repo: string | null = null): MountTreeSource {
  return new MountTreeSource({ objects: new ObjectStore(join(dir, "objects")), cache: new ObjectStore(join(dir, "cache")), endpoint: { baseUrl: "http://127.0.0.1:9" }, client: gitBlobs(repo), mountPath: "/", rootCommit: null });
}

/** Copies git's objects for `rev`'s tree into `store`, so the base is served without a network. */
function importTrees(repo: string, store: ObjectStore, tree: string): void {
  const body = Bun.spawnSync(["git", "cat-file", "tree", tree], { cwd: repo }).stdout;
  store.write("tree", new Uint8Array(body));
  for (const line of git(repo, ["ls-tree", tree]).trim().split("\n").filter(Boolean)) {
    const [, type, oid] = line.split(/\s+/);
    if (type === "tree") importTrees(repo, store, oid!);
  }
}

/** Commits `work` as the base and serves its trees from a mount's cache (no network). */
function commitBase(work: string): { baseTree: string; src: MountTreeSource } {
  git(work, ["init", "-q"]);
  git(work, ["add", "-A"]);
  git(work, ["commit", "-q", "-m", "base"]);
  const baseTree = git(work, ["write-tree"]).trim();
  const vcs = fresh("vcs");
  importTrees(work, new ObjectStore(join(vcs, "cache")), baseTree);
  return { baseTree, src: source(vcs, work) };
}

describe("scanner trees equal git's", () => {
  test("a new tree: nested .gitignore with negation, exec bit, symlink, non-UTF-8 name, empty dir", async () => {
    const upper = fresh("upper");
    write(upper, { "a.txt": "a\n", "dir/b.txt": "b\n", "dir/x.log": "log\n", "dir/keep.log": "k\n", "dir/.gitignore": "*.log\n!keep.log\n", "build/o.o": "o\n", ".gitignore": "/build/\n", "empty/": "" });
    fs.chmodSync(join(upper, "a.txt"), 0o755);
    fs.symlinkSync("dir/b.txt", join(upper, "ln"));
    fs.writeFileSync(Buffer.concat([Buffer.from(upper + "/lat"), Buffer.from([0xe9]), Buffer.from(".txt")]), "latin1 name\n");
    const src = source(fresh("vcs"));
    const tree = await new MountScanner({ upperDir: upper, clDir: null, baseTree: EMPTY_TREE_ID, source: src, hashes: new HashCache(null) }).scan();
    git(upper, ["init", "-q"]);
    git(upper, ["add", "-A"]);
    expect(tree).toBe(git(upper, ["write-tree"]).trim());
  });

  test("files the local commits added stay tracked when a .gitignore pattern matches them", async () => {
    const upper = fresh("upper");
    write(upper, { ".gitignore": "*.log\nbuild/\n", "x.log": "x\n", "y.log": "y\n", "build/keep.o": "k\n", "build/other.o": "o\n" });
    const scan = async (tracked?: Set<string>) => {
      const src = source(fresh("vcs"));
      const tree = await new MountScanner({ upperDir: upper, clDir: null, baseTree: EMPTY_TREE_ID, source: src, hashes: new HashCache(null), tracked }).scan();
      return (await diffTrees(src, null, tree)).map((c) => c.path);
    };
    expect(await scan()).toEqual([".gitignore"]);
    expect(await scan(new Set(["x.log", "build/keep.o"]))).toEqual([".gitignore", "build/keep.o", "x.log"]);
  });

  test("over a base: aufs and chardev whiteouts, opaque directory, CL layer below the upper", async () => {
    const work = fresh("base");
    write(work, { "keep.txt": "keep\n", "gone.txt": "gone\n", "gone2.txt": "gone2\n", "d/one.txt": "1\n", "d/two.txt": "2\n", "o/old.txt": "old\n", "cl-file.txt": "base\n" });
    const { baseTree, src } = commitBase(work);
    const upper = fresh("upper");
    const cl = fresh("cl");
    write(upper, { "d/two.txt": "2 changed\n", "o/new.txt": "new\n", "o/.wh..wh..opq": "", ".wh.gone.txt": "" });
    Bun.spawnSync(["mknod", join(upper, "gone2.txt"), "c", "0", "0"]);
    const chardev = fs.existsSync(join(upper, "gone2.txt"));
    if (!chardev) fs.writeFileSync(join(upper, ".wh.gone2.txt"), "");
    write(cl, { "cl-file.txt": "from the CL\n", "cl-new.txt": "cl new\n" });
    const tree = await new MountScanner({ upperDir: upper, clDir: cl, baseTree, source: src, hashes: new HashCache(null) }).scan();
    fs.rmSync(join(work, "gone.txt"));
    fs.rmSync(join(work, "gone2.txt"));
    fs.rmSync(join(work, "o"), { recursive: true });
    write(work, { "d/two.txt": "2 changed\n", "o/new.txt": "new\n", "cl-file.txt": "from the CL\n", "cl-new.txt": "cl new\n" });
    git(work, ["add", "-A"]);
    expect(tree).toBe(git(work, ["write-tree"]).trim());
    const changes = await classify(await diffTrees(src, baseTree, tree), (oid) => src.readBlob(oid));
    expect(changes.map((c) => `${c.status}:${c.path}`)).toEqual([
      "added:cl-new.txt", "modified:cl-file.txt", "modified:d/two.txt", "deleted:gone.txt", "deleted:gone2.txt", "added:o/new.txt", "deleted:o/old.txt",
    ].sort((a, b) => (a.split(":")[1]! < b.split(":")[1]! ? -1 : 1)));
  });
});

describe("LFS files in a scan", () => {
  test("files at LFS paths get git-lfs's pointer blob; attributes from upper, CL layer and base (whiteouts honoured)", async () => {
    const work = fresh("lfs-base");
    write(work, { ".gitattributes": "*.pak filter=lfs diff=lfs merge=lfs -text\n", "d/.gitattributes": "*.txt filter=lfs\n", "keep.txt": "keep\n" });
    const { baseTree, src } = commitBase(work);
    const upper = fresh("upper");
    const cl = fresh("cl");
    const big = crypto.getRandomValues(new Uint8Array(3 << 20)); // > 1 read chunk
    const pointer = formatLfsPointer({ oid: lfsOidOf(new TextEncoder().encode("elsewhere\n")), size: 10 });
    write(upper, { "sub/b.pak": "not LFS here\n", "d/.wh..gitattributes": "", "d/x.txt": "plain now\n", "e.pak": "", "ptr.pak": pointer, "n/deep.pak": "deep\n" });
    fs.writeFileSync(join(upper, "a.pak"), big);
    write(cl, { "sub/.gitattributes": "*.pak -filter\n" });
    const tree = await new MountScanner({ upperDir: upper, clDir: cl, baseTree, source: src, hashes: new HashCache(null) }).scan();
    // The same tree with git + git-lfs: `git add` runs the clean filter.
    fs.rmSync(join(work, "d/.gitattributes"));
    write(work, { "sub/b.pak": "not LFS here\n", "d/x.txt": "plain now\n", "e.pak": "", "ptr.pak": pointer, "n/deep.pak": "deep\n", "sub/.gitattributes": "*.pak -filter\n" });
    fs.writeFileSync(join(work, "a.pak"), big);
    const env = { HOME: fresh("home") };
    git(work, ["lfs", "install", "--local"], { env });
    git(work, ["add", "-A"], { env });
    expect(tree).toBe(git(work, ["write-tree"], { env }).trim());
    // Status and diff see pointers; nothing is stored until a commit stores it.
    const aOid = git(work, ["rev-parse", ":a.pak"], { env }).trim();
    const text = new TextDecoder().decode(await src.readBlob(aOid));
    expect(text).toBe(formatLfsPointer({ oid: lfsOidOf(big), size: big.byteLength }));
    const objects = new LfsObjectDir(join(fresh("vcs"), "lfs"));
    expect(await objects.has(lfsOidOf(big))).toBe(false);
    expect(new TextDecoder().decode(await src.scratchLfs.get(aOid)!.store(objects))).toBe(text);
    expect(new Uint8Array(fs.readFileSync(objects.pathFor(lfsOidOf(big))))).toEqual(big);
    // A file that changed since the scan is refused, never committed under the old id.
    fs.writeFileSync(join(upper, "a.pak"), "changed\n");
    await expect(src.scratchLfs.get(aOid)!.store(objects)).rejects.toThrow(/changed while it was being committed/);
  });
});

describe("reading layer files", () => {
  test("never follows a symlink out of the layers (a directory swapped for a link during a scan)", () => {
    const upper = fresh("upper");
    const outside = fresh("outside");
    write(upper, { "ok.txt": "fine\n" });
    write(outside, { "secret.txt": "secret\n" });
    fs.symlinkSync(outside, join(upper, "swapped"));
    fs.symlinkSync(join(outside, "secret.txt"), join(upper, "link.txt"));
    const reader = new LayerReader([upper, null]);
    expect(reader.read(join(upper, "ok.txt")).toString()).toBe("fine\n");
    expect(() => reader.read(join(upper, "swapped/secret.txt"))).toThrow(/outside the mount's layers/);
    expect(() => reader.read(join(upper, "link.txt"))).toThrow(/CHANGED_DURING_SCAN|changed during the scan/);
  });
});

describe("patches git applies", () => {
  test("a rename with edits (similarity), a missing final newline, a deletion, binary content", async () => {
    const work = fresh("patch");
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i}\n`).join("");
    write(work, { "old/name.txt": lines, "tail.txt": "a\nb\n", "gone.txt": "bye\n" });
    fs.writeFileSync(join(work, "bin.dat"), new Uint8Array([0, 1, 2, 3]));
    const { baseTree, src } = commitBase(work);
    const upper = fresh("upper");
    write(upper, { "new/name.txt": lines.replace("line 7\n", "line seven\n") + "more\n", "tail.txt": "a\nb\nc", ".wh.gone.txt": "", "old/.wh.name.txt": "" });
    fs.writeFileSync(join(upper, "bin.dat"), new Uint8Array([0, 9, 9, 9]));
    const tree = await new MountScanner({ upperDir: upper, clDir: null, baseTree, source: src, hashes: new HashCache(null) }).scan();
    const changes = await classify(await diffTrees(src, baseTree, tree), (oid) => src.readBlob(oid));
    expect(changes.map((c) => `${c.status}:${c.path}`)).toEqual(["modified:bin.dat", "deleted:gone.txt", "renamed:new/name.txt", "modified:tail.txt"]);
    const rename = changes.find((c) => c.status === "renamed")!;
    expect(rename.similarity).toBeGreaterThanOrEqual(50);
    expect(rename.similarity).toBeLessThan(100);
    const patches = [];
    for (const c of changes) patches.push(filePatch(c, c.old_oid ? await src.readBlob(c.old_oid) : null, c.new_oid ? await src.readBlob(c.new_oid) : null));
    const bin = patches.find((p) => p.binary)!;
    expect(bin.text).toContain("Binary files a/bin.dat and b/bin.dat differ\n");
    const text = patches.filter((p) => !p.binary).map((p) => p.text).join("");
    expect(text).toContain("\\ No newline at end of file\n");
    fs.writeFileSync(join(work, "p.patch"), Buffer.from(text, "latin1"));
    git(work, ["apply", "--index", "p.patch"]);
    fs.rmSync(join(work, "p.patch"));
    fs.writeFileSync(join(work, "bin.dat"), new Uint8Array([0, 9, 9, 9]));
    git(work, ["add", "-A"]);
    expect(git(work, ["write-tree"]).trim()).toBe(tree);
  });
});

describe("objects", () => {
  test("commit objects are byte-exact with git commit-tree", () => {
    const repo = fresh("commit");
    git(repo, ["init", "-q"]);
    const sig = { name: "Ann Author", email: "ann@example.com", when: 1_700_000_123, tzOffsetMin: 330 };
    const parent = git(repo, ["commit-tree", EMPTY_TREE_ID, "-m", "root"], { env: { GIT_AUTHOR_DATE: "1700000000 +0000", GIT_COMMITTER_DATE: "1700000000 +0000" } }).trim();
    const message = cleanMessage("  Subject line  \n\n\nBody   \n\n");
    const body = encodeCommit({ tree: EMPTY_TREE_ID, parents: [parent], author: sig, committer: sig, message });
    const ours = new ObjectStore(join(repo, "ours")).write("commit", body);
    const env = { GIT_AUTHOR_NAME: sig.name, GIT_AUTHOR_EMAIL: sig.email, GIT_COMMITTER_NAME: sig.name, GIT_COMMITTER_EMAIL: sig.email, GIT_AUTHOR_DATE: "1700000123 +0530", GIT_COMMITTER_DATE: "1700000123 +0530" };
    // `git commit -m` cleans the message like `git stripspace`; commit-tree takes it as given.
    const cleaned = git(repo, ["stripspace"], { stdin: "  Subject line  \n\n\nBody   \n\n" });
    expect(message).toBe(cleaned);
    const theirs = git(repo, ["commit-tree", EMPTY_TREE_ID, "-p", parent, "-F", "-"], { env, stdin: message }).trim();
    expect(ours).toBe(theirs);
    // git reads our loose object and finds it intact.
    expect(git(repo, ["cat-file", "-p", ours], { env: { GIT_ALTERNATE_OBJECT_DIRECTORIES: join(repo, "ours") } })).toContain("Subject line\n\nBody\n");
  });

  test("rename similarity follows git's 50% threshold", () => {
    const a = new TextEncoder().encode(Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join(""));
    const b = new TextEncoder().encode(Array.from({ length: 20 }, (_, i) => (i < 15 ? `line ${i}\n` : `other ${i}\n`)).join(""));
    const c = new TextEncoder().encode(Array.from({ length: 20 }, (_, i) => `different ${i}\n`).join(""));
    expect(similarity(a, a)).toBe(100);
    expect(similarity(a, b)).toBeGreaterThanOrEqual(50);
    expect(similarity(a, c)).toBeLessThan(50);
  });
});
