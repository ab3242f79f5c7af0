/**
 * The push building blocks against the git CLI: pkt-line framing, side-band, report-status parsing, loose
 * object reading, and packs that `git index-pack` / `git verify-pack` accept, holding exactly the objects
 * reachable from a commit that are in the local store.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { objectHeader, writePack } from "../../src/vcs/pack-writer.ts";
import { demuxSideBand, FLUSH, pktLine, pktText, readPkts } from "../../src/vcs/pkt-line.ts";
import { loosePath, readLooseObject } from "../../src/vcs/loose-objects.ts";
import { checkReport, collectObjects, parseAdvertisement, parseReceiveResult, PushError, repoUrlPath } from "../../src/vcs/push.ts";
import { git } from "../support/sample-repo.ts";

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "scorpio-vcs-pack-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const enc = (s: string) => new TextEncoder().encode(s);
const cat = (...parts: Uint8Array[]) => Buffer.concat(parts);

describe("pkt-line", () => {
  test("encodes lengths as 4 hex digits including themselves", () => {
    expect(pktText(pktLine("a\n"))).toBe("0006a");
    expect(new TextDecoder().decode(pktLine("hello\n"))).toBe("000ahello\n");
    expect(new TextDecoder().decode(pktLine(""))).toBe("0004");
  });

  test("reads pkts and flushes, and stops at the first flush on request", () => {
    const buf = cat(pktLine("one\n"), pktLine("two"), FLUSH, enc("PACKrest"));
    const { pkts, rest } = readPkts(buf, { stopAtFlush: true });
    expect(pkts.map((p) => (p === null ? null : pktText(p)))).toEqual(["one", "two", null]);
    expect(new TextDecoder().decode(buf.subarray(rest))).toBe("PACKrest");
  });

  test("rejects garbage and truncation", () => {
    expect(() => readPkts(enc("zzzz"))).toThrow(/bad pkt-line length/);
    expect(() => readPkts(enc("0010abc"))).toThrow(/truncated/);
    expect(() => readPkts(enc("00"))).toThrow(/truncated/);
  });

  test("side-band: data, progress and fatal channels", () => {
    const sb = demuxSideBand(readPkts(cat(pktLine(cat(Uint8Array.of(2), enc("hi\n"))), pktLine(cat(Uint8Array.of(1), enc("abc"))), pktLine(cat(Uint8Array.of(1), enc("def"))), pktLine(cat(Uint8Array.of(3), enc("boom"))), FLUSH)).pkts);
    expect(new TextDecoder().decode(sb.data)).toBe("abcdef");
    expect(sb.progress).toBe("hi\n");
    expect(sb.error).toBe("boom");
  });
});

describe("advertisement and report", () => {
  const A = "a".repeat(40);
  const B = "b".repeat(40);
  test("parses refs and capabilities after the service header", () => {
    const buf = cat(pktLine("# service=git-receive-pack\n"), FLUSH, pktLine(`${A} refs/heads/main\0report-status side-band-64k agent=mega/0.1.0\n`), pktLine(`${B} refs/cl/ABCD1234\n`), FLUSH);
    const adv = parseAdvertisement(buf, "git-receive-pack");
    expect([...adv.refs]).toEqual([["refs/heads/main", A], ["refs/cl/ABCD1234", B]]);
    expect(adv.caps.has("report-status")).toBe(true);
    expect(adv.caps.has("side-band-64k")).toBe(true);
  });

  test("an empty repository advertises capabilities^{} only", () => {
    const adv = parseAdvertisement(cat(pktLine("# service=git-receive-pack\n"), FLUSH, pktLine(`${"0".repeat(40)} capabilities^{}\0report-status\n`), FLUSH), "git-receive-pack");
    expect(adv.refs.size).toBe(0);
    expect(adv.caps.has("report-status")).toBe(true);
  });

  test("a wrong service or non-git answer is a protocol error", () => {
    const wrong = () => parseAdvertisement(cat(pktLine("# service=git-upload-pack\n"), FLUSH, FLUSH), "git-receive-pack");
    expect(wrong).toThrow(PushError);
    try {
      parseAdvertisement(enc("<html>hello</html>"), "git-upload-pack");
      throw new Error("unreachable");
    } catch (e) {
      expect((e as PushError).code).toBe("protocol");
    }
  });

  const report = (...lines: string[]) => cat(...lines.map((l) => pktLine(l + "\n")), FLUSH);
  const sideband = (inner: Uint8Array, progress = "") =>
    cat(...(progress ? [pktLine(cat(Uint8Array.of(2), enc(progress)))] : []), pktLine(cat(Uint8Array.of(1), inner)), FLUSH);
  const codeOf = (buf: Uint8Array) => {
    try {
      checkReport(parseReceiveResult(buf));
      return "ok";
    } catch (e) {
      return (e as PushError).code;
    }
  };

  test("ok, plain and side-banded", () => {
    expect(codeOf(report("unpack ok", "ok refs/heads/main"))).toBe("ok");
    expect(codeOf(sideband(report("unpack ok", "ok refs/heads/main")))).toBe("ok");
  });

  test("ng is rejected with the reason and the hook's remote: lines", () => {
    const buf = sideband(report("unpack ok", "ng refs/heads/main pre-receive hook declined"), "only single commit support in each push\n");
    try {
      checkReport(parseReceiveResult(buf));
      throw new Error("unreachable");
    } catch (e) {
      const pe = e as PushError;
      expect(pe.code).toBe("rejected");
      expect(pe.message).toContain("pre-receive hook declined");
      expect(pe.message).toContain("only single commit support in each push");
      expect(pe.serverReport).toContain("remote: only single commit support in each push");
    }
  });

  test("non-fast-forward, unpack failure, fatal band, missing report", () => {
    expect(codeOf(report("unpack ok", "ng refs/heads/main non-fast-forward"))).toBe("non-fast-forward");
    expect(codeOf(report("unpack ok", "ng refs/heads/main fetch first"))).toBe("non-fast-forward");
    expect(codeOf(report("unpack index-pack abnormal exit", "ng refs/heads/main unpacker error"))).toBe("rejected");
    expect(codeOf(cat(pktLine(cat(Uint8Array.of(3), enc("disk full"))), FLUSH))).toBe("rejected");
    expect(codeOf(FLUSH)).toBe("protocol");
    expect(codeOf(report("unpack ok", "ok refs/heads/other"))).toBe("protocol");
  });

  test("repository URL paths", () => {
    expect(repoUrlPath("/")).toBe("/.git");
    expect(repoUrlPath("/project/foo/")).toBe("/project/foo.git");
    expect(repoUrlPath("/a b/c+d")).toBe("/a%20b/c%2Bd.git");
    expect(() => repoUrlPath("/a/../b")).toThrow(PushError);
  });
});

describe("loose objects and packs", () => {
  /** A repository whose objects are all loose, built with the git CLI. */
  function makeObjects(name: string) {
    const dir = join(tmp, name);
    git(tmp, ["init", "-q", "--bare", dir]);
    const blob = (content: string | Uint8Array) => {
      const f = join(tmp, `${name}-blob`);
      writeFileSync(f, content);
      return git(dir, ["hash-object", "-w", f]).trim();
    };
    const mktree = (entries: string[]) => git(dir, ["mktree"], { stdin: entries.join("\n") + "\n" }).trim();
    return { dir, objects: join(dir, "objects"), blob, mktree };
  }

  test("object headers: small, multi-byte and large sizes", () => {
    expect([...objectHeader(3, 5)]).toEqual([0x35]);
    expect([...objectHeader(1, 16)]).toEqual([0x90, 0x01]);
    expect([...objectHeader(3, 1000)]).toEqual([0xb8, 0x3e]);
    // 2^32 + 1 does not fit 32-bit shifts.
    expect(objectHeader(3, 2 ** 32 + 1).length).toBe(6);
  });

  test("readLooseObject returns git's type and body, verifies the hash, and null when absent", () => {
    const o = makeObjects("loose");
    const id = o.blob("hello\n");
    const obj = readLooseObject(o.objects, id)!;
    expect(obj.type).toBe("blob");
    expect(new TextDecoder().decode(obj.body)).toBe("hello\n");
    expect(readLooseObject(o.objects, "0123456789012345678901234567890123456789")).toBeNull();
    // Corrupt: a valid zlib stream of other content under this name.
    rmSync(loosePath(o.objects, id), { force: true });
    writeFileSync(loosePath(o.objects, id), deflateSync(enc("blob 6\0HELLO\n")));
    expect(() => readLooseObject(o.objects, id)).toThrow(/hashes to/);
  });

  test("the pack holds the local objects reachable from the commit and passes index-pack and verify-pack", () => {
    const o = makeObjects("pack");
    const big = new Uint8Array(200_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
    const a = o.blob("a\n");
    const b = o.blob(big);
    const exe = o.blob("#!/bin/sh\n");
    const link = o.blob("a.txt");
    const sub = o.mktree([`100644 blob ${a}\tinner.txt`, `100755 blob ${exe}\trun.sh`]);
    const root = o.mktree([`100644 blob ${a}\ta.txt`, `100644 blob ${b}\tbig.bin`, `040000 tree ${sub}\tsub`, `120000 blob ${link}\tlink`, `160000 commit ${"1".repeat(40)}\tvendor`]);
    const env = { GIT_AUTHOR_DATE: "1700000000 +0000", GIT_COMMITTER_DATE: "1700000000 +0000" };
    const parent = git(o.dir, ["commit-tree", root, "-m", "base"], { env }).trim();
    // The second commit reuses the tree and adds one blob; the parent is also local, so it is reachable too.
    const c = o.blob("c\n");
    const root2 = o.mktree([`100644 blob ${a}\ta.txt`, `100644 blob ${b}\tbig.bin`, `100644 blob ${c}\tc.txt`, `040000 tree ${sub}\tsub`]);
    const commit = git(o.dir, ["commit-tree", root2, "-p", parent, "-m", "change"], { env }).trim();

    const objects = collectObjects(o.objects, commit);
    const expected = git(o.dir, ["rev-list", "--objects", commit]).split("\n").filter(Boolean).map((l) => l.split(" ")[0]!);
    const pack = writePack(objects);
    const bytes = Buffer.concat(pack.chunks);
    expect(bytes.length).toBe(pack.size);

    const dest = join(tmp, "dest");
    git(tmp, ["init", "-q", "--bare", dest]);
    const out = git(dest, ["index-pack", "--stdin"], { stdin: bytes }).trim();
    expect(out).toBe(`pack\t${pack.checksum}`);
    const verify = git(dest, ["verify-pack", "-v", join(dest, "objects", "pack", `pack-${pack.checksum}.idx`)]);
    const packed = verify.split("\n").filter((l) => /^[0-9a-f]{40} /.test(l)).map((l) => l.split(" ")[0]!);
    expect(packed.sort()).toEqual([...new Set(expected)].sort());
    expect(git(dest, ["fsck", "--no-dangling"]).trim()).toBe("");
    expect(git(dest, ["cat-file", "-p", `${commit}:big.bin`], {}).length).toBeGreaterThan(0);
  });

  test("objects absent locally are skipped (they are on the server)", () => {
    const o = makeObjects("partial");
    const a = o.blob("a\n");
    const root = o.mktree([`100644 blob ${a}\ta.txt`]);
    const commit = git(o.dir, ["commit-tree", root, "-m", "x"]).trim();
    rmSync(loosePath(o.objects, a));
    const types = collectObjects(o.objects, commit).map((x) => x.type).sort();
    expect(types).toEqual(["commit", "tree"]);
  });

  test("a missing commit, a non-commit, and a tree with a '.git' entry are bad input", () => {
    const o = makeObjects("bad");
    const a = o.blob("a\n");
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
        return "ok";
      } catch (e) {
        return (e as PushError).code;
      }
    };
    expect(codeOf(() => collectObjects(o.objects, "2".repeat(40)))).toBe("bad-input");
    expect(codeOf(() => collectObjects(o.objects, a))).toBe("bad-input");
    // git mktree refuses ".git", so write the tree with hash-object --literally.
    const body = Buffer.concat([enc("100644 .git\0"), Buffer.from(a, "hex")]);
    const f = join(tmp, "bad-tree");
    writeFileSync(f, body);
    const tree = git(o.dir, ["hash-object", "-w", "--literally", "-t", "tree", f]).trim();
    const commit = git(o.dir, ["commit-tree", tree, "-m", "bad"]).trim();
    expect(codeOf(() => collectObjects(o.objects, commit))).toBe("bad-input");
  });
});
