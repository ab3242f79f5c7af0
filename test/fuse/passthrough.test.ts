/**
 * The binding's native paths on a real mount, through the bench's passthrough filesystem (the only
 * filesystem that replies with native `struct stat`s): every attribute the kernel reports must be
 * the backing file's, in lookups, getattr and readdirplus alike; fd-backed reads of every size come
 * back byte for byte, copied (the default) and spliced.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { makeTempDir, mountChild, removeDir, type MountedChild } from "../support/mount-fixture.ts";
import { expectReadsBack } from "../support/read-back.ts";

const MAIN = join(import.meta.dir, "../../bench/passthrough-main.ts");

let dir: string;
let source: string;
const mounts: MountedChild[] = [];
let direct: string; // timeout 0, cache=never (direct_io: 1 MiB reads), default read path
let spliced: string; // timeout 1, page cache, --splice

const big = Buffer.from(crypto.getRandomValues(new Uint8Array(65_536)));
const bigData = Buffer.concat(Array.from({ length: 48 }, (_, i) => (i % 2 ? big : big.reverse())), 48 * 65_536 - 333);

beforeAll(async () => {
  dir = makeTempDir("passthrough");
  source = join(dir, "source");
  fs.mkdirSync(join(source, "many"), { recursive: true });
  for (let i = 0; i < 300; i++) {
    fs.writeFileSync(join(source, "many", `entry-${i}`), "x".repeat(i));
    // Distinct atime, mtime and ctime on every entry, so a swapped field cannot go unseen.
    fs.utimesSync(join(source, "many", `entry-${i}`), new Date(1_600_000_000_000 + i * 7), new Date(1_500_000_000_000 + i * 13));
  }
  fs.symlinkSync("entry-1", join(source, "many", "link"));
  fs.mkdirSync(join(source, "many", "sub"));
  fs.writeFileSync(join(source, "big.bin"), bigData);
  direct = join(dir, "direct");
  spliced = join(dir, "spliced");
  mounts.push(await mountChild([process.execPath, MAIN, source, direct, "--timeout", "0"], direct));
  mounts.push(await mountChild([process.execPath, MAIN, source, spliced, "--timeout", "1", "--splice"], spliced));
}, 120_000);

afterAll(async () => {
  for (const m of mounts) await m.stop();
  removeDir(dir);
}, 120_000);

const same = (a: fs.BigIntStats, b: fs.BigIntStats) => {
  for (const k of ["ino", "mode", "nlink", "uid", "gid", "size", "blocks", "atimeNs", "mtimeNs", "ctimeNs"] as const) expect(`${k}=${a[k]}`).toBe(`${k}=${b[k]}`);
};

describe("native struct stat replies", () => {
  test("lookup and getattr report the backing attributes exactly (nanosecond times included)", () => {
    for (const name of ["entry-0", "entry-7", "entry-299", "link", "sub"]) {
      same(fs.lstatSync(join(direct, "many", name), { bigint: true }), fs.lstatSync(join(source, "many", name), { bigint: true }));
    }
  });

  test("readdirplus entries carry the same attributes, types and inode numbers", () => {
    // `ls -l` right after a fresh listing: the attributes come from the READDIRPLUS reply.
    const dirents = fs.readdirSync(join(spliced, "many"), { withFileTypes: true });
    expect(dirents.length).toBe(302);
    for (const d of dirents) {
      const backing = fs.lstatSync(join(source, "many", d.name), { bigint: true });
      same(fs.lstatSync(join(spliced, "many", d.name), { bigint: true }), backing);
      expect(d.isSymbolicLink()).toBe(backing.isSymbolicLink());
      expect(d.isDirectory()).toBe(backing.isDirectory());
    }
  });

  test("a renamed directory's entries still resolve (lookups go through the directory's own fd)", () => {
    fs.mkdirSync(join(direct, "moving"));
    fs.writeFileSync(join(direct, "moving", "inside.txt"), "inside\n");
    fs.statSync(join(direct, "moving", "inside.txt"));
    fs.renameSync(join(direct, "moving"), join(direct, "moved"));
    same(fs.statSync(join(direct, "moved", "inside.txt"), { bigint: true }), fs.statSync(join(source, "moved", "inside.txt"), { bigint: true }));
    expect(fs.existsSync(join(direct, "moving"))).toBe(false);
    expect(fs.readFileSync(join(direct, "moved", "inside.txt"), "utf8")).toBe("inside\n");
  });

  test("a file created through the mount reports what the backing file has", () => {
    fs.writeFileSync(join(direct, "created.txt"), "new\n");
    same(fs.statSync(join(direct, "created.txt"), { bigint: true }), fs.statSync(join(source, "created.txt"), { bigint: true }));
  });
});

describe("fd-backed reads", () => {
  for (const [label, root] of [["copied, direct_io", () => direct], ["spliced, page cache", () => spliced]] as const) {
    test(`${label}: whole file and odd ranges read back byte for byte`, () => expectReadsBack(join(root(), "big.bin"), bigData));
  }
});
