/**
 * Differential tests, one per rule: the kernel engine gives a job native semantics for upper files,
 * so the FUSE overlay must match them. Each rule is an operation sequence (test/overlay/fs-rules.py)
 * run in a directory of a native checkout of the sample repository and in the same directory seen
 * through an overlay, whose lower layer (the Dicfuse view) holds the rule's files and directories.
 * The transcripts — errno names, contents, modes, link counts, shared inodes, xattr lists, listings,
 * timestamps moving — must be equal, line for line; the few documented differences (docs/overlay.md,
 * "Native semantics") are asserted as such.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { git } from "../support/sample-repo.ts";
import { serveOverlays, startEnv, type OverlayEnv, type ServedOverlays } from "./helpers.ts";

const SCRIPT = join(import.meta.dir, "fs-rules.py");
const RULES = ["hardlink", "rename", "xattr", "tmpfile", "mmap", "locks", "append", "truncate", "sparse", "fallocate", "utimens", "readdir", "rename-open", "statfs"] as const;
type Rule = (typeof RULES)[number];

let env: OverlayEnv;
let ov: ServedOverlays;
let native: string;

/** Each rule's directory: a few files (one executable), nested directories, and 300 names for readdir. */
function writeRuleTree(root: string, rule: Rule): void {
  const w = (p: string, c: string | Uint8Array, mode = 0o644) => {
    fs.mkdirSync(join(root, p, ".."), { recursive: true });
    fs.writeFileSync(join(root, p), c, { mode });
  };
  w("f", "lower f\n");
  w("x.sh", "#!/bin/sh\necho x\n", 0o755);
  const big = new Uint8Array(65536);
  for (let i = 0; i < big.length; i++) big[i] = 97 + (i % 26);
  w("big", big);
  w("d/a", "lower a\n");
  w("d/sub/b", "lower b\n");
  w("e/c", "lower c\n");
  w("h/z", "lower z\n");
  if (rule === "readdir") for (let i = 0; i < 300; i++) w(`many/${String(i).padStart(3, "0")}`, "");
}

beforeAll(async () => {
  env = await startEnv("ovnative", (repo) => {
    for (const rule of RULES) writeRuleTree(join(repo.path, "rules", rule), rule);
    git(repo.path, ["add", "-A"]);
    git(repo.path, ["commit", "-q", "-m", "rule trees"]);
  });
  ov = await serveOverlays(env, "native", [{ name: "m" }]);
  // The native side: the same tree as git checks it out, on the filesystem that holds the upper dir.
  native = join(env.dir, "native-tree");
  fs.mkdirSync(native);
  const archive = spawnSync("sh", ["-c", `git -C '${env.repo.path}' -c tar.umask=0022 archive HEAD rules | tar -x -C '${native}'`], { encoding: "utf8" });
  if (archive.status !== 0) throw new Error(archive.stderr);
}, 120_000);

afterAll(async () => {
  await ov?.stop();
  await env?.close();
}, 60_000);

/** The rule's transcript in `root`, as "label: value" lines. */
function transcript(rule: Rule, root: string): string[] {
  const r = spawnSync("python3", [SCRIPT, rule, join(root, "rules", rule)], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`fs-rules.py ${rule} in ${root} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout.trimEnd().split("\n");
}

/**
 * Runs `rule` natively and through the overlay. Lines whose label starts with "~" are returned for
 * the caller to judge (documented differences, free-space counts); every other line must be equal.
 */
function differential(rule: Rule): { native: Map<string, string>; overlay: Map<string, string> } {
  const want = transcript(rule, native);
  const got = transcript(rule, ov.mounts[0]!.mountpoint);
  const exact = (lines: string[]) => lines.filter((l) => !l.startsWith("~"));
  expect(exact(got)).toEqual(exact(want));
  const judged = (lines: string[]) => new Map(lines.filter((l) => l.startsWith("~")).map((l) => [l.slice(1, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]));
  return { native: judged(want), overlay: judged(got) };
}

test("hard links across copy-up: one inode, shared content and link count, unlink of one name", () => {
  differential("hardlink");
});

test("renames: lower-only and merged directories, over empty and non-empty directories, NOREPLACE and EXCHANGE", () => {
  const { native: n, overlay: o } = differential("rename");
  expect(n.get("RENAME_WHITEOUT")).toBe("ok");
  expect(o.get("RENAME_WHITEOUT")).toBe("EINVAL");
});

test("user xattrs on lower-origin, upper and directory entries: ENODATA, XATTR_CREATE/REPLACE, list, remove", () => {
  differential("xattr");
});

test("O_TMPFILE fails with EOPNOTSUPP (as on a filesystem without it) and tools fall back; linkat of /proc/self/fd works", () => {
  const { native: n, overlay: o } = differential("tmpfile");
  expect(n.get("O_TMPFILE")).toBe("ok");
  expect(o.get("O_TMPFILE")).toBe("EOPNOTSUPP");
});

test("mmap: MAP_SHARED writes seen by read(2), by other fds and after reopening; MAP_PRIVATE writes are not", () => {
  differential("mmap");
});

test("locks: flock and POSIX/OFD fcntl locks conflict between open files and processes as natively", () => {
  differential("locks");
});

test("O_APPEND: appends whatever the offset, across fds and behind a growing write", () => {
  differential("append");
});

test("truncate and ftruncate: shrink, grow, errors, O_TRUNC, times", () => {
  differential("truncate");
});

test("sparse files: SEEK_DATA and SEEK_HOLE find the real holes", () => {
  differential("sparse");
});

test("fallocate: preallocate, KEEP_SIZE, punch holes, zero ranges, errors", () => {
  const { native: n, overlay: o } = differential("fallocate");
  for (const mode of ["COLLAPSE_RANGE", "INSERT_RANGE"]) {
    expect(n.get(mode)).toBe("ok");
    expect(o.get(mode)).toBe("EOPNOTSUPP");
  }
});

test("utimensat: UTIME_NOW, UTIME_OMIT, nanoseconds, symlinks; the timestamps each operation moves", () => {
  differential("utimens");
});

test("readdir while entries are unlinked and created: no survivor missed or repeated, rewinddir sees the present", () => {
  differential("readdir");
});

test("rename over an open file: the open fd keeps the old file, with nlink 0", () => {
  differential("rename-open");
});

test("statfs reports the upper filesystem: block size, size, inode count, name length, free space", () => {
  const { native: n, overlay: o } = differential("statfs");
  // Free counts move with whatever else writes to the disk meanwhile: equal within 1% of the size.
  for (const k of ["bavail", "bfree", "ffree"]) {
    const a = Number(n.get(k));
    const b = Number(o.get(k));
    expect(Math.abs(a - b)).toBeLessThanOrEqual(Math.max(a, b) / 100 + 16);
  }
});
