/**
 * The JS directory encoder against libfuse's own: for the same entries, `encodeDirents` must write
 * exactly the bytes `fuse_add_direntry` / `fuse_add_direntry_plus` write (their `req` is unused).
 */
import { expect, test } from "bun:test";
import type { Pointer } from "bun:ffi";
import { loadLibfuse } from "../../src/fuse/libfuse.ts";
import { nativeBuffer, nativeCString } from "../../src/fuse/memory.ts";
import { encodeDirents } from "../../src/fuse/dirents.ts";
import { writeStat } from "../../src/fuse/encode.ts";
import { ENTRY_PARAM, STAT, S_IF } from "../../src/fuse/structs.ts";
import type { Attr, DirEntryPlus } from "../../src/fuse/types.ts";

const lib = loadLibfuse();

const attr = (ino: number, mode: number, i: number): Attr => ({
  ino, mode, nlink: 1 + (i % 3), uid: 1000 + i, gid: 100 + i, size: i * 4097, blksize: 4096,
  atimeSec: 1_700_000_000 + i, atimeNsec: i * 1111, mtimeSec: 1_600_000_000 + i, mtimeNsec: 999_999_999 - i, ctimeSec: 1_500_000_000, ctimeNsec: 7,
});

const names = [".", "..", "a", "ab", "abcdefg", "abcdefgh", "with space", "ünïcödé-文件", "x".repeat(255), "plus+hash#amp&"];
const modes = [S_IF.DIR | 0o755, S_IF.REG | 0o644, S_IF.LNK | 0o777, S_IF.REG | 0o755, S_IF.FIFO | 0o600];
const entries: DirEntryPlus[] = names.map((name, i) => {
  const ino = i < 2 ? 1 : 2 ** 40 + i;
  const mode = modes[i % modes.length]!;
  const dot = name === "." || name === "..";
  return {
    name, ino, mode, nextOffset: i + 1,
    entry: dot ? undefined : { ino, generation: i, attr: attr(ino, mode, i), attrTimeout: [1, 0, 1.5, 3600.25][i % 4], entryTimeout: [2, 0.001, 0, 86400][i % 4] },
  };
});

/** The same entries with their attributes as native `struct stat`s of random bytes (every field, padding too). */
const nativeEntries: DirEntryPlus[] = entries.map((e) => {
  if (!e.entry) return e;
  const stat = new Uint8Array(new ArrayBuffer(STAT.size));
  crypto.getRandomValues(stat);
  return { ...e, entry: { ...e.entry, attr: stat } };
});

function libfuseBytes(plus: boolean, list: DirEntryPlus[] = entries): Buffer {
  const out = nativeBuffer(64 * 1024);
  const param = nativeBuffer(ENTRY_PARAM.size);
  const st = nativeBuffer(STAT.size);
  let used = 0;
  for (const e of list) {
    const name = nativeCString(e.name);
    let n: number;
    if (plus) {
      param.bytes.fill(0);
      if (e.entry) {
        param.view.setBigUint64(ENTRY_PARAM.ino, BigInt(e.entry.ino), true);
        param.view.setBigUint64(ENTRY_PARAM.generation, BigInt(e.entry.generation ?? 0), true);
        writeStat(param.bytes, e.entry.attr, ENTRY_PARAM.attr);
        param.view.setFloat64(ENTRY_PARAM.attrTimeout, e.entry.attrTimeout!, true);
        param.view.setFloat64(ENTRY_PARAM.entryTimeout, e.entry.entryTimeout!, true);
      } else {
        param.view.setBigUint64(ENTRY_PARAM.attr + STAT.ino, BigInt(e.ino), true);
        param.view.setUint32(ENTRY_PARAM.attr + STAT.mode, e.mode, true);
      }
      n = Number(lib.fuse.fuse_add_direntry_plus(null, (out.ptr + used) as unknown as Pointer, 64 * 1024 - used, name.ptr, param.ptr, e.nextOffset));
    } else {
      st.bytes.fill(0);
      st.view.setBigUint64(STAT.ino, BigInt(e.ino), true);
      st.view.setUint32(STAT.mode, e.mode, true);
      n = Number(lib.fuse.fuse_add_direntry(null, (out.ptr + used) as unknown as Pointer, 64 * 1024 - used, name.ptr, st.ptr, e.nextOffset));
    }
    used += n;
  }
  return Buffer.from(out.bytes.subarray(0, used));
}

function oursBytes(plus: boolean, size = 64 * 1024, list: DirEntryPlus[] = entries): { bytes: Buffer; sent: number } {
  const out = nativeBuffer(size);
  // Garbage first: every byte of a record must be written, padding included (the reply buffer is reused).
  out.bytes.fill(0xa5);
  const { used, sent } = encodeDirents(out.bytes, new Uint32Array(out.bytes.buffer, 0, size >>> 2), size, plus ? list : list.map(({ entry: _e, ...d }) => d), plus, { attr: 1, entry: 1 });
  return { bytes: Buffer.from(out.bytes.subarray(0, used)), sent };
}

test("readdir entries are byte-identical to fuse_add_direntry", () => {
  const ours = oursBytes(false);
  expect(ours.sent).toBe(entries.length);
  expect(ours.bytes.toString("hex")).toBe(libfuseBytes(false).toString("hex"));
});

test("readdirplus entries are byte-identical to fuse_add_direntry_plus", () => {
  const ours = oursBytes(true);
  expect(ours.sent).toBe(entries.length);
  expect(ours.bytes.toString("hex")).toBe(libfuseBytes(true).toString("hex"));
});

test("readdirplus entries with native struct stats are byte-identical to fuse_add_direntry_plus", () => {
  const ours = oursBytes(true, 64 * 1024, nativeEntries);
  expect(ours.sent).toBe(nativeEntries.length);
  expect(ours.bytes.toString("hex")).toBe(libfuseBytes(true, nativeEntries).toString("hex"));
});

test("a native struct stat of the wrong size is refused, not misread", () => {
  const bad = entries.map((e) => (e.entry ? { ...e, entry: { ...e.entry, attr: new Uint8Array(100) } } : e));
  expect(() => oursBytes(true, 64 * 1024, bad)).toThrow(/144 bytes/);
});

test("stops at the first entry that does not fit, never writing a partial one", () => {
  const full = libfuseBytes(false);
  // Room for the first three entries (".", "..", "a": 32 bytes each) and a few bytes more.
  const { bytes, sent } = oursBytes(false, 3 * 32 + 20);
  expect(sent).toBe(3);
  expect(bytes.toString("hex")).toBe(full.subarray(0, 96).toString("hex"));
});
