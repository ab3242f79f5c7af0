/**
 * Differential tests, one per rule: the kernel engine gives a job native semantics for upper files,
 * so the FUSE overlay must match them. Each rule is an operation sequence (test/support/fs-rules.py)
 * run in a directory of a native checkout of the sample repository and in the same directory seen
 * through an overlay, whose lower layer (the Dicfuse view) holds the rule's files and directories.
 * The transcripts — errno names, contents, modes, link counts, shared inodes, xattr lists, listings,
 * timestamps moving — must be equal, line for line; the few documented differences (docs/overlay.md,
 * "Native semantics") are asserted as such.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { checkoutRuleTrees, commitRuleTrees, expectNative, FUSE_OVERLAY_DIFFERENCES, RULES, runRule, type Rule } from "../support/fs-rules.ts";
import { serveOverlays, startEnv, type OverlayEnv, type ServedOverlays } from "./helpers.ts";

let env: OverlayEnv;
let ov: ServedOverlays;
let native: string;

beforeAll(async () => {
  env = await startEnv("ovnative", (repo) => commitRuleTrees(repo.path));
  ov = await serveOverlays(env, "native", [{ name: "m" }]);
  // The native side: the same tree as git checks it out, on the filesystem that holds the upper dir.
  native = join(env.dir, "native-tree");
  checkoutRuleTrees(env.repo.path, native);
}, 120_000);

afterAll(async () => {
  await ov?.stop();
  await env?.close();
}, 60_000);

/** What each rule proves (docs/overlay.md, "Native semantics"). */
const TITLES: Record<Rule, string> = {
  hardlink: "hard links across copy-up: one inode, shared content and link count, unlink of one name, readers opened before",
  rename: "renames: lower-only and merged directories, over empty and non-empty directories, NOREPLACE and EXCHANGE",
  xattr: "user xattrs on lower-origin, upper and directory entries: ENODATA, XATTR_CREATE/REPLACE, list, remove, ACLs",
  tmpfile: "O_TMPFILE fails with EOPNOTSUPP (as on a filesystem without it) and tools fall back; linkat of /proc/self/fd works",
  mmap: "mmap: MAP_SHARED writes seen by read(2), by other fds and after reopening; MAP_PRIVATE writes are not",
  locks: "locks: flock and POSIX/OFD fcntl locks conflict between open files and processes as natively",
  append: "O_APPEND: appends whatever the offset, across fds and behind a growing write",
  truncate: "truncate and ftruncate: shrink, grow, errors, O_TRUNC, times; fd ops on read-only lower fds",
  sparse: "sparse files: SEEK_DATA and SEEK_HOLE find the real holes",
  fallocate: "fallocate: preallocate, KEEP_SIZE, punch holes, zero ranges, errors",
  utimens: "utimensat: UTIME_NOW, UTIME_OMIT, nanoseconds, symlinks; the timestamps each operation moves",
  readdir: "readdir while entries are unlinked and created: no survivor missed or repeated, rewinddir sees the present",
  "rename-open": "rename over an open file: the open fd keeps the old file, with nlink 0; removed and renamed cwds",
  statfs: "statfs reports the upper filesystem: block size, size, inode count, name length, free space",
};

/**
 * Each rule natively and through the overlay: every line must be equal but the documented
 * differences (FUSE_OVERLAY_DIFFERENCES: O_TMPFILE, RENAME_WHITEOUT, COLLAPSE/INSERT_RANGE, whatever
 * the host says) and free-space counts (within 1%).
 */
for (const rule of RULES) {
  test(TITLES[rule], () => {
    const run = runRule(rule, native, ov.mounts[0]!.mountpoint);
    expectNative(run, FUSE_OVERLAY_DIFFERENCES, expect, rule);
    if (rule === "hardlink") expect(run.judgedMount.get("read-only mapping made before a copy-up")).toBe("b'Lower c\\n'");
    if (rule === "tmpfile") expect(run.judgedNative.get("O_TMPFILE")).toBe("ok");
  });
}
