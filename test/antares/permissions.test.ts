/**
 * The setuid escalation of a shared job mount, end to end: `scorpio serve` with
 * `mount_allow_other = true`, a job mount made over HTTP, and an unprivileged user
 * (`setpriv --reuid 65534`) inside it. The user cannot give a binary to root, a setuid-root file
 * that root made in the mount does not run as root for the user, and neither file can be run by its
 * host path in the upper directory, whose root is private to the daemon. The rule-by-rule
 * comparison with a native directory is test/overlay/permissions.test.ts.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "../support/mount-fixture.ts";
import { makeSampleRepo } from "../support/sample-repo.ts";
import { tearDown, ensureBuilt, startDevServerProcess, startServe, writeServeConfig, type DevServerProc, type ServeProc, type ServeSandbox } from "../support/scorpio.ts";
import { apiClient, type Api } from "./helpers.ts";

const NOBODY = 65534;
let dir: string;
let dev: DevServerProc;
let sb: ServeSandbox;
let serve: ServeProc;
let api: Api;

beforeAll(async () => {
  ensureBuilt();
  dir = makeTempDir("antares-perm");
  const repo = makeSampleRepo(join(dir, "repo"));
  dev = await startDevServerProcess(repo.path);
  sb = writeServeConfig(join(dir, "sb"), dev.url, { mount_allow_other: true });
  // The build user must reach the mount root; the daemon alone protects the layer roots.
  for (const d of [dir, sb.dir]) fs.chmodSync(d, 0o755);
  serve = await startServe(sb);
  api = apiClient(serve.httpUrl());
}, 120_000);

afterAll(() => tearDown({ daemon: serve, dev, sb, dir }), 120_000);

function sh(cwd: string, script: string, asNobody: boolean): string {
  const priv = asNobody ? ["setpriv", "--reuid", String(NOBODY), "--regid", String(NOBODY), "--clear-groups"] : [];
  const r = Bun.spawnSync([...priv, "sh", "-c", `cd "$0" || exit 99\n${script}`, cwd], { env: { PATH: "/usr/bin:/bin", LC_ALL: "C" }, cwd: "/" });
  return `${r.stdout.toString()}${r.stderr.toString()}exit ${r.exitCode}`;
}

test("a build user in a shared job mount cannot become root", async () => {
  const r = await api("POST", "/antares/mounts", { job_id: "perm", path: "/" });
  expect(r.status).toBe(200);
  const { mount_id, mountpoint } = r.json as { mount_id: string; mountpoint: string };
  const upper = join(sb.dir, "antares/upper", mount_id);
  for (const root of ["antares/upper", "antares/cl"]) expect(fs.statSync(join(sb.dir, root)).mode & 0o7777).toBe(0o700);

  // Root gives the build user a directory, and makes a setuid-root copy of `id` next to it.
  expect(sh(mountpoint, `mkdir work && chown ${NOBODY} work && cp /usr/bin/id rootid && chmod 4755 rootid && stat -c '%a %u' rootid`, false)).toBe("4755 0\nexit 0");

  // The escalation of the report: refused at chown; the setuid bit the owner may set is its own.
  const out = sh(join(mountpoint, "work"), `cp /usr/bin/id m; chown 0:0 m; chmod 4755 m; stat -c '%a %u %g' m; ./m -u`, true);
  // (stdout first: the mode, owner and group, then `id -u`; then stderr.)
  expect(out).toBe(`4755 ${NOBODY} ${NOBODY}\n${NOBODY}\nchown: changing ownership of 'm': Operation not permitted\nexit 0`);
  // Root's setuid file runs with the caller's rights: the mount is nosuid.
  expect(sh(mountpoint, `./rootid -u`, true)).toBe(`${NOBODY}\nexit 0`);
  // The host copies cannot be reached through the upper directory.
  for (const f of ["work/m", "rootid"]) {
    const host = sh("/", `'${join(upper, f)}' -u`, true);
    expect(host).toContain("Permission denied");
    expect(host).not.toMatch(/^0$/m);
  }
  expect((await api("DELETE", `/antares/mounts/${mount_id}?purge=true`)).status).toBe(200);
}, 60_000);
