/**
 * The binding under stress and in its shipped forms: a forced-GC soak, a `bun build --compile`d
 * server, and an unprivileged mount through fusermount3 where the host allows it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { makeTempDir, mountChild, removeDir, isMounted } from "../support/mount-fixture.ts";

const MEMFS = join(import.meta.dir, "../support/memfs-main.ts");
const BUILD = join(import.meta.dir, "../.build");
let dir: string;

beforeAll(() => {
  dir = makeTempDir("lifecycle");
});
afterAll(() => removeDir(dir));

// Both ways of picking requests up: parked on the poll worker only, and busy-polling between requests.
test.each([["spinning (default)", undefined], ["never spinning", "0"]])("forced GC every 20 ms under a stat storm with zero cache timeouts, %s", async (_label, spin) => {
  const mp = join(dir, `gc-${spin ?? "default"}`);
  const m = await mountChild([process.execPath, MEMFS, mp, "0"], mp, { env: { SCORPIO_TEST_GC: "1", ...(spin ? { SCORPIO_TEST_SPIN: spin } : {}) } });
  try {
    fs.mkdirSync(join(mp, "d"));
    for (let i = 0; i < 200; i++) fs.writeFileSync(join(mp, "d", `file-${i}`), `content ${i}`);
    for (let round = 0; round < 10; round++) {
      const names = await fsp.readdir(join(mp, "d"));
      expect(names.length).toBe(200);
      const stats = await Promise.all(names.map((n) => fsp.stat(join(mp, "d", n))));
      for (const st of stats) expect(st.isFile()).toBe(true);
      const i = round * 17 % 200;
      expect(await fsp.readFile(join(mp, "d", `file-${i}`), "utf8")).toBe(`content ${i}`);
    }
    for (let i = 0; i < 3000; i++) fs.statSync(join(mp, "d", `file-${i % 200}`));
    const stats = await m.request<{ stats: Record<string, { count: number }>; dispatch: { wakeups: number; spinHits: number; spinMisses: number } }>("SIGUSR2");
    expect(stats.stats.getattr!.count + stats.stats.lookup!.count).toBeGreaterThan(3000);
    if (spin === "0") expect(stats.dispatch.spinHits + stats.dispatch.spinMisses).toBe(0);
    expect(stats.dispatch.wakeups).toBeGreaterThan(0);
  } finally {
    expect(await m.stop()).toBe(0);
  }
  expect(isMounted(mp)).toBe(false);
});

test("a `bun build --compile`d server mounts and serves", async () => {
  fs.mkdirSync(BUILD, { recursive: true });
  const bin = join(BUILD, "memfs");
  const build = spawnSync(process.execPath, ["build", "--compile", MEMFS, "--outfile", bin], { encoding: "utf8" });
  expect(build.status).toBe(0);
  const mp = join(dir, "compiled");
  // PATH without bun: the binary must not need it.
  const m = await mountChild([bin, mp], mp, { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  try {
    fs.writeFileSync(join(mp, "hello"), "from a compiled binary");
    expect(fs.readFileSync(join(mp, "hello"), "utf8")).toBe("from a compiled binary");
    fs.mkdirSync(join(mp, "sub"));
    expect(fs.readdirSync(mp).sort()).toEqual(["hello", "sub"]);
    const maps = fs.readFileSync(`/proc/${m.child.pid}/maps`, "utf8");
    expect(maps).toContain("libfuse3.so");
  } finally {
    expect(await m.stop()).toBe(0);
  }
});

/** Why an unprivileged mount cannot be tried on this host, or null when it can. */
function unprivilegedBlocker(): string | null {
  if (process.getuid?.() !== 0) return "tests do not run as root, so no other user can be switched to";
  let dev: fs.Stats;
  try {
    dev = fs.statSync("/dev/fuse");
  } catch {
    return "/dev/fuse does not exist";
  }
  if ((dev.mode & 0o006) !== 0o006) return `/dev/fuse is mode ${(dev.mode & 0o777).toString(8)}: only root may open it on this host`;
  const fm = spawnSync("sh", ["-c", "command -v fusermount3"], { encoding: "utf8" }).stdout.trim();
  if (!fm) return "fusermount3 is not installed";
  if ((fs.statSync(fm).mode & 0o4000) === 0) return `${fm} is not setuid root`;
  if (spawnSync("setpriv", ["--version"]).status !== 0) return "setpriv (util-linux) is missing";
  return null;
}

const blocker = unprivilegedBlocker();
if (blocker) console.warn(`SKIP unprivileged mount test: ${blocker}`);

test.skipIf(blocker !== null)("an unprivileged user mounts through fusermount3", async () => {
  const home = join(dir, "nobody");
  const mp = join(home, "mnt");
  fs.mkdirSync(mp, { recursive: true });
  fs.chmodSync(dir, 0o755);
  spawnSync("chown", ["-R", "nobody:nogroup", home]);
  const m = await mountChild(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", process.execPath, MEMFS, mp], mp);
  try {
    const line = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").find((l) => l.split(" ")[4] === mp);
    expect(line).toContain("user_id=65534");
    const who = spawnSync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "sh", "-c", `echo hi > ${mp}/f && cat ${mp}/f`], { encoding: "utf8" });
    expect(who.stdout).toBe("hi\n");
  } finally {
    await m.stop();
  }
});
