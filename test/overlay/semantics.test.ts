/**
 * Overlay semantics end to end: a real mount served from a child process over the sample repo
 * (dev server → Dicfuse view), checked with real syscalls, real tools (git, sed, sh) and the host
 * upper directory.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { isOpaque, isWhiteout } from "../../src/overlay/index.ts";
import { GIT_ENV } from "../support/sample-repo.ts";
import { expectReadsBack } from "../support/read-back.ts";
import { serveOverlays, startEnv, type OverlayEnv, type ServedOverlays } from "./helpers.ts";

let env: OverlayEnv;
let ov: ServedOverlays;
let mnt: string;
let upper: string;
let other: string;
let otherUpper: string;

beforeAll(async () => {
  env = await startEnv("ovsem");
  ov = await serveOverlays(env, "sem", [{ name: "one" }, { name: "two" }]);
  mnt = ov.mounts[0]!.mountpoint;
  upper = ov.mounts[0]!.upperDir;
  other = ov.mounts[1]!.mountpoint;
  otherUpper = ov.mounts[1]!.upperDir;
}, 120_000);

afterAll(async () => {
  await ov?.stop();
  await env?.close();
}, 60_000);

const m = (p: string) => join(mnt, p);
const u = (p: string) => join(upper, p);
const repoFile = (p: string) => fs.readFileSync(join(env.repo.path, p), "utf8");

function sh(cmd: string, cwd = mnt): string {
  const r = Bun.spawnSync(["sh", "-c", cmd], { cwd, env: { ...process.env, ...GIT_ENV, HOME: env.dir } });
  if (r.exitCode !== 0) throw new Error(`${cmd} failed: ${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}

describe("copy-up", () => {
  test("writing a lower file copies it up; the lower layer and the other overlay are unchanged", () => {
    fs.appendFileSync(m("src/main.rs"), "// edited\n");
    expect(fs.readFileSync(m("src/main.rs"), "utf8")).toBe(repoFile("src/main.rs") + "// edited\n");
    expect(fs.readFileSync(u("src/main.rs"), "utf8")).toBe(repoFile("src/main.rs") + "// edited\n");
    expect(fs.readFileSync(join(other, "src/main.rs"), "utf8")).toBe(repoFile("src/main.rs"));
    expect(fs.existsSync(join(otherUpper, "src"))).toBe(false);
  });

  test("the exec bit and the inode number survive copy-up", () => {
    const before = fs.statSync(m("bin/run.sh"));
    expect(before.mode & 0o777).toBe(0o755);
    fs.appendFileSync(m("bin/run.sh"), "echo more\n");
    const after = fs.statSync(m("bin/run.sh"));
    expect(after.mode & 0o777).toBe(0o755);
    expect(fs.statSync(u("bin/run.sh")).mode & 0o777).toBe(0o755);
    expect(after.ino).toBe(before.ino);
    expect(sh("./bin/run.sh")).toBe("run\nmore\n");
  });

  test("chmod and utimens copy up metadata only", () => {
    fs.chmodSync(m("project/foo/Cargo.toml"), 0o600);
    fs.utimesSync(m("project/foo/Cargo.toml"), 1_600_000_000, 1_600_000_123);
    const st = fs.statSync(m("project/foo/Cargo.toml"));
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.mtimeMs).toBe(1_600_000_123_000);
    expect(fs.readFileSync(m("project/foo/Cargo.toml"), "utf8")).toBe(repoFile("project/foo/Cargo.toml"));
    expect(fs.statSync(u("project/foo/Cargo.toml")).mode & 0o777).toBe(0o600);
  });

  test("a symlink keeps its target when copied up", () => {
    fs.lutimesSync(m("link-to-readme"), 1_600_000_000, 1_600_000_000);
    expect(fs.readlinkSync(u("link-to-readme"))).toBe("README.md");
    expect(fs.readlinkSync(m("link-to-readme"))).toBe("README.md");
  });

  test("a file created in a lower-only directory copies up the parent chain", () => {
    fs.writeFileSync(m("project/bar/deep/a/b/c/new.txt"), "new\n");
    expect(fs.readFileSync(u("project/bar/deep/a/b/c/new.txt"), "utf8")).toBe("new\n");
    expect(fs.readdirSync(m("project/bar/deep/a/b/c")).sort()).toEqual(["leaf.txt", "new.txt"]);
    expect(fs.existsSync(u("project/bar/deep/a/b/c/leaf.txt"))).toBe(false);
  });
});

describe("whiteouts and opaque directories", () => {
  test("deleting a lower file leaves a whiteout; recreating it shows the new file", () => {
    fs.unlinkSync(m("src/lib/util.rs"));
    expect(fs.existsSync(m("src/lib/util.rs"))).toBe(false);
    expect(fs.readdirSync(m("src/lib"))).toEqual(["mod.rs"]);
    expect(isWhiteout(u("src/lib/util.rs"))).toBe(true);
    fs.writeFileSync(m("src/lib/util.rs"), "recreated\n");
    expect(fs.readFileSync(m("src/lib/util.rs"), "utf8")).toBe("recreated\n");
    expect(repoFile("src/lib/util.rs")).toContain("pub fn add");
  });

  test("rmdir of a merged directory checks every layer; rm -r then mkdir makes it opaque", () => {
    expect(() => fs.rmdirSync(m("project/foo"))).toThrow(/ENOTEMPTY/);
    fs.rmSync(m("project/foo"), { recursive: true });
    expect(fs.existsSync(m("project/foo"))).toBe(false);
    expect(fs.readdirSync(m("project"))).toEqual(["bar"]);
    fs.mkdirSync(m("project/foo"));
    expect(fs.readdirSync(m("project/foo"))).toEqual([]);
    expect(isOpaque(u("project/foo"))).toBe(true);
    fs.writeFileSync(m("project/foo/only.txt"), "x");
    expect(fs.readdirSync(m("project/foo"))).toEqual(["only.txt"]);
  });

  test("the overlay's own markers and xattrs never show", () => {
    expect(fs.readdirSync(m("project/foo"))).toEqual(["only.txt"]);
    expect(sh("getfattr -d -m - project/foo 2>/dev/null || true")).not.toContain("overlay");
    expect(() => fs.writeFileSync(m(".wh.sneaky"), "")).toThrow(/EPERM/);
  });
});

describe("merged readdir", () => {
  test("upper, CL-less and lower entries appear once each, whiteouts left out", () => {
    fs.writeFileSync(m("README.md"), "upper readme\n");
    fs.writeFileSync(m("zz-upper-only"), "");
    const names = fs.readdirSync(mnt);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain("README.md");
    expect(names).toContain("zz-upper-only");
    expect(names).toContain("assets");
    expect(names.filter((n) => n.startsWith(".wh."))).toEqual([]);
  });

  test("a large directory lists completely across several readdir calls", () => {
    fs.mkdirSync(m("big"));
    for (let i = 0; i < 1500; i++) fs.writeFileSync(m(`big/file-${i}`), String(i));
    expect(fs.readdirSync(m("big")).length).toBe(1500);
  });
});

describe("rename", () => {
  test("over an existing lower file, across layers, leaves no source behind", () => {
    fs.renameSync(m("src/main.rs"), m("project/bar/main.rs"));
    expect(fs.existsSync(m("src/main.rs"))).toBe(false);
    expect(fs.readFileSync(m("project/bar/main.rs"), "utf8")).toContain("// edited");
    fs.renameSync(m("empty.txt"), m("README.md"));
    expect(fs.readFileSync(m("README.md"), "utf8")).toBe("");
    expect(fs.existsSync(m("empty.txt"))).toBe(false);
  });

  test("a directory with lower children moves whole (mv, never EXDEV)", () => {
    sh("mv project/bar moved-bar");
    expect(fs.readFileSync(m("moved-bar/deep/a/b/c/leaf.txt"), "utf8")).toBe("leaf\n");
    expect(fs.readFileSync(m("moved-bar/deep/a/b/c/new.txt"), "utf8")).toBe("new\n");
    expect(fs.existsSync(m("project/bar"))).toBe(false);
    fs.mkdirSync(m("project/bar"));
    expect(fs.readdirSync(m("project/bar"))).toEqual([]);
  });

  test("RENAME_NOREPLACE and RENAME_EXCHANGE", () => {
    fs.writeFileSync(m("x1"), "one");
    fs.writeFileSync(m("x2"), "two");
    const renameat2 = (a: string, b: string, flags: number) =>
      sh(`python3 -c "import ctypes,os,sys; l=ctypes.CDLL(None,use_errno=True); r=l.renameat2(-100,b'${a}',-100,b'${b}',${flags}); print(0 if r==0 else os.strerror(ctypes.get_errno()))"`).trim();
    expect(renameat2("x1", "x2", 1)).toBe("File exists");
    expect(fs.readFileSync(m("x2"), "utf8")).toBe("two");
    expect(renameat2("x1", "x3", 1)).toBe("0");
    expect(renameat2("x3", "assets/blob.bin", 2)).toBe("0");
    expect(fs.readFileSync(m("assets/blob.bin"), "utf8")).toBe("one");
    expect(fs.statSync(m("x3")).size).toBe(4096);
    expect(renameat2("x3", "nope", 2)).toBe("No such file or directory");
  });

  test("editor patterns: sed -i and write-temp-then-rename", () => {
    sh("sed -i 's/foo/FOO/' project/foo/only.txt || true");
    sh("sed -i 's/Sample/Edited/' link-to-readme 2>/dev/null || sed -i 's/upper/Edited/' README.md");
    fs.writeFileSync(m("src/lib/mod.rs.swp"), "pub mod util; // saved\n");
    fs.renameSync(m("src/lib/mod.rs.swp"), m("src/lib/mod.rs"));
    expect(fs.readFileSync(m("src/lib/mod.rs"), "utf8")).toBe("pub mod util; // saved\n");
    expect(fs.readdirSync(m("src/lib")).sort()).toEqual(["mod.rs", "util.rs"]);
    expect(repoFile("src/lib/mod.rs")).toBe("pub mod util;\n");
  });
});

describe("links, attributes, xattrs", () => {
  test("hard links: both names in upper, one inode, shared content", () => {
    fs.linkSync(m("src/lib/util.rs"), m("src/lib/util-link.rs"));
    const a = fs.statSync(m("src/lib/util.rs"));
    const b = fs.statSync(m("src/lib/util-link.rs"));
    expect(a.ino).toBe(b.ino);
    expect(a.nlink).toBe(2);
    fs.appendFileSync(m("src/lib/util-link.rs"), "more\n");
    expect(fs.readFileSync(m("src/lib/util.rs"), "utf8")).toBe("recreated\nmore\n");
    fs.linkSync(m("assets/blob.bin"), m("blob-link.bin"));
    expect(fs.statSync(u("blob-link.bin")).nlink).toBe(2);
  });

  test("symlinks to lower and upper targets", () => {
    fs.symlinkSync("src/lib", m("lib-link"));
    expect(fs.readlinkSync(m("lib-link"))).toBe("src/lib");
    expect(fs.readFileSync(m("lib-link/mod.rs"), "utf8")).toContain("saved");
    expect(fs.readFileSync(m("link-to-src/lib/mod.rs"), "utf8")).toContain("saved");
  });

  test("user xattrs on upper and copied-up files", () => {
    sh("setfattr -n user.color -v blue src/lib/mod.rs && setfattr -n user.lower -v x assets/blob.bin");
    expect(sh("getfattr --only-values -n user.color src/lib/mod.rs")).toBe("blue");
    expect(sh("getfattr --only-values -n user.lower assets/blob.bin")).toBe("x");
    expect(sh("getfattr -d -m - assets/blob.bin")).toContain("user.lower");
    sh("setfattr -x user.color src/lib/mod.rs");
    expect(sh("getfattr -d src/lib/mod.rs")).not.toContain("user.color");
  });

  test("append regression: O_APPEND after reopen keeps both lines", () => {
    fs.writeFileSync(m("log.jsonl"), '{"seq":1}\n');
    const fd = fs.openSync(m("log.jsonl"), "a");
    fs.writeSync(fd, '{"seq":2}\n');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    expect(fs.readFileSync(m("log.jsonl"), "utf8")).toBe('{"seq":1}\n{"seq":2}\n');
    expect(fs.readFileSync(u("log.jsonl"), "utf8")).toBe('{"seq":1}\n{"seq":2}\n');
  });

  test("a large upper file reads back byte for byte at every block size and offset", () => {
    // fd-backed reads go through the binding's reused read buffer.
    const data = Buffer.from(crypto.getRandomValues(new Uint8Array(3 * 1024 * 1024 + 4097)));
    fs.writeFileSync(m("big-random.bin"), data);
    expectReadsBack(m("big-random.bin"), data);
  });

  test("truncate of a lower file and mmap through the page cache", () => {
    fs.truncateSync(m("assets/blob.bin"), 100);
    expect(fs.statSync(m("assets/blob.bin")).size).toBe(100);
    const out = sh(`python3 -c "import mmap,os; f=open('project/foo/only.txt','r+b'); mm=mmap.mmap(f.fileno(),0); mm[0:1]=b'y'; mm.flush(); print(open('project/foo/only.txt').read())"`);
    expect(out.trim()).toBe("y");
  });

  test("Buck2 pattern: mkdir -p, write a script, chmod 0755, stat at once", () => {
    const dir = m("buck-out/v2/gen/root/abc123/__tool__");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(join(dir, "run.sh"), "#!/bin/sh\necho buck\n");
    fs.chmodSync(join(dir, "run.sh"), 0o755);
    expect(fs.statSync(join(dir, "run.sh")).mode & 0o777).toBe(0o755);
    expect(sh(join(dir, "run.sh"))).toBe("buck\n");
  });
});

describe("tools inside the mount", () => {
  test("git init, add, commit, status", () => {
    fs.mkdirSync(m("work"));
    const w = m("work");
    sh("git init -q -b main && git config commit.gpgsign false", w);
    for (let i = 0; i < 50; i++) fs.writeFileSync(join(w, `f${i}.txt`), `file ${i}\n`);
    sh("git add -A && git commit -q -m first", w);
    expect(sh("git status --porcelain", w)).toBe("");
    fs.appendFileSync(join(w, "f3.txt"), "changed\n");
    expect(sh("git status --porcelain", w)).toBe(" M f3.txt\n");
    sh("git commit -qam second && git log --oneline | wc -l", w);
    expect(sh("git log --oneline | wc -l", w).trim()).toBe("2");
    expect(sh("git fsck --no-progress 2>&1 && echo ok", w)).toContain("ok");
  });

  test("a build writing thousands of files", () => {
    sh("for d in $(seq 1 20); do mkdir -p out/d$d; for f in $(seq 1 100); do echo $d-$f > out/d$d/f$f.o; done; done");
    expect(sh("find out -type f | wc -l").trim()).toBe("2000");
    expect(fs.readFileSync(m("out/d7/f42.o"), "utf8")).toBe("7-42\n");
    sh("rm -rf out");
    expect(fs.existsSync(m("out"))).toBe(false);
  });
});

describe("isolation", () => {
  test("the second overlay over the same view saw none of it", () => {
    expect(fs.readFileSync(join(other, "README.md"), "utf8")).toBe(repoFile("README.md"));
    expect(fs.existsSync(join(other, "project/foo/Cargo.toml"))).toBe(true);
    expect(fs.existsSync(join(other, "work"))).toBe(false);
    expect(fs.readdirSync(otherUpper)).toEqual([]);
  });

  test("lookup counts drain when the kernel forgets", async () => {
    sh("echo 2 > /proc/sys/vm/drop_caches || true");
    const s = await ov.stats();
    expect(s[0]!.openFiles).toBe(0);
    expect(s[0]!.referenced).toBeGreaterThanOrEqual(0);
  });
});

describe("regressions found by stress-ng", () => {
  test("an open file that is unlinked keeps working through its fd (fstat, ftruncate, fchmod, futimes)", () => {
    const path = join(mnt, "unlinked-but-open.tmp");
    const fd = fs.openSync(path, "w+", 0o600);
    try {
      fs.writeSync(fd, "0123456789");
      fs.unlinkSync(path);
      expect(fs.existsSync(path)).toBe(false);
      expect(fs.fstatSync(fd).size).toBe(10);
      fs.ftruncateSync(fd, 4);
      expect(fs.fstatSync(fd).size).toBe(4);
      fs.fchmodSync(fd, 0o640);
      expect(fs.fstatSync(fd).mode & 0o777).toBe(0o640);
      fs.futimesSync(fd, 1_000_000, 2_000_000);
      expect(fs.fstatSync(fd).mtimeMs).toBe(2_000_000_000);
      const buf = Buffer.alloc(4);
      expect(fs.readSync(fd, buf, 0, 4, 0)).toBe(4);
      expect(buf.toString()).toBe("0123");
    } finally {
      fs.closeSync(fd);
    }
  });

  test("access(2) checks the mode: X_OK fails on a file without exec bits, in the overlay", () => {
    fs.writeFileSync(join(mnt, "plain.txt"), "x", { mode: 0o644 });
    expect(() => fs.accessSync(join(mnt, "plain.txt"), fs.constants.X_OK)).toThrow(expect.objectContaining({ code: "EACCES" }));
    fs.chmodSync(join(mnt, "plain.txt"), 0o755);
    fs.accessSync(join(mnt, "plain.txt"), fs.constants.X_OK);
    fs.accessSync(join(mnt, "plain.txt"), fs.constants.R_OK | fs.constants.W_OK);
  });

  test("names that are not UTF-8 keep their exact bytes in the mount and in the upper directory", () => {
    const at = (base: string, ...name: number[]) => Buffer.concat([Buffer.from(base + "/"), Buffer.from(name)]);
    const latin1 = [0x63, 0x61, 0x66, 0xe9]; // "café" in Latin-1
    const stray = [0x78, 0xff, 0xfe, 0xc3];
    fs.mkdirSync(m("bytes"));
    fs.writeFileSync(at(m("bytes"), ...latin1), "latin-1");
    fs.mkdirSync(at(m("bytes"), ...stray));
    fs.writeFileSync(Buffer.concat([at(m("bytes"), ...stray), Buffer.from("/inner")]), "inner");
    const hex = (bs: Buffer[]) => bs.map((b) => b.toString("hex")).sort();
    // The upper directory holds the same bytes: what a CL built from it will carry.
    expect(hex(fs.readdirSync(u("bytes"), { encoding: "buffer" }))).toEqual(hex([Buffer.from(latin1), Buffer.from(stray)]));
    expect(hex(fs.readdirSync(m("bytes"), { encoding: "buffer" }))).toEqual(hex([Buffer.from(latin1), Buffer.from(stray)]));
    expect(fs.readFileSync(at(u("bytes"), ...latin1), "utf8")).toBe("latin-1");
    fs.renameSync(at(m("bytes"), ...latin1), at(m("bytes"), ...latin1, 0x80));
    expect(fs.readFileSync(at(m("bytes"), ...latin1, 0x80), "utf8")).toBe("latin-1");
    fs.symlinkSync(Buffer.from(stray), at(m("bytes"), 0x6c, 0xff));
    expect(fs.readlinkSync(at(m("bytes"), 0x6c, 0xff), { encoding: "buffer" }).toString("hex")).toBe(Buffer.from(stray).toString("hex"));
    expect(fs.readlinkSync(at(u("bytes"), 0x6c, 0xff), { encoding: "buffer" }).toString("hex")).toBe(Buffer.from(stray).toString("hex"));
    fs.rmSync(m("bytes"), { recursive: true });
    expect(fs.existsSync(m("bytes"))).toBe(false);
  });

  test("names of 252 to 255 bytes work (no aufs whiteout can exist for them)", () => {
    for (const len of [251, 252, 255]) {
      const name = "n".repeat(len);
      fs.writeFileSync(join(mnt, name), String(len));
      expect(fs.readFileSync(join(mnt, name), "utf8")).toBe(String(len));
      fs.unlinkSync(join(mnt, name));
      expect(fs.existsSync(join(mnt, name))).toBe(false);
    }
    expect(() => fs.writeFileSync(join(mnt, "n".repeat(256)), "x")).toThrow(expect.objectContaining({ code: "ENAMETOOLONG" }));
  });
});

describe("fallocate", () => {
  test("preallocates and punches holes in an upper file", () => {
    const path = join(mnt, "prealloc.bin");
    fs.writeFileSync(path, "abc");
    const py = (code: string) => {
      const r = Bun.spawnSync(["python3", "-c", code]);
      if (r.exitCode !== 0) throw new Error(r.stderr.toString());
      return r.stdout.toString().trim();
    };
    py(`import os; fd=os.open(${JSON.stringify(path)}, os.O_RDWR); os.posix_fallocate(fd, 0, 1<<20); os.close(fd)`);
    expect(fs.statSync(path).size).toBe(1 << 20);
    expect(fs.readFileSync(path).subarray(0, 3).toString()).toBe("abc");
    // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE through libc: the size stays, the bytes read back as zeros.
    py(`import ctypes, os; l=ctypes.CDLL(None, use_errno=True); fd=os.open(${JSON.stringify(path)}, os.O_RDWR); r=l.fallocate(fd, 3, ctypes.c_long(0), ctypes.c_long(4096)); os.close(fd); assert r == 0, ctypes.get_errno()`);
    expect(fs.statSync(path).size).toBe(1 << 20);
    expect(fs.readFileSync(path).subarray(0, 3)).toEqual(Buffer.alloc(3));
  });
});
