/**
 * Host paths past PATH_MAX (src/util/long-path.ts through fsPath and cString): node:fs and libc
 * calls work at any depth, and the directory fds of the walk are closed afterwards.
 */
import { afterAll, expect, test } from "bun:test";
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { lgetxattr, lsetxattr } from "../../src/overlay/host-syscalls.ts";
import { fsPath } from "../../src/util/names.ts";
import { makeTempDir, removeDir } from "../support/mount-fixture.ts";

const dir = makeTempDir("long-path");
afterAll(() => removeDir(dir));

const openFds = () => readdirSync("/proc/self/fd").length;

test("a 50,000-byte path: mkdir, write, read, rename, xattrs, listing; no fd left open", async () => {
  const before = openFds();
  let p = dir;
  const seg = "é".repeat(120); // 240 bytes: the byte length, not the string length, counts
  for (let i = 0; i < 200; i++) {
    p = join(p, seg);
    mkdirSync(fsPath(p));
  }
  expect(Buffer.byteLength(p)).toBeGreaterThan(48_000);
  writeFileSync(fsPath(join(p, "f")), "deep");
  renameSync(fsPath(join(p, "f")), fsPath(join(p, "g")));
  expect(readFileSync(fsPath(join(p, "g")), "utf8")).toBe("deep");
  expect(readdirSync(fsPath(p))).toEqual(["g"]);
  lsetxattr(join(p, "g"), "user.k", new TextEncoder().encode("v"), 0);
  expect(new TextDecoder().decode(lgetxattr(join(p, "g"), "user.k")!)).toBe("v");
  expect(lstatSync(fsPath(p)).isDirectory()).toBe(true);
  // Short paths are passed through untouched.
  expect(fsPath(dir)).toBe(dir);
  await Promise.resolve();
  expect(openFds()).toBe(before);
});
