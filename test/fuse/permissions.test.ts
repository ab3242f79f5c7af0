/**
 * The ownership rules of src/fuse/permissions.ts as pure functions: the cases the mount tests
 * (test/overlay/permissions.test.ts) cannot reach because the kernel refuses them first.
 */
import { describe, expect, test } from "bun:test";
import { checkAccess, checkSetattr, checkSticky, newEntryOwnership, S_IF } from "../../src/fuse/index.ts";
import { Errno, errnoOf } from "../../src/util/errno.ts";

const root = { uid: 0, gid: 0 };
const owner = { uid: 1000, gid: 1000 };
const member = { uid: 2000, gid: 2000, groups: [1000] };
const other = { uid: 3000, gid: 3000, groups: [] };
const file = { mode: S_IF.REG | 0o6755, uid: 1000, gid: 1000 };

function errno(fn: () => unknown): number | null {
  try {
    fn();
    return null;
  } catch (err) {
    return errnoOf(err) ?? null;
  }
}

describe("checkSetattr", () => {
  test("chown: root only; chgrp: the owner, to its own groups", () => {
    expect(errno(() => checkSetattr(file, { uid: 0 }, owner, false))).toBe(Errno.EPERM);
    expect(errno(() => checkSetattr(file, { uid: 1000 }, other, false))).toBe(Errno.EPERM);
    expect(errno(() => checkSetattr(file, { uid: 1000 }, owner, false))).toBeNull();
    expect(errno(() => checkSetattr(file, { uid: 5, gid: 5 }, root, false))).toBeNull();
    expect(errno(() => checkSetattr(file, { gid: 7 }, owner, false))).toBe(Errno.EPERM);
    expect(errno(() => checkSetattr(file, { gid: 7 }, { ...owner, groups: [7] }, false))).toBeNull();
    expect(errno(() => checkSetattr(file, { gid: 1000 }, member, false))).toBe(Errno.EPERM);
  });

  test("chmod: the owner or root; anyone may only clear setuid/setgid (the kernel's kill-priv)", () => {
    expect(errno(() => checkSetattr(file, { mode: 0o777 }, other, false))).toBe(Errno.EPERM);
    expect(errno(() => checkSetattr(file, { mode: 0o755 }, other, false))).toBeNull();
    expect(errno(() => checkSetattr(file, { mode: 0o2755 }, other, false))).toBeNull();
    expect(errno(() => checkSetattr(file, { mode: 0o6777 }, other, false))).toBe(Errno.EPERM);
    expect(errno(() => checkSetattr(file, { mode: 0o700 }, owner, false))).toBeNull();
  });

  test("setgid is dropped when the caller is not in the (new) group", () => {
    const mine = { mode: S_IF.REG | 0o644, uid: 1000, gid: 42 };
    expect(checkSetattr(mine, { mode: 0o2755 }, owner, false).mode).toBe(0o755);
    expect(checkSetattr(mine, { mode: 0o2755 }, { ...owner, groups: [42] }, false).mode).toBe(0o2755);
    expect(checkSetattr(mine, { mode: 0o2755, gid: 1000 }, owner, false).mode).toBe(0o2755);
    expect(checkSetattr(mine, { mode: 0o2755 }, root, false).mode).toBe(0o2755);
  });

  test("times: explicit by the owner; both 'now' also by a writer", () => {
    const t = { sec: 1, nsec: 0 };
    const rw = { mode: S_IF.REG | 0o666, uid: 1000, gid: 1000 };
    expect(errno(() => checkSetattr(rw, { atime: t, mtime: t }, other, false))).toBe(Errno.EPERM);
    expect(errno(() => checkSetattr(rw, { atime: "now", mtime: "now" }, other, false))).toBeNull();
    expect(errno(() => checkSetattr(file, { atime: "now", mtime: "now" }, other, false))).toBe(Errno.EACCES);
    expect(errno(() => checkSetattr(file, { atime: t }, owner, false))).toBeNull();
  });

  test("truncate by path needs write permission, through a handle it does not", () => {
    expect(errno(() => checkSetattr(file, { size: 0 }, other, false))).toBe(Errno.EACCES);
    expect(errno(() => checkSetattr(file, { size: 0 }, other, true))).toBeNull();
  });
});

test("checkSticky: the entry's owner, the directory's owner or root", () => {
  const dir = { mode: S_IF.DIR | 0o1777, uid: 0, gid: 0 };
  expect(errno(() => checkSticky(dir, file, other))).toBe(Errno.EPERM);
  expect(errno(() => checkSticky(dir, file, owner))).toBeNull();
  expect(errno(() => checkSticky(dir, file, root))).toBeNull();
  expect(errno(() => checkSticky({ ...dir, uid: 3000 }, file, other))).toBeNull();
  expect(errno(() => checkSticky({ ...dir, mode: S_IF.DIR | 0o777 }, file, other))).toBeNull();
});

test("checkAccess consults supplementary groups", () => {
  const groupOnly = { mode: S_IF.REG | 0o060, uid: 1, gid: 1000 };
  expect(errno(() => checkAccess(groupOnly, 4, member))).toBeNull();
  expect(errno(() => checkAccess(groupOnly, 4, other))).toBe(Errno.EACCES);
});

test("newEntryOwnership: setgid directories pass their group (and setgid to subdirectories)", () => {
  const sgid = { mode: S_IF.DIR | 0o2777, uid: 0, gid: 42 };
  expect(newEntryOwnership(sgid, S_IF.REG, 0o644, other)).toEqual({ uid: 3000, gid: 42, mode: 0o644 });
  expect(newEntryOwnership(sgid, S_IF.DIR, 0o755, other)).toEqual({ uid: 3000, gid: 42, mode: 0o2755 });
  expect(newEntryOwnership(sgid, S_IF.REG, 0o2775, other).mode).toBe(0o775);
  expect(newEntryOwnership(sgid, S_IF.REG, 0o2775, { ...other, groups: [42] }).mode).toBe(0o2775);
  expect(newEntryOwnership({ ...sgid, mode: S_IF.DIR | 0o777 }, S_IF.DIR, 0o6755, other)).toEqual({ uid: 3000, gid: 3000, mode: 0o755 });
});
