/**
 * What a job sees on each engine, through the compiled daemon: hard links across copy-up, renaming
 * a directory that exists only in the lower layer (kernel overlayfs without redirect_dir says
 * EXDEV, `mv` falls back to copy + delete; the FUSE overlay renames in place), xattrs, O_TMPFILE,
 * mmap writes, file locks, statfs reporting the upper filesystem, and the upper layer's on-disk
 * format (0/0 whiteouts, `trusted.overlay.opaque`) being the same on both.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { isOpaque, isWhiteout } from "../../src/overlay/index.ts";
import { checkoutRuleTrees, commitRuleTrees, expectNative, FUSE_OVERLAY_DIFFERENCES, RULES, runRule } from "../support/fs-rules.ts";
import { makeTempDir, removeDir } from "../support/mount-fixture.ts";
import { makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { tearDown, ensureBuilt, startDevServerProcess, startServe, writeServeConfig, type DevServerProc, type ServeProc, type ServeSandbox } from "../support/scorpio.ts";
import { apiClient } from "./helpers.ts";

const ENGINES = ["kernel-overlayfs", "fuse-overlay"] as const;

let dir: string;
let repo: SampleRepo;
let dev: DevServerProc;
let probe: string;

beforeAll(async () => {
  ensureBuilt();
  dir = makeTempDir("antares-sem");
  repo = makeSampleRepo(join(dir, "repo"));
  commitRuleTrees(repo.path);
  dev = await startDevServerProcess(repo.path);
  probe = join(dir, "fs-probe");
  const cc = spawnSync("gcc", ["-Wall", "-O1", "-o", probe, join(import.meta.dir, "fs-probe.c")], { encoding: "utf8" });
  if (cc.status !== 0) throw new Error(`gcc failed:\n${cc.stderr}`);
}, 120_000);

afterAll(async () => {
  await dev?.stop();
  removeDir(dir);
}, 60_000);

function run(argv: string[], cwd?: string): { status: number | null; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, encoding: "utf8", timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

for (const engine of ENGINES) {
  describe(engine, () => {
    let sb: ServeSandbox;
    let serve: ServeProc;
    let mnt: string;
    let upper: string;
    const m = (p: string) => join(mnt, p);
    const u = (p: string) => join(upper, p);
    const lowerText = (p: string) => fs.readFileSync(join(repo.path, p), "utf8");

    beforeAll(async () => {
      sb = writeServeConfig(join(dir, `sb-${engine}`), dev.url, { antares_overlay_engine: engine });
      serve = await startServe(sb);
      const api = apiClient(serve.httpUrl());
      const r = await api("POST", "/antares/mounts", { job_id: "sem", path: "/" });
      if (r.status !== 200) throw new Error(`create → ${r.status} ${JSON.stringify(r.json)}`);
      mnt = r.json.mountpoint;
      const st = await api("GET", `/antares/mounts/${r.json.mount_id}`);
      expect(st.json.layers.engine).toBe(engine);
      upper = st.json.layers.upper;
    }, 60_000);

    afterAll(() => tearDown({ daemon: serve, sb }), 60_000);

    test("hard links across copy-up: one inode in the upper, shared content and link count, lower untouched", () => {
      fs.linkSync(m("src/main.rs"), m("src/main-link.rs"));
      const a = fs.statSync(m("src/main.rs"), { bigint: true });
      const b = fs.statSync(m("src/main-link.rs"), { bigint: true });
      expect(b.ino).toBe(a.ino);
      expect(a.nlink).toBe(2n);
      expect(b.nlink).toBe(2n);
      fs.appendFileSync(m("src/main-link.rs"), "// via link\n");
      expect(fs.readFileSync(m("src/main.rs"), "utf8")).toBe(lowerText("src/main.rs") + "// via link\n");
      expect(fs.statSync(u("src/main.rs")).ino).toBe(fs.statSync(u("src/main-link.rs")).ino);
      expect(lowerText("src/main.rs")).not.toContain("via link");
      // copy_file_range (cp, cat > file) through the first name copies the whole, current file.
      expect(run(["sh", "-c", "cp src/main.rs main-copy.rs && cat src/main.rs > main-cat.rs"], mnt).status).toBe(0);
      for (const f of ["main-copy.rs", "main-cat.rs"]) expect(fs.readFileSync(m(f), "utf8")).toBe(lowerText("src/main.rs") + "// via link\n");
    });

    test("a directory that exists only below: rename(2) per engine, and `mv` works on both", () => {
      let renameErr: string | undefined;
      try {
        fs.renameSync(m("project/foo"), m("project/foo-renamed"));
      } catch (err) {
        renameErr = (err as NodeJS.ErrnoException).code;
      }
      if (engine === "kernel-overlayfs") {
        // redirect_dir=off keeps the upper format redirect-free: the kernel asks the caller to copy.
        expect(renameErr).toBe("EXDEV");
        const mv = run(["mv", m("project/foo"), m("project/foo-moved")]);
        expect(mv).toEqual({ status: 0, out: "" });
      } else {
        expect(renameErr).toBeUndefined();
        expect(run(["mv", m("project/foo-renamed"), m("project/foo-moved")])).toEqual({ status: 0, out: "" });
      }
      expect(fs.existsSync(m("project/foo"))).toBe(false);
      expect(fs.readFileSync(m("project/foo-moved/Cargo.toml"), "utf8")).toBe(lowerText("project/foo/Cargo.toml"));
      expect(fs.readFileSync(m("project/foo-moved/src/lib.rs"), "utf8")).toBe(lowerText("project/foo/src/lib.rs"));
      expect(isWhiteout(u("project/foo"))).toBe(true);
    });

    test("rm -r then mkdir of a lower directory leaves a 0/0 whiteout-free opaque directory in the upper", () => {
      fs.rmSync(m("src/lib"), { recursive: true });
      fs.mkdirSync(m("src/lib"));
      expect(fs.readdirSync(m("src/lib"))).toEqual([]);
      expect(isOpaque(u("src/lib"))).toBe(true);
    });

    test("user xattrs on upper and copied-up files; the overlay's own xattrs never show", () => {
      fs.writeFileSync(m("xattr-new.txt"), "x");
      for (const f of ["xattr-new.txt", "README.md"]) {
        expect(run(["setfattr", "-n", "user.scorpio", "-v", "v1", m(f)]).status).toBe(0);
        expect(run(["getfattr", "--absolute-names", "--only-values", "-n", "user.scorpio", m(f)]).out).toBe("v1");
      }
      const all = run(["getfattr", "--absolute-names", "-d", "-m", "-", m("src/lib")]);
      expect(all.status).toBe(0);
      expect(all.out).not.toContain("trusted.overlay");
    });

    test("O_TMPFILE then linkat makes a named file (kernel); the FUSE overlay says EOPNOTSUPP, so tools fall back", () => {
      const r = run([probe, "tmpfile", m("src"), "from-tmpfile.txt"]);
      if (engine === "fuse-overlay") {
        expect(r).toEqual({ status: 1, out: "open O_TMPFILE: Operation not supported\n" });
        return;
      }
      expect(r).toEqual({ status: 0, out: "" });
      expect(fs.readFileSync(m("src/from-tmpfile.txt"), "utf8")).toBe("tmpfile\n");
    });

    test("mmap writes to a lower file land in the upper copy", () => {
      expect(run([probe, "mmapwrite", m("README.md")])).toEqual({ status: 0, out: "" });
      expect(fs.readFileSync(m("README.md"), "utf8").slice(0, 4)).toBe("MMAP");
      expect(fs.readFileSync(u("README.md"), "utf8").slice(0, 4)).toBe("MMAP");
      expect(lowerText("README.md").slice(0, 4)).not.toBe("MMAP");
    });

    test("flock and fcntl locks conflict across open files and processes", () => {
      fs.writeFileSync(m("lockfile"), "lock\n");
      expect(run([probe, "lock", m("lockfile")])).toEqual({ status: 0, out: "" });
    });

    test("without mount_allow_other another user cannot enter the job mount (both engines alike)", () => {
      // Let uid 65534 reach the mountpoint's parent, so that only the mount itself can refuse.
      for (let p = join(sb.dir, "antares/mnt"); p.startsWith(dir); p = join(p, "..")) fs.chmodSync(p, 0o755);
      const as = (cmd: string[]) => run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", ...cmd]);
      expect(as(["ls", join(sb.dir, "antares/mnt")]).status).toBe(0);
      const denied = as(["cat", m("project/bar/deep/a/b/c/leaf.txt")]);
      expect(denied.status).toBe(1);
      expect(denied.out).toContain("Permission denied");
      expect(as(["touch", m("intruder")]).out).toContain("Permission denied");
      expect(fs.existsSync(m("intruder"))).toBe(false);
    });

    test("differential: a script of tool operations leaves the same tree as on a native copy of the repository", () => {
      const native = join(dir, `native-${engine}`);
      fs.mkdirSync(native);
      expect(run(["sh", "-c", `git -C ${JSON.stringify(repo.path)} -c tar.umask=0022 archive HEAD | tar -x -C ${JSON.stringify(native)}`]).status).toBe(0);
      const work = "diff-work";
      const script = [
        `mkdir -p ${work}/a/b && cp -r project/bar ${work}/bar-copy`,
        `cp bin/run.sh ${work}/a/b/main.rs && ln ${work}/a/b/main.rs ${work}/a/hard.rs && ln -s ../a/b/main.rs ${work}/a/sym.rs`,
        `mv project/bar ${work}/bar-moved && mv ${work}/bar-copy/deep ${work}/deep-moved`,
        `chmod 0750 ${work}/a/b && chmod 0600 ${work}/a/b/main.rs && touch -d @1700000000 ${work}/a/b/main.rs`,
        `printf 'x%.0s' $(seq 1 5000) > ${work}/big.txt && truncate -s 100 ${work}/big.txt && echo tail >> ${work}/big.txt`,
        `rm -r ${work}/bar-copy && rm empty.txt && mkdir ${work}/empty-dir && rmdir ${work}/empty-dir`,
        `sed -i 's/echo/ECHO/' ${work}/a/hard.rs && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf ${work}/t.tar -C ${work} a && mkdir ${work}/untar && tar -xf ${work}/t.tar -C ${work}/untar`,
      ].join(" && ");
      for (const root of [native, mnt]) expect(run(["sh", "-c", script], root)).toEqual({ status: 0, out: "" });
      // Type, mode, link count (files), size, target, content digest of everything under the work dir.
      const tree = (root: string) =>
        run(["sh", "-c", `cd ${work} && find . -printf '%y %m %s %p %l ' -exec sh -c 'if [ -f "$1" ] && [ ! -L "$1" ]; then stat -c %h "$1" | tr -d "\\n"; printf " "; sha1sum < "$1"; else echo; fi' _ {} \\; | sort`], root).out;
      const mine = tree(mnt);
      expect(mine).toContain("./a/hard.rs");
      expect(mine).toBe(tree(native));
      expect(fs.existsSync(m("project/bar"))).toBe(false);
      expect(fs.existsSync(m("empty.txt"))).toBe(false);
    });

    test("native semantics, rule by rule (test/support/fs-rules.py): the job mount's transcripts equal a native checkout's", () => {
      const native = join(dir, `native-rules-${engine}`);
      checkoutRuleTrees(repo.path, native);
      // The kernel engine renames a lower directory with EXDEV (the test above), which both rules below
      // expect to work; what else it answers there is in docs/antares.md.
      // The kernel engine keeps a read-only mapping made before a copy-up on the lower file, and counts
      // its hidden xattrs in a listxattr size query (overlayfs.rst, "Non-standard behavior").
      const known = engine === "fuse-overlay" ? FUSE_OVERLAY_DIFFERENCES : { "read-only mapping made before a copy-up": "b'lower c\\n'", "listxattr size query": (n: string) => String(Number(n) + "trusted.overlay.origin\0".length) };
      for (const rule of RULES.filter((r) => !(engine === "kernel-overlayfs" && (r === "rename" || r === "rename-open")))) {
        expectNative(runRule(rule, native, mnt), known, expect, rule);
      }
    }, 120_000);

    test("statfs of the mount reports the upper filesystem", () => {
      const a = fs.statfsSync(mnt);
      const b = fs.statfsSync(upper);
      expect(a.blocks * a.bsize).toBe(b.blocks * b.bsize);
      expect(a.files).toBe(b.files);
    });
  });
}
