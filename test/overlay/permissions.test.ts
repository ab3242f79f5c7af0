/**
 * The caller's permissions in an overlay mounted with allow_other (as job mounts are): each rule is
 * exercised by an unprivileged user (`setpriv --reuid 65534`, with a supplementary group where the
 * rule needs one) on the mount and on a native directory of the host filesystem, set up the same
 * way by root; the outputs (messages, exit codes, resulting modes and owners) must be equal. A few
 * assertions on the mount alone cover what has no native counterpart (nosuid, the read-only view).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { serveOverlays, startEnv, type OverlayEnv, type ServedOverlays } from "./helpers.ts";

const NOBODY = 65534;
/** Another unprivileged user, owner of files nobody must not touch. */
const OTHER = 1000;
/** A group nobody is a member of only when the test gives it as a supplementary group. */
const GROUP = 4242;

let env: OverlayEnv;
let ov: ServedOverlays;
let mnt: string;
let native: string;
let viewMnt: string;
let n = 0;

beforeAll(async () => {
  env = await startEnv("ovperm");
  fs.chmodSync(env.dir, 0o755);
  viewMnt = join(env.dir, "perm", "view");
  ov = await serveOverlays(env, "perm", [{ name: "m" }], { allowOther: true, viewMountpoint: viewMnt });
  mnt = ov.mounts[0]!.mountpoint;
  native = join(env.dir, "native");
  fs.mkdirSync(native, { mode: 0o755 });
  fs.chmodSync(native, 0o755);
}, 120_000);

afterAll(async () => {
  await ov?.stop();
  await env?.close();
}, 60_000);

/**
 * Runs `script` with bash in `dir` (`$D` in the script) and returns its output, exit code last,
 * with `dir` itself written as "D" (shell messages name it). `priv`: a setpriv prefix, or none for root.
 */
function runIn(dir: string, script: string, priv: string[]): string {
  const r = Bun.spawnSync([...priv, "bash", "-c", `D="$0"; cd "$D" || exit 99\n${script}`, dir], { env: { PATH: "/usr/bin:/bin", LC_ALL: "C" }, cwd: "/" });
  return `${r.stdout.toString()}${r.stderr.toString()}exit ${r.exitCode}`.replaceAll(dir, "D");
}

/** Runs `script` in `dir` as uid/gid 65534 with only `groups` as supplementary groups. */
function asNobody(dir: string, script: string, groups: number[] = []): string {
  return runIn(dir, script, ["setpriv", "--reuid", String(NOBODY), "--regid", String(NOBODY), groups.length > 0 ? `--groups=${groups.join(",")}` : "--clear-groups"]);
}

/** Runs `script` in `dir` as root. */
function asRoot(dir: string, script: string): string {
  return runIn(dir, script, []);
}

/**
 * A fresh directory `t<n>` in the mount and in the native tree, prepared by `setup` (as root) in
 * each; then `run` in each; returns both outputs.
 */
function differential(setup: string, run: (dir: string) => string): { mount: string; native: string } {
  const name = `t${++n}`;
  const out = { mount: "", native: "" };
  for (const [key, root] of [["mount", mnt], ["native", native]] as const) {
    const dir = join(root, name);
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o755);
    const s = asRoot(dir, `set -e\n${setup}`);
    if (!s.endsWith("exit 0")) throw new Error(`setup failed in ${key}: ${s}`);
    out[key] = run(dir);
  }
  return out;
}

/** Same rule, same result: returns the (common) output for further checks. */
function same(setup: string, script: string, groups: number[] = []): string {
  const out = differential(setup, (dir) => asNobody(dir, script, groups));
  expect(out.mount).toBe(out.native);
  return out.mount;
}

const STAT = (files: string) => `stat -c '%n %a %u %g %s' ${files}`;

describe("as an unprivileged user, the job mount answers as the host filesystem does", () => {
  test("root's 0600 file: no open, read, write or truncate", () => {
    const out = same(
      `echo secret > f; chmod 600 f`,
      `cat f; echo x >> f; echo x > f; truncate -s 0 f; ${STAT("f")}`,
    );
    expect(out).toContain("Permission denied");
    expect(out).toContain("f 600 0 0 7");
  });

  test("a 0555 directory: no create, mkdir, symlink, link, unlink or rename in it", () => {
    const out = same(
      `mkdir d; echo a > d/a; echo b > own; chown ${NOBODY}:${NOBODY} own; chmod 555 d`,
      `touch d/new; mkdir d/sub; ln -s x d/l; ln own d/h; rm -f d/a; mv d/a d/b; mv own d/own; ls d; ${STAT("d d/a own")}`,
    );
    expect(out).toContain("Permission denied");
  });

  test("chmod of a file not owned: refused", () => {
    const out = same(`echo a > f; chmod 644 f; chown ${OTHER}:${OTHER} f`, `chmod 777 f; chmod u+s f; ${STAT("f")}`);
    expect(out).toContain("Operation not permitted");
    expect(out).toContain(`f 644 ${OTHER} ${OTHER}`);
  });

  test("chown: only root gives a file away; the owner may pick only one of its own groups", () => {
    const setup = `echo a > mine; chown ${NOBODY}:${NOBODY} mine; echo b > theirs; chown ${OTHER}:${OTHER} theirs`;
    const script = `chown 0 mine; chown ${OTHER} mine; chgrp 0 mine; chgrp ${GROUP} mine; chown ${NOBODY} theirs; chgrp ${NOBODY} theirs; ${STAT("mine theirs")}`;
    const outsider = same(setup, script);
    expect(outsider).toContain("Operation not permitted");
    expect(outsider).toContain(`mine 644 ${NOBODY} ${NOBODY}`);
    const member = same(setup, script, [GROUP]);
    expect(member).toContain(`mine 644 ${NOBODY} ${GROUP}`);
  });

  test("times: explicit only by the owner; 'now' also by a writer; neither by others", () => {
    const out = same(
      `echo a > ro; echo b > rw; chmod 666 rw; echo c > mine; chown ${NOBODY} mine; touch -d @1000000000 ro rw mine`,
      `touch -d @1200000000 ro rw mine; touch ro; touch rw; stat -c '%n %Y' ro mine; [ "$(stat -c %Y rw)" -gt 1200000000 ] && echo rw-touched`,
    );
    expect(out).toContain("Operation not permitted");
    expect(out).toContain("Permission denied");
    expect(out).toContain("ro 1000000000");
    expect(out).toContain("mine 1200000000");
    expect(out).toContain("rw-touched");
  });

  test("write, append and truncate by a non-owner clear setuid and setgid", () => {
    const out = same(
      `for f in w a t o; do echo data > $f; chmod 6777 $f; done; chown ${NOBODY} o`,
      `echo x > w; echo x >> a; truncate -s 1 t; echo x >> o; ${STAT("w a t o")}`,
    );
    expect(out).toContain("w 777 0 0");
  });

  test("chown clears setuid and setgid (also by root)", () => {
    const out = differential(`echo a > f; chmod 6755 f; echo b > g; chmod 6755 g; chown ${NOBODY} g; echo c > d; chmod 2755 d`, (dir) =>
      asRoot(dir, `chown ${OTHER} f; ${STAT("f")}`) + asNobody(dir, `chgrp ${GROUP} g; ${STAT("g")}`, [GROUP]));
    expect(out.mount).toBe(out.native);
    expect(out.mount).toContain(`f 755 ${OTHER} 0`);
    expect(out.mount).toContain(`g 755 ${NOBODY} ${GROUP}`);
  });

  test("chmod g+s by the owner who is not in the file's group drops setgid", () => {
    const setup = `echo a > f; chown ${NOBODY}:${GROUP} f; mkdir d; chown ${NOBODY}:${GROUP} d`;
    const script = `chmod 2755 f d; ${STAT("f d")}`;
    const outsider = same(setup, script);
    expect(outsider).toContain(`f 755 ${NOBODY} ${GROUP}`);
    const member = same(setup, script, [GROUP]);
    expect(member).toContain(`f 2755 ${NOBODY} ${GROUP}`);
  });

  test("sticky directory: only the owner of the entry or of the directory removes or renames it", () => {
    const out = same(
      `mkdir s; chmod 1777 s; echo a > s/theirs; chown ${OTHER} s/theirs; echo b > s/mine; chown ${NOBODY} s/mine; mkdir s/tdir; chown ${OTHER} s/tdir`,
      `rm -f s/theirs; mv s/theirs s/x; rmdir s/tdir; mv s/mine s/renamed; rm s/renamed; echo c > s/new; mv s/new s/theirs; ls s; ${STAT("s s/theirs")}`,
    );
    expect(out).toContain("Operation not permitted");
    expect(out).not.toContain("renamed");
  });

  test("a setgid directory gives new entries its group, and subdirectories its setgid bit", () => {
    const setup = `mkdir g; chown 0:${GROUP} g; chmod 2777 g`;
    const script = `umask 022; echo a > g/f; mkdir g/sub; perl -MFcntl -e 'sysopen(F, "g/x", O_CREAT|O_WRONLY, 02775) or die "$!"'; ln -s f g/l; ${STAT("g/f g/sub g/x")}; stat -c '%n %g' g/l`;
    const outsider = same(setup, script);
    expect(outsider).toContain(`g/f 644 ${NOBODY} ${GROUP}`);
    expect(outsider).toContain(`g/sub 2755 ${NOBODY} ${GROUP}`);
    expect(outsider).toContain(`g/x 755 ${NOBODY} ${GROUP}`);
    const member = same(setup, script, [GROUP]);
    expect(member).toContain(`g/x 2755 ${NOBODY} ${GROUP}`);
  });

  test("supplementary groups count for directory and file access", () => {
    const setup = `mkdir g; chown 0:${GROUP} g; chmod 770 g; echo a > g/f; chown 0:${GROUP} g/f; chmod 660 g/f`;
    const script = `echo x >> g/f; cat g/f; touch g/new; mkdir g/sub; mv g/new g/renamed; rm g/renamed; ls g; ${STAT("g/f")}`;
    const outsider = same(setup, script);
    expect(outsider).toContain("Permission denied");
    const member = same(setup, script, [GROUP]);
    expect(member).toContain("a\nx\nf\nsub\n");
  });

  test("moving a directory to another parent needs write permission on it; hard links to others' files are protected", () => {
    const out = same(
      `mkdir a b; chmod 777 a b; mkdir a/d; echo r > rootfile; echo m > a/mine; chown ${NOBODY} a/mine`,
      `mv a/d b/d; mv a/d a/e; ln rootfile a/l; ln a/mine b/l; ls a b; ${STAT("a/e b/l")}`,
    );
    expect(out).toContain("Permission denied");
    expect(out).toContain("Operation not permitted");
  });

  test("xattrs: user.* needs write permission", () => {
    const out = same(
      `echo a > ro; echo b > rw; chmod 666 rw`,
      `setfattr -n user.k -v v ro; setfattr -n user.k -v v rw; getfattr --only-values -n user.k rw; echo; setfattr -x user.k rw; setfattr -x user.k ro`,
    );
    expect(out).toContain("Permission denied");
  });

  test("the setuid escalation: a copied binary cannot become root's, nor run as root", () => {
    const out = same(`chown ${NOBODY} .`, `cp /usr/bin/id m && chown 0:0 m; chmod 4755 m; ${STAT("m")}; ./m -u; /usr/sbin/setcap cap_setuid+ep m; /usr/sbin/getcap m`);
    expect(out).toContain("Operation not permitted");
    expect(out).toContain(`m 4755 ${NOBODY} ${NOBODY}`);
    // `id -u` of the copy: the caller's own uid.
    expect(out).toMatch(new RegExp(`^m 4755 ${NOBODY} ${NOBODY} \\d+\\n${NOBODY}\\n`));
    expect(out).toEndWith("exit 0");
  });

  test("a path of 6,000 bytes below the root works", () => {
    const seg = "d".repeat(200);
    const out = same(
      `chown ${NOBODY} .`,
      `i=0; while [ $i -lt 30 ]; do mkdir ${seg} && cd ${seg} || exit 1; i=$((i+1)); done
       echo deep > f; cat f; mv f g; ln g h; ln -s g s; chmod 600 g; setfattr -n user.k -v v g; getfattr --only-values -n user.k h; echo
       ls; stat -c '%a %h %s' g; pwd | sed "s|^$D||" | wc -c; rm g h s; cd "$D"; rm -r ${seg} && echo removed`,
    );
    expect(out).toContain("deep\nv\ng\nh\ns\n600 2 5\n");
    expect(Number(out.split("\n")[6])).toBeGreaterThanOrEqual(6000);
    expect(out).toContain("removed\nexit 0");
  });
});

describe("ctime moves on every metadata change", () => {
  test("chmod, chown, link, rename, truncate, xattr, utimens and write", () => {
    // Each step waits a little so the kernel's coarse clock has moved on between changes.
    const step = (what: string, cmd: string) => `a=$(stat -c %z f); sleep 0.05; ${cmd}; b=$(stat -c %z f); [ "$a" != "$b" ] && echo "${what} moves ctime" || echo "${what} keeps ctime"`;
    const script = [
      step("chmod", "chmod 600 f"),
      step("chown", `chown ${NOBODY} f`),
      step("link", "ln f f2"),
      step("unlink", "rm f2"),
      step("rename", "mv f f3; mv f3 f"),
      step("truncate", "truncate -s 1 f"),
      step("setxattr", "setfattr -n user.k -v v f"),
      step("removexattr", "setfattr -x user.k f"),
      step("utimens", "touch -d @1000000000 f"),
      step("write", "echo more >> f"),
    ].join("\n");
    const out = differential(`echo a > f`, (dir) => asRoot(dir, script));
    expect(out.mount).toBe(out.native);
    expect(out.mount).not.toContain("keeps");
  });

  test("a directory's ctime and mtime move when entries are added, removed or renamed in it", () => {
    const step = (what: string, cmd: string) =>
      `a=$(stat -c '%z %y' d); sleep 0.05; ${cmd}; b=$(stat -c '%z %y' d); [ "$a" != "$b" ] && echo "${what} moves d" || echo "${what} keeps d"`;
    const script = [step("create", "touch d/f"), step("mkdir", "mkdir d/s"), step("rename", "mv d/f d/g"), step("unlink", "rm d/g"), step("rmdir", "rmdir d/s")].join("\n");
    const out = differential(`mkdir d`, (dir) => asRoot(dir, script));
    expect(out.mount).toBe(out.native);
    expect(out.mount).not.toContain("keeps");
  });

  test("changing a file of the lower layer (a copy-up) moves its ctime", () => {
    const out = asRoot(mnt, `a=$(stat -c %z README.md); sleep 0.05; chmod 600 README.md; b=$(stat -c %z README.md); [ "$a" != "$b" ] && echo moved; chmod 644 README.md`);
    expect(out).toBe("moved\nexit 0");
  });
});

describe("what has no native counterpart", () => {
  test("the mount is nosuid and nodev, with default_permissions", () => {
    const line = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").find((l) => l.split(" ")[4] === mnt);
    expect(line).toBeDefined();
    const [opts, superOpts] = [line!.split(" ")[5]!, line!.split(" - ")[1]!];
    expect(opts.split(",")).toEqual(expect.arrayContaining(["nosuid", "nodev"]));
    expect(superOpts).toContain("default_permissions");
    expect(superOpts).toContain("allow_other");
  });

  test("a setuid-root file root made in the mount does not run as root for others", () => {
    const dir = join(mnt, `t${++n}`);
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o755);
    expect(asRoot(dir, `cp /usr/bin/id rootid; chmod 4755 rootid; ${STAT("rootid")}`)).toContain("rootid 4755 0 0");
    expect(asNobody(dir, `./rootid -u`)).toBe(`${NOBODY}\nexit 0`);
  });

  test("the read-only view refuses writes with EROFS and honours mode bits for other users", () => {
    const out = asNobody(viewMnt, `cat README.md >/dev/null && echo readable; echo x >> README.md; touch new; ${STAT("README.md")}`);
    expect(out).toContain("readable");
    expect(out).toContain("Read-only file system");
    // The kernel checks every caller against the view's modes.
    const line = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").find((l) => l.split(" ")[4] === viewMnt);
    expect(line?.split(" - ")[1]).toContain("default_permissions");
  });
});
