/**
 * The binding, proven on a real kernel mount: MemFs served from a child process, exercised with
 * real syscalls from this process and from spawned tools (cat, setfattr, find).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { makeTempDir, mountChild, removeDir, isMounted, type MountedChild } from "../support/mount-fixture.ts";

const MEMFS = join(import.meta.dir, "../support/memfs-main.ts");

let dir: string;
let mnt: string;
let m: MountedChild;

beforeAll(async () => {
  dir = makeTempDir("binding");
  mnt = join(dir, "mnt");
  m = await mountChild([process.execPath, MEMFS, mnt, "1"], mnt, { env: { SCORPIO_TEST_WATCH_INOS_FILE: join(dir, "watch-inos") } });
}, 120_000);

afterAll(async () => {
  await m?.stop();
  removeDir(dir);
}, 120_000);

const p = (...parts: string[]) => join(mnt, ...parts);

describe("files", () => {
  test("create, write, read, append, truncate", () => {
    fs.writeFileSync(p("a.txt"), "hello");
    expect(fs.readFileSync(p("a.txt"), "utf8")).toBe("hello");
    fs.appendFileSync(p("a.txt"), " world");
    expect(fs.readFileSync(p("a.txt"), "utf8")).toBe("hello world");
    fs.truncateSync(p("a.txt"), 5);
    expect(fs.readFileSync(p("a.txt"), "utf8")).toBe("hello");
    fs.truncateSync(p("a.txt"), 8);
    expect([...fs.readFileSync(p("a.txt"))]).toEqual([...Buffer.from("hello"), 0, 0, 0]);
    const fd = fs.openSync(p("a.txt"), "r+");
    fs.writeSync(fd, "J", 0);
    fs.closeSync(fd);
    expect(fs.readFileSync(p("a.txt"), "utf8").slice(0, 5)).toBe("Jello");
    expect(fs.statSync(p("a.txt")).size).toBe(8);
  });

  test("O_APPEND writes land at the end", () => {
    fs.writeFileSync(p("log.jsonl"), '{"seq":1}\n');
    const fd = fs.openSync(p("log.jsonl"), "a");
    fs.writeSync(fd, '{"seq":2}\n');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    expect(fs.readFileSync(p("log.jsonl"), "utf8")).toBe('{"seq":1}\n{"seq":2}\n');
  });

  test("a large file round-trips byte for byte", () => {
    const data = Buffer.alloc(5 * 1024 * 1024 + 123);
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
    fs.writeFileSync(p("big.bin"), data);
    expect(Bun.hash(fs.readFileSync(p("big.bin")))).toBe(Bun.hash(data));
  });

  test("O_EXCL create of an existing file fails with EEXIST", () => {
    fs.writeFileSync(p("excl"), "x");
    expect(() => fs.openSync(p("excl"), "wx")).toThrow(expect.objectContaining({ code: "EEXIST" }));
  });

  test("missing names are ENOENT", () => {
    expect(() => fs.statSync(p("nope"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });
});

describe("directories", () => {
  test("mkdir, rmdir, ENOTEMPTY", () => {
    fs.mkdirSync(p("d1/d2"), { recursive: true });
    fs.writeFileSync(p("d1/d2/f"), "x");
    expect(() => fs.rmdirSync(p("d1/d2"))).toThrow(expect.objectContaining({ code: "ENOTEMPTY" }));
    fs.unlinkSync(p("d1/d2/f"));
    fs.rmdirSync(p("d1/d2"));
    expect(fs.readdirSync(p("d1"))).toEqual([]);
    expect(fs.statSync(p("d1")).nlink).toBe(2);
  });

  test("readdir of 10,000 entries loses and duplicates nothing", async () => {
    fs.mkdirSync(p("many"));
    const names: string[] = [];
    for (let i = 0; i < 10_000; i++) names.push(`entry-${i}-${"n".repeat(i % 40)}`);
    const batch = 200;
    for (let i = 0; i < names.length; i += batch) {
      await Promise.all(names.slice(i, i + batch).map((n) => fsp.writeFile(p("many", n), "")));
    }
    // readdirplus (the first listing) and plain readdir (ls -f forces getdents without stats).
    const listed = fs.readdirSync(p("many"));
    expect(listed.length).toBe(10_000);
    expect(new Set(listed).size).toBe(10_000);
    expect(new Set(listed)).toEqual(new Set(names));
    const ls = spawnSync("ls", ["-f", p("many")], { encoding: "utf8", maxBuffer: 64 << 20 });
    const lsNames = ls.stdout.split("\n").filter((l) => l && l !== "." && l !== "..");
    expect(lsNames.length).toBe(10_000);
    expect(new Set(lsNames).size).toBe(10_000);
    const find = spawnSync("find", [p("many"), "-type", "f"], { encoding: "utf8", maxBuffer: 64 << 20 });
    expect(find.stdout.trim().split("\n").length).toBe(10_000);
  });
});

describe("names", () => {
  test("rename, over an existing file, and across directories", () => {
    fs.writeFileSync(p("r1"), "one");
    fs.writeFileSync(p("r2"), "two");
    fs.renameSync(p("r1"), p("r2"));
    expect(fs.readFileSync(p("r2"), "utf8")).toBe("one");
    expect(fs.existsSync(p("r1"))).toBe(false);
    fs.mkdirSync(p("rd"));
    fs.renameSync(p("r2"), p("rd", "moved"));
    expect(fs.readFileSync(p("rd", "moved"), "utf8")).toBe("one");
    fs.mkdirSync(p("rd2"));
    fs.writeFileSync(p("rd2", "child"), "c");
    fs.renameSync(p("rd2"), p("rd", "sub"));
    expect(fs.readFileSync(p("rd", "sub", "child"), "utf8")).toBe("c");
    expect(fs.statSync(p("rd")).nlink).toBe(3);
  });

  test("rename with RENAME_NOREPLACE and RENAME_EXCHANGE flags", () => {
    fs.writeFileSync(p("x1"), "1");
    fs.writeFileSync(p("x2"), "2");
    const renameat2 = (flags: number) => {
      const py = `import ctypes;l=ctypes.CDLL(None,use_errno=True);r=l.renameat2(-100,b"${p("x1")}",-100,b"${p("x2")}",${flags});print(r, ctypes.get_errno())`;
      const r = spawnSync("python3", ["-c", py], { encoding: "utf8" });
      expect(r.status).toBe(0);
      return r.stdout.trim();
    };
    expect(renameat2(1 /* NOREPLACE */)).toBe("-1 17");
    expect(fs.readFileSync(p("x2"), "utf8")).toBe("2");
    expect(renameat2(2 /* EXCHANGE */)).toBe("0 0");
    expect(fs.readFileSync(p("x1"), "utf8")).toBe("2");
    expect(fs.readFileSync(p("x2"), "utf8")).toBe("1");
  });

  test("hard links share content and count links", () => {
    fs.writeFileSync(p("h1"), "shared");
    fs.linkSync(p("h1"), p("h2"));
    expect(fs.statSync(p("h1")).nlink).toBe(2);
    expect(fs.statSync(p("h1")).ino).toBe(fs.statSync(p("h2")).ino);
    fs.appendFileSync(p("h2"), "!");
    expect(fs.readFileSync(p("h1"), "utf8")).toBe("shared!");
    fs.unlinkSync(p("h1"));
    expect(fs.statSync(p("h2")).nlink).toBe(1);
    expect(fs.readFileSync(p("h2"), "utf8")).toBe("shared!");
  });

  test("symlinks: readlink, follow, lstat", () => {
    fs.writeFileSync(p("target"), "T");
    fs.symlinkSync("target", p("link"));
    expect(fs.readlinkSync(p("link"))).toBe("target");
    expect(fs.readFileSync(p("link"), "utf8")).toBe("T");
    expect(fs.lstatSync(p("link")).isSymbolicLink()).toBe(true);
    fs.symlinkSync("/does/not/exist", p("dangling"));
    expect(fs.readlinkSync(p("dangling"))).toBe("/does/not/exist");
  });

  test("names with spaces, unicode and shell characters", () => {
    const names = ["with space", "plus+sign", "hash#tag", "amp&er", "ünïcödé-文件", "quote'\""];
    for (const n of names) fs.writeFileSync(p(n), n);
    for (const n of names) expect(fs.readFileSync(p(n), "utf8")).toBe(n);
    const listed = new Set(fs.readdirSync(mnt));
    for (const n of names) expect(listed.has(n)).toBe(true);
  });

  test("names that are not UTF-8 keep their exact bytes: create, list, rename, symlink target, unlink", () => {
    const dir = Buffer.from(p("bytes"));
    fs.mkdirSync(dir);
    const at = (...name: number[]) => Buffer.concat([dir, Buffer.from("/"), Buffer.from(name)]);
    const latin1 = [0x63, 0x61, 0x66, 0xe9]; // "café" in Latin-1
    const stray = [0xff, 0xfe, 0x41, 0xc3]; // no UTF-8 at all
    fs.writeFileSync(at(...latin1), "latin-1");
    fs.writeFileSync(at(...stray), "stray");
    fs.writeFileSync(p("bytes", "café"), "utf-8"); // the same word in UTF-8 is another name
    const listed = fs.readdirSync(dir, { encoding: "buffer" }).map((b) => b.toString("hex")).sort();
    expect(listed).toEqual([Buffer.from(latin1), Buffer.from(stray), Buffer.from("café")].map((b) => b.toString("hex")).sort());
    expect(fs.readFileSync(at(...latin1), "utf8")).toBe("latin-1");
    expect(fs.readFileSync(p("bytes", "café"), "utf8")).toBe("utf-8");
    fs.renameSync(at(...stray), at(...stray, 0x80));
    expect(fs.readFileSync(at(...stray, 0x80), "utf8")).toBe("stray");
    expect(fs.existsSync(at(...stray))).toBe(false);
    fs.symlinkSync(Buffer.from(latin1), at(0x6c, 0xff));
    expect(fs.readlinkSync(at(0x6c, 0xff), { encoding: "buffer" }).toString("hex")).toBe(Buffer.from(latin1).toString("hex"));
    expect(fs.readFileSync(at(0x6c, 0xff), "utf8")).toBe("latin-1");
    for (const b of fs.readdirSync(dir, { encoding: "buffer" })) fs.unlinkSync(Buffer.concat([dir, Buffer.from("/"), b]));
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe("metadata", () => {
  test("chmod and utimens", () => {
    fs.writeFileSync(p("meta"), "m");
    fs.chmodSync(p("meta"), 0o751);
    expect(fs.statSync(p("meta")).mode & 0o7777).toBe(0o751);
    const when = new Date("2020-02-03T04:05:06.789Z");
    fs.utimesSync(p("meta"), when, when);
    const st = fs.statSync(p("meta"));
    expect(st.mtime.getTime()).toBe(when.getTime());
    expect(st.atime.getTime()).toBe(when.getTime());
    expect(st.isFile()).toBe(true);
  });

  test("xattrs: set, get, list, remove", () => {
    fs.writeFileSync(p("xa"), "x");
    const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8" });
    expect(run("setfattr", ["-n", "user.color", "-v", "blue", p("xa")]).status).toBe(0);
    expect(run("setfattr", ["-n", "user.size", "-v", "big", p("xa")]).status).toBe(0);
    expect(run("getfattr", ["--only-values", "-n", "user.color", p("xa")]).stdout).toBe("blue");
    const dump = run("getfattr", ["-d", p("xa")]).stdout;
    expect(dump).toContain('user.color="blue"');
    expect(dump).toContain('user.size="big"');
    expect(run("setfattr", ["-x", "user.color", p("xa")]).status).toBe(0);
    const missing = run("getfattr", ["-n", "user.color", p("xa")]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain("No such attribute");
  });

  test("statfs", () => {
    const st = fs.statfsSync(mnt);
    expect(st.bsize).toBe(4096);
    expect(st.blocks).toBe(1 << 20);
  });
});

describe("asynchrony and errors", () => {
  test("64 concurrent readers of files whose handler awaits a timer", async () => {
    for (let i = 0; i < 8; i++) fs.writeFileSync(p(`slow-${i}`), `slow file ${i}\n`.repeat(100));
    const reads = Array.from({ length: 64 }, (_, i) => fsp.readFile(p(`slow-${i % 8}`), "utf8"));
    const got = await Promise.all(reads);
    got.forEach((text, i) => expect(text).toBe(`slow file ${i % 8}\n`.repeat(100)));
    // 64 readers in parallel processes as well: each must see its own bytes.
    const procs = Array.from({ length: 16 }, (_, i) => Bun.spawn(["cat", p(`slow-${i % 8}`)], { stdout: "pipe" }));
    const outs = await Promise.all(procs.map((pr) => new Response(pr.stdout).text()));
    outs.forEach((text, i) => expect(text).toBe(`slow file ${i % 8}\n`.repeat(100)));
  });

  test("a handler that throws gives EIO and the daemon keeps serving", async () => {
    fs.writeFileSync(p("thrower"), "");
    expect(() => fs.writeFileSync(p("thrower"), "!throw please")).toThrow(expect.objectContaining({ code: "EIO" }));
    for (let i = 0; i < 100 && !m.output().includes("handler failed, replying EIO"); i++) await Bun.sleep(20);
    expect(m.output()).toContain("handler failed, replying EIO");
    fs.writeFileSync(p("after-throw"), "still alive");
    expect(fs.readFileSync(p("after-throw"), "utf8")).toBe("still alive");
  });

  test("kernel cache invalidation makes a change behind the kernel's back visible", async () => {
    const first = await m.request<{ generation: number }>("SIGUSR1");
    const a = fs.readFileSync(p("notify.txt"), "utf8");
    expect(a).toBe(`generation ${first.generation} ${"x".repeat(first.generation)}\n`);
    const second = await m.request<{ generation: number }>("SIGUSR1");
    expect(fs.statSync(p("notify.txt")).size).toBe(`generation ${second.generation} ${"x".repeat(second.generation)}\n`.length);
    expect(fs.readFileSync(p("notify.txt"), "utf8")).toBe(`generation ${second.generation} ${"x".repeat(second.generation)}\n`);
  });

  test("forget: the kernel's references come back and unlinked inodes are freed", async () => {
    fs.mkdirSync(p("forget"));
    for (let i = 0; i < 300; i++) fs.writeFileSync(p("forget", `f${i}`), "x");
    spawnSync("find", [p("forget")]);
    const inos = Array.from({ length: 300 }, (_, i) => fs.statSync(p("forget", `f${i}`)).ino);
    fs.writeFileSync(join(dir, "watch-inos"), inos.join(","));
    const before = await m.request<{ forgets: number; live: number[] }>("SIGUSR2");
    expect(before.live.length).toBe(300);
    // An open file that is unlinked stays referenced by the kernel: the filesystem must keep it.
    const fd = fs.openSync(p("forget", "f0"), "r");
    for (let i = 0; i < 300; i++) fs.unlinkSync(p("forget", `f${i}`));
    const unlinked = await m.request<{ live: number[] }>("SIGUSR2");
    expect(unlinked.live).toContain(inos[0]!);
    const buf = Buffer.alloc(1);
    expect(fs.readSync(fd, buf, 0, 1, 0)).toBe(1);
    expect(buf.toString()).toBe("x");
    fs.closeSync(fd);
    fs.writeFileSync("/proc/sys/vm/drop_caches", "2");
    let after = await m.request<{ forgets: number; live: number[] }>("SIGUSR2");
    for (let i = 0; i < 50 && after.live.length > 0; i++) {
      await Bun.sleep(50);
      after = await m.request<{ forgets: number; live: number[] }>("SIGUSR2");
    }
    expect(after.forgets).toBeGreaterThan(before.forgets);
    expect(after.live).toEqual([]);
    // The binding counts forget entries too (they carry no reply); one entry may return several references.
    const stats = (after as unknown as { stats: Record<string, { count: number }> }).stats;
    const entries = (stats.forget?.count ?? 0) + (stats.forget_multi?.count ?? 0);
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThanOrEqual(after.forgets);
  });
});

describe("lifecycle", () => {
  test("the mount is listed as fuse.memfs", () => {
    const line = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").find((l) => l.split(" ")[4] === mnt);
    expect(line).toContain("fuse.memfs");
  });

  test("SIGTERM unmounts cleanly; a SIGKILLed daemon's stale mount is cleared by the next mount", async () => {
    const d = makeTempDir("lifecycle");
    const mp = join(d, "mnt");
    try {
      const a = await mountChild([process.execPath, MEMFS, mp], mp);
      fs.writeFileSync(join(mp, "f"), "x");
      expect(await a.stop()).toBe(0);
      expect(isMounted(mp)).toBe(false);

      const b = await mountChild([process.execPath, MEMFS, mp], mp);
      b.child.kill("SIGKILL");
      await new Promise((r) => b.child.on("exit", r));
      expect(isMounted(mp)).toBe(true);
      expect(() => fs.statSync(mp)).toThrow(expect.objectContaining({ code: "ENOTCONN" }));

      const c = await mountChild([process.execPath, MEMFS, mp], mp);
      // Logged on stderr before "ready" on stdout; the two pipes may deliver in either order.
      for (let i = 0; i < 250 && !c.output().includes("clearing stale mount"); i++) await Bun.sleep(20);
      expect(c.output()).toContain("clearing stale mount");
      fs.writeFileSync(join(mp, "g"), "fresh");
      expect(fs.readFileSync(join(mp, "g"), "utf8")).toBe("fresh");
      expect(await c.stop()).toBe(0);
      expect(isMounted(mp)).toBe(false);
    } finally {
      removeDir(d);
    }
  });

  test("an external fusermount3 -u ends the daemon cleanly", async () => {
    const d = makeTempDir("extumount");
    const mp = join(d, "mnt");
    try {
      const a = await mountChild([process.execPath, MEMFS, mp], mp);
      const exited = new Promise<number | null>((r) => a.child.on("exit", (code) => r(code)));
      expect(spawnSync("fusermount3", ["-u", mp]).status).toBe(0);
      expect(await exited).toBe(0);
      expect(isMounted(mp)).toBe(false);
    } finally {
      removeDir(d);
    }
  });
});
