/**
 * install.sh against a real release served over HTTP from 127.0.0.1: install, reinstall, uninstall, dry run,
 * refusal of tampered or unlisted archives, network failures, fuse.conf editing, privilege and arch checks.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync, closeSync, symlinkSync, statSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { REPO, TARBALL, TempDirs, VERSION, buildRelease, run, serveDirs, sha256File, snapshot, type Release } from "./helpers.ts";

const INSTALL = join(REPO, "install.sh");
const temps = new TempDirs();
let rel: Release;
let server: ReturnType<typeof serveDirs>;
let base: string; // http://127.0.0.1:<port>

/** Runs install.sh with the test's base URL env cleared so only explicit flags count. */
function install(args: string[], env: Record<string, string | undefined> = {}) {
  return run(["bash", INSTALL, ...args], {
    env: { SCORPIO_RELEASE_BASE_URL: undefined, SCORPIO_FUSE_CONF: "/nonexistent/fuse.conf", ...env },
    timeoutMs: 180_000,
  });
}

/** Flags that keep every write inside dir. */
function into(dir: string): string[] {
  return ["--prefix", join(dir, "usr"), "--config-dir", join(dir, "etc"), "--systemd-dir", join(dir, "systemd")];
}

beforeAll(async () => {
  rel = await buildRelease(temps);
  // A copy of the release whose tarball was changed after SHA256SUMS was written, and one whose SHA256SUMS
  // lacks the tarball's line.
  const tampered = temps.make("scorpio-tampered-");
  for (const f of readdirSync(rel.out)) copyFileSync(join(rel.out, f), join(tampered, f));
  const fd = openSync(join(tampered, TARBALL), "r+");
  writeSync(fd, Buffer.from("tampered!"), 0, 9, 4096);
  closeSync(fd);
  const nosum = temps.make("scorpio-nosum-");
  for (const f of readdirSync(rel.out)) copyFileSync(join(rel.out, f), join(nosum, f));
  const sums = readFileSync(join(nosum, "SHA256SUMS"), "utf8").split("\n").filter((l) => !l.includes(TARBALL));
  writeFileSync(join(nosum, "SHA256SUMS"), sums.join("\n"));
  server = serveDirs({ good: rel.out, tampered, nosum });
  base = `http://127.0.0.1:${server.port}`;
}, 600_000);

afterAll(() => {
  server?.stop(true);
  temps.cleanup();
});

describe("install.sh", () => {
  test("is valid bash and has help", async () => {
    expect((await run(["bash", "-n", INSTALL])).code).toBe(0);
    const h = await install(["--help"]);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain("--uninstall");
    const bad = await install(["--frobnicate"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("unknown option: --frobnicate");
    const rel = await install(["--prefix", "relative/path"]);
    expect(rel.code).not.toBe(0);
    expect(rel.stderr).toContain("--prefix must be an absolute path");
  });

  test("installs, reinstalls, edits fuse.conf idempotently and uninstalls exactly what it installed", async () => {
    const d = temps.make();
    const prefix = join(d, "usr");
    // Something that was there before and must survive the uninstall.
    mkdirSync(join(prefix, "bin"), { recursive: true });
    writeFileSync(join(prefix, "bin", "other-tool"), "#!/bin/sh\n", { mode: 0o755 });
    const fuseConf = join(d, "fuse.conf");
    writeFileSync(fuseConf, "# mount_max = 1000\n#user_allow_other");

    const r = await install(["--base-url", `${base}/good`, "--version", `v${VERSION}`, ...into(d)]);
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("checksum OK");

    const v = await run([join(prefix, "bin/scorpio"), "--version"]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(VERSION);
    expect(r.stdout).toContain(`installed: ${v.stdout.trim()}`);
    expect(statSync(join(prefix, "bin/antares")).mode & 0o777).toBe(0o755);
    expect(readlinkSync(join(prefix, "bin/antares"))).toBe("scorpio");

    const installed = [
      "usr/bin/scorpio",
      "usr/bin/antares",
      "usr/share/bash-completion/completions/scorpio",
      "usr/share/zsh/site-functions/_scorpio",
      "usr/share/fish/vendor_completions.d/scorpio.fish",
      "usr/share/scorpiofs/scorpio.toml.example",
      "usr/share/scorpiofs/sysusers.d/scorpiofs.conf",
      "usr/share/doc/scorpiofs/LICENSE",
      "usr/share/doc/scorpiofs/README.md",
      "etc/scorpio.toml",
      "systemd/scorpiofs.service",
      "systemd/scorpiofs-antares.service",
    ];
    for (const f of installed) expect(existsSync(join(d, f))).toBe(true);
    expect(readFileSync(join(d, "usr/share/zsh/site-functions/_scorpio"), "utf8")).toStartWith("#compdef scorpio");

    // The manifest lists every installed file with its hash, and the directories the installer created.
    const manifest = readFileSync(join(prefix, "share/scorpiofs/install-manifest"), "utf8").trim().split("\n").slice(1);
    const files = manifest.filter((l) => l.startsWith("f\t")).map((l) => l.split("\t"));
    expect(files.map((f) => f[2]).sort()).toEqual(installed.map((f) => join(d, f)).sort());
    for (const [, hash, path] of files) expect(sha256File(path!)).toBe(hash!);
    const dirs = manifest.filter((l) => l.startsWith("d\t")).map((l) => l.split("\t")[2]);
    expect(dirs).toContain(join(d, "etc"));
    expect(dirs).not.toContain(join(prefix, "bin")); // existed before

    // The units point at this prefix and config dir.
    const unit = readFileSync(join(d, "systemd/scorpiofs.service"), "utf8");
    expect(unit).toContain(`ExecStart=${prefix}/bin/scorpio --config-path ${d}/etc/scorpio.toml serve --http-addr 127.0.0.1:2725`);
    expect(unit).not.toContain("/usr/local/bin/");
    expect(readFileSync(join(d, "etc/scorpio.toml"), "utf8")).toContain('base_url = "http://localhost:8000"');
    // The generated config is one the installed scorpio accepts.
    const valid = await run([join(prefix, "bin/scorpio"), "--config-path", join(d, "etc/scorpio.toml"), "config", "validate"]);
    expect(valid.stdout).toContain(": OK");
    expect(valid.code).toBe(0);

    // A user edit to the config; a reinstall keeps it. Twice with --enable-user-allow-other: one line.
    writeFileSync(join(d, "etc/scorpio.toml"), 'base_url = "http://mega.example:8000"\n');
    for (let i = 0; i < 2; i++) {
      const again = await install(["--base-url", `${base}/good`, "--enable-user-allow-other", ...into(d)], { SCORPIO_FUSE_CONF: fuseConf });
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(`keeping existing ${d}/etc/scorpio.toml`);
      expect(again.stdout).toContain(i === 0 ? `adding user_allow_other to ${fuseConf}` : "already has user_allow_other");
    }
    expect(readFileSync(fuseConf, "utf8")).toBe("# mount_max = 1000\n#user_allow_other\nuser_allow_other\n");
    expect(readFileSync(join(d, "etc/scorpio.toml"), "utf8")).toBe('base_url = "http://mega.example:8000"\n');

    const un = await install(["--uninstall", "--prefix", prefix]);
    expect(un.code).toBe(0);
    expect(un.stderr).toContain(`keeping ${d}/etc/scorpio.toml: it changed since it was installed`);
    for (const f of installed) expect(existsSync(join(d, f))).toBe(f === "etc/scorpio.toml");
    expect(existsSync(join(prefix, "share"))).toBe(false);
    expect(existsSync(join(d, "systemd"))).toBe(false);
    expect(existsSync(join(prefix, "bin/other-tool"))).toBe(true);
    expect(existsSync(join(d, "etc"))).toBe(true); // holds the kept config

    const twice = await install(["--uninstall", "--prefix", prefix]);
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toContain("no install manifest");
  }, 600_000);

  test("--dry-run prints every action and changes nothing", async () => {
    const d = temps.make();
    mkdirSync(join(d, "etc"));
    const fuseConf = join(d, "fuse.conf");
    writeFileSync(fuseConf, "# empty\n");
    const before = await snapshot(d);
    const r = await install(["--dry-run", "--base-url", `${base}/good`, "--enable-user-allow-other", ...into(d)], { SCORPIO_FUSE_CONF: fuseConf });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`[dry-run] install -m 0755`);
    expect(r.stdout).toContain(`${d}/usr/bin/scorpio`);
    expect(r.stdout).toContain(`${d}/systemd/scorpiofs.service`);
    expect(r.stdout).toContain(`[dry-run] echo user_allow_other >> ${fuseConf}`);
    expect(r.stdout).toContain("dry run: nothing was changed");
    expect(await snapshot(d)).toEqual(before);

    // An uninstall dry run after a real install lists removals and removes nothing.
    const real = await install(["--base-url", `${base}/good`, "--no-systemd", ...into(d)]);
    expect(real.code).toBe(0);
    const installed = await snapshot(d);
    const un = await install(["--uninstall", "--dry-run", "--prefix", join(d, "usr")]);
    expect(un.code).toBe(0);
    expect(un.stdout).toContain(`[dry-run] rm -f ${d}/usr/bin/scorpio`);
    expect(await snapshot(d)).toEqual(installed);
  }, 600_000);

  test("refuses a tarball changed after SHA256SUMS was written, and installs nothing", async () => {
    const d = temps.make();
    const r = await install(["--base-url", `${base}/tampered`, ...into(d)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`checksum mismatch for ${TARBALL}`);
    expect(r.stderr).toContain("refusing to install");
    expect(await snapshot(d)).toEqual([]);
  }, 300_000);

  test("refuses a tarball that SHA256SUMS does not list", async () => {
    const d = temps.make();
    const r = await install(["--base-url", `${base}/nosum`, ...into(d)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`SHA256SUMS has no entry for ${TARBALL}`);
    expect(await snapshot(d)).toEqual([]);
  }, 300_000);

  test("fails with a clear message when the server is unreachable or the version does not exist", async () => {
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = closed.port;
    closed.stop(true);
    const d = temps.make();
    const r = await install(["--base-url", `http://127.0.0.1:${port}/x`, "--version", VERSION, ...into(d)]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`ERROR: download failed: http://127.0.0.1:${port}/x/SHA256SUMS`);
    expect(await snapshot(d)).toEqual([]);

    const missing = await install(["--base-url", `${base}/good`, "--version", "9.9.9", ...into(d)]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("download failed");
    expect(missing.stderr).toContain("404");

    const badVersion = await install(["--base-url", `${base}/good`, "--version", "latest; rm -rf /", ...into(d)]);
    expect(badVersion.code).not.toBe(0);
    expect(badVersion.stderr).toContain("invalid version");
    expect(await snapshot(d)).toEqual([]);
  }, 120_000);

  test("works piped into bash (curl | bash -s --)", async () => {
    const help = await run(["bash", "-s", "--", "--help"], { stdinFile: INSTALL });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--enable-user-allow-other");
    const d = temps.make();
    const r = await run(["bash", "-s", "--", "--base-url", `${base}/good`, "--no-systemd", ...into(d)], {
      stdinFile: INSTALL,
      env: { SCORPIO_RELEASE_BASE_URL: undefined },
      timeoutMs: 180_000,
    });
    expect(r.code).toBe(0);
    expect(existsSync(join(d, "usr/bin/scorpio"))).toBe(true);
  }, 300_000);

  test("reads the version from LATEST and supports file:// and the environment's base URL", async () => {
    const d = temps.make();
    const r = await install(["--no-systemd", ...into(d)], { SCORPIO_RELEASE_BASE_URL: `file://${rel.out}` });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`latest version at file://${rel.out} is ${VERSION}`);
    expect(existsSync(join(d, "usr/bin/scorpio"))).toBe(true);
    expect(existsSync(join(d, "systemd"))).toBe(false);
  }, 300_000);

  test("rejects an unsupported architecture", async () => {
    const d = temps.make();
    mkdirSync(join(d, "fakebin"));
    writeFileSync(join(d, "fakebin/uname"), "#!/bin/sh\necho mips64\n", { mode: 0o755 });
    const r = await install(["--base-url", `${base}/good`, ...into(d)], { PATH: `${d}/fakebin:${process.env.PATH}` });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("unsupported architecture 'mips64'");
    expect(existsSync(join(d, "usr"))).toBe(false);
  });

  test("without root, refuses a prefix it cannot write before downloading anything", async () => {
    const hasSetpriv = (await run(["sh", "-c", "command -v setpriv"])).code === 0;
    if (process.getuid?.() !== 0 || !hasSetpriv) {
      console.log("SKIP: needs root and setpriv to run install.sh as an unprivileged user");
      return;
    }
    const d = temps.make();
    chmodSync(d, 0o755); // root-owned, not writable by nobody
    const r = await run(
      ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bash", INSTALL, "--base-url", `${base}/good`, ...into(d)],
      { env: { HOME: "/", TMPDIR: "/tmp" }, timeoutMs: 60_000 },
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("re-run with sudo");
    expect(r.stdout).not.toContain("downloading");
    expect(await snapshot(d)).toEqual([]);
  }, 120_000);

  test("falls back to wget without curl, and skips the units without systemctl", async () => {
    const hasWget = (await run(["sh", "-c", "command -v wget"])).code === 0;
    if (!hasWget) {
      console.log("SKIP: wget is not installed");
      return;
    }
    const d = temps.make();
    // A PATH holding every tool of /usr/bin, /bin, /usr/sbin and /sbin except curl and systemctl.
    const bin = join(d, "bin");
    mkdirSync(bin);
    for (const dir of ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
      if (!existsSync(dir)) continue;
      for (const name of readdirSync(dir)) {
        if (name === "curl" || name === "systemctl" || existsSync(join(bin, name))) continue;
        symlinkSync(join(dir, name), join(bin, name));
      }
    }
    const r = await install(["--base-url", `${base}/good`, ...into(d)], { PATH: bin });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("systemctl not found: skipping systemd units");
    expect(existsSync(join(d, "usr/bin/scorpio"))).toBe(true);
    expect(existsSync(join(d, "systemd"))).toBe(false);

    const down = await install(["--base-url", `${base}/nosuchdir`, "--version", VERSION, ...into(join(d, "other"))], { PATH: bin });
    expect(down.code).not.toBe(0);
    expect(down.stderr).toContain("download failed");
  }, 300_000);
});
