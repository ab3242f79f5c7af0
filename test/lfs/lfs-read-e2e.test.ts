/**
 * LFS on the read path, end to end through the compiled binary: the dev server runs in this process
 * (its request counters and LFS store are the proof) over a real git repository whose attribute files
 * make `*.pak` (root `.gitattributes`) and `media/*.psd` (Mega's `.libra_attributes`) LFS paths;
 * `scorpio serve` mounts it in a child. This process touches the mounts only with async fs calls.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fsp from "node:fs/promises";
import { join } from "node:path";
import { startDevServer, type DevServer } from "../../src/devserver/index.ts";
import { formatLfsPointer, lfsOidOf } from "../../src/lfs/index.ts";
import { makeTempDir } from "../support/mount-fixture.ts";
import { makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { tearDown, ensureBuilt, startServe, writeServeConfig, type ServeProc, type ServeSandbox } from "../support/scorpio.ts";

const enc = new TextEncoder();
let dir: string;
let repo: SampleRepo;
let dev: DevServer;
let sb: ServeSandbox;
let serve: ServeProc;

const objA = crypto.getRandomValues(new Uint8Array(400_000));
const objB = crypto.getRandomValues(new Uint8Array(30_000));
const objPsd = crypto.getRandomValues(new Uint8Array(50_000));
const objBad = crypto.getRandomValues(new Uint8Array(20_000));
const objMissing = crypto.getRandomValues(new Uint8Array(1_000));
const objCl = crypto.getRandomValues(new Uint8Array(60_000));
const objClNew = crypto.getRandomValues(new Uint8Array(7_000));
const bulk = [1, 2, 3].map((i) => crypto.getRandomValues(new Uint8Array(10_000 * i)));
const pointerText = (bytes: Uint8Array) => formatLfsPointer({ oid: lfsOidOf(bytes), size: bytes.byteLength });
const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
const objectPath = (bytes: Uint8Array) => `/info/lfs/objects/${lfsOidOf(bytes)}`;

beforeAll(async () => {
  ensureBuilt();
  dir = makeTempDir("lfs-read");
  repo = makeSampleRepo(join(dir, "repo"));
  repo.commitFile(".gitattributes", "*.pak filter=lfs diff=lfs merge=lfs -text\n");
  repo.commitFile("media/.libra_attributes", "*.psd filter=lfs -text\n");
  repo.commitFile("assets/a.pak", pointerText(objA));
  repo.commitFile("assets/b.pak", pointerText(objB));
  repo.commitFile("assets/bad.pak", pointerText(objBad));
  repo.commitFile("assets/missing.pak", pointerText(objMissing));
  repo.commitFile("media/pic.psd", pointerText(objPsd));
  // A pointer at a path without filter=lfs is shown as it is.
  repo.commitFile("docs/pointer.txt", pointerText(objA));
  bulk.forEach((o, i) => repo.commitFile(`bulk/f${i}.pak`, pointerText(o)));
  repo.makeCl("CLLFS001", { "assets/cl.pak": pointerText(objCl), "newdir/.gitattributes": "*.dat filter=lfs -text\n", "newdir/x.dat": pointerText(objClNew), "newdir/plain.dat.txt": pointerText(objClNew) });
  dev = await startDevServer({ repo: repo.path });
  for (const o of [objA, objB, objPsd, objCl, objClNew, ...bulk]) await dev.lfs.objects.putBytes(o);
  await dev.lfs.objects.putUnchecked(lfsOidOf(objBad), enc.encode("these are not the bytes the pointer names\n"));
  sb = writeServeConfig(join(dir, "sb"), dev.url, { dicfuse_dir_readahead: 0 });
  serve = await startServe(sb);
}, 120_000);

afterAll(() => tearDown({ daemon: serve, dev, sb, dir }), 120_000);

async function readError(path: string): Promise<string> {
  try {
    await fsp.readFile(path);
    return "no error";
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  }
}

describe("LFS files in the workspace", () => {
  test("stat shows the pointer's size before any download; a read returns the object, verified", async () => {
    const ws = sb.workspace;
    const st = await fsp.stat(join(ws, "assets/a.pak"));
    expect(st.size).toBe(objA.byteLength);
    expect((await fsp.stat(join(ws, "media/pic.psd"))).size).toBe(objPsd.byteLength);
    expect(dev.stats.get("GET", objectPath(objA))).toBe(0);
    expect(dev.stats.get("GET", objectPath(objPsd))).toBe(0);
    const a = new Uint8Array(await fsp.readFile(join(ws, "assets/a.pak")));
    expect(a.byteLength).toBe(objA.byteLength);
    expect(sha256(a)).toBe(lfsOidOf(objA));
    expect(new Uint8Array(await fsp.readFile(join(ws, "media/pic.psd")))).toEqual(objPsd);
    expect(dev.stats.get("GET", objectPath(objA))).toBe(1);
    // Cached: read again (another process's open), no second download.
    const again = Bun.spawn(["cat", join(ws, "assets/a.pak")], { stdout: "pipe" });
    expect(sha256(new Uint8Array(await new Response(again.stdout).arrayBuffer()))).toBe(lfsOidOf(objA));
    expect(dev.stats.get("GET", objectPath(objA))).toBe(1);
    // Not an LFS path: the pointer text itself.
    expect(await fsp.readFile(join(ws, "docs/pointer.txt"), "utf8")).toBe(pointerText(objA));
  }, 120_000);

  test("an object with the wrong bytes is EIO and nothing is cached; a missing one is ENOENT", async () => {
    const ws = sb.workspace;
    expect((await fsp.stat(join(ws, "assets/bad.pak"))).size).toBe(objBad.byteLength);
    expect(await readError(join(ws, "assets/bad.pak"))).toBe("EIO");
    const first = dev.stats.get("GET", objectPath(objBad));
    expect(first).toBeGreaterThanOrEqual(1);
    // Nothing was kept: the next read downloads (and refuses) it again.
    expect(await readError(join(ws, "assets/bad.pak"))).toBe("EIO");
    expect(dev.stats.get("GET", objectPath(objBad))).toBeGreaterThan(first);
    expect(await readError(join(ws, "assets/missing.pak"))).toBe("ENOENT");
    const log = serve.output();
    expect(log).toContain(lfsOidOf(objBad));
    expect(log).toContain("assets/missing.pak");
  }, 120_000);
});

describe("prefetch and job mounts", () => {
  test("prefetch downloads the LFS objects of the matched files with one batch call", async () => {
    const batches = dev.stats.get("POST", "/info/lfs/objects/batch");
    const res = await fetch(`${serve.httpUrl()}/api/v1/prefetch`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ globs: ["bulk/**"] }) });
    expect(res.status).toBe(200);
    const last = JSON.parse((await res.text()).trim().split("\n").at(-1)!);
    expect(last).toMatchObject({ finished: true, total: 3, failed: 0 });
    expect(dev.stats.get("POST", "/info/lfs/objects/batch")).toBe(batches + 1);
    for (const o of bulk) expect(dev.stats.get("GET", objectPath(o))).toBe(1);
    // Reads are served from the cache.
    for (const [i, o] of bulk.entries()) expect(sha256(new Uint8Array(await fsp.readFile(join(sb.workspace, `bulk/f${i}.pak`))))).toBe(lfsOidOf(o));
    for (const o of bulk) expect(dev.stats.get("GET", objectPath(o))).toBe(1);
    const cache = (await (await fetch(`${serve.httpUrl()}/api/v1/cache`)).json()) as { lfs: { downloads: number; batches: number; failures: number } };
    expect(cache.lfs.downloads).toBeGreaterThanOrEqual(bulk.length + 2);
    expect(cache.lfs.failures).toBeGreaterThanOrEqual(2);
  }, 120_000);

  test("a job mount shows the object; copy-up copies the real content into the upper layer", async () => {
    const r = await fetch(`${serve.httpUrl()}/antares/mounts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ job_id: "lfs-job", path: "/" }) });
    expect(r.status).toBe(200);
    const m = (await r.json()) as { mountpoint: string };
    const p = join(m.mountpoint, "assets/b.pak");
    expect((await fsp.stat(p)).size).toBe(objB.byteLength);
    expect(new Uint8Array(await fsp.readFile(p))).toEqual(objB);
    await fsp.appendFile(p, "tail\n");
    const after = new Uint8Array(await fsp.readFile(p));
    expect(after.byteLength).toBe(objB.byteLength + 5);
    expect(after.subarray(0, objB.byteLength)).toEqual(objB);
    expect(new TextDecoder().decode(after.subarray(objB.byteLength))).toBe("tail\n");
  }, 120_000);

  test("a CL layer holds LFS objects, with attribute files from the CL itself", async () => {
    const r = await fetch(`${serve.httpUrl()}/antares/mounts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ job_id: "lfs-cl", path: "/", cl: "CLLFS001" }) });
    expect(r.status).toBe(200);
    const m = (await r.json()) as { mountpoint: string };
    expect(new Uint8Array(await fsp.readFile(join(m.mountpoint, "assets/cl.pak")))).toEqual(objCl);
    expect((await fsp.stat(join(m.mountpoint, "newdir/x.dat"))).size).toBe(objClNew.byteLength);
    expect(new Uint8Array(await fsp.readFile(join(m.mountpoint, "newdir/x.dat")))).toEqual(objClNew);
    expect(await fsp.readFile(join(m.mountpoint, "newdir/plain.dat.txt"), "utf8")).toBe(pointerText(objClNew));
    // Files of the base are still resolved below the CL layer.
    expect(sha256(new Uint8Array(await fsp.readFile(join(m.mountpoint, "assets/a.pak"))))).toBe(lfsOidOf(objA));
  }, 120_000);

  test("a sub-path job mount applies the attribute files above its path", async () => {
    const r = await fetch(`${serve.httpUrl()}/antares/mounts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ job_id: "lfs-sub", path: "/media" }) });
    expect(r.status).toBe(200);
    const m = (await r.json()) as { mountpoint: string };
    expect((await fsp.stat(join(m.mountpoint, "pic.psd"))).size).toBe(objPsd.byteLength);
    const sub = await (await fetch(`${serve.httpUrl()}/antares/mounts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ job_id: "lfs-sub2", path: "/assets" }) })).json() as { mountpoint: string };
    expect(sha256(new Uint8Array(await fsp.readFile(join(sub.mountpoint, "a.pak"))))).toBe(lfsOidOf(objA));
  }, 120_000);
});
