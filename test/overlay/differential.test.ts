/**
 * Differential test: one seeded sequence of file operations applied to an overlay mount (whose
 * lower layer is the sample git repo served by the dev server) and to a plain local copy of the
 * same tree. Each operation must succeed or fail the same way on both, and the trees must end up
 * identical (content, modes, link targets, link counts). Set OVERLAY_SEED to replay a failure;
 * OVERLAY_OPS to change the count.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { serveOverlays, startEnv, type OverlayEnv, type ServedOverlays } from "./helpers.ts";

const SEED = Number(process.env.OVERLAY_SEED ?? Math.floor(Math.random() * 2 ** 31));
const OPS = Number(process.env.OVERLAY_OPS ?? 10_000);

let env: OverlayEnv;
let ov: ServedOverlays;
let aufs: ServedOverlays;
let ref: string;
let repoStatus: string;
const gitStatus = () => Bun.spawnSync(["git", "-C", env.repo.path, "status", "--porcelain"]).stdout.toString();

beforeAll(async () => {
  env = await startEnv("ovdiff");
  ov = await serveOverlays(env, "diff", [{ name: "m" }]);
  aufs = await serveOverlays(env, "diff-aufs", [{ name: "m" }], { whiteoutFormat: "aufs" });
  repoStatus = gitStatus();
}, 120_000);

/** A plain local copy of the repo's tree, as git checks it out. */
function freshReference(name: string): string {
  const ref = join(env.dir, name);
  fs.mkdirSync(ref);
  const archive = Bun.spawnSync(["sh", "-c", `git -C '${env.repo.path}' -c tar.umask=0022 archive HEAD | tar -x -C '${ref}'`]);
  if (archive.exitCode !== 0) throw new Error(archive.stderr.toString());
  return ref;
}

afterAll(async () => {
  await ov?.stop();
  await aufs?.stop();
  await env?.close();
}, 60_000);

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ["a", "b", "c", "d", "e.txt", "f.sh", "g"];

interface Snapshot {
  [path: string]: string;
}

/** Type, permission bits, content or target, and link count (non-directories) of every entry. */
function snapshot(root: string): Snapshot {
  const out: Snapshot = {};
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(join(root, p));
      const perm = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out[p] = `dir ${perm}`;
        walk(p);
      } else if (st.isSymbolicLink()) out[p] = `link -> ${fs.readlinkSync(join(root, p))}`;
      else out[p] = `file ${perm} n${st.nlink} ${Bun.hash(fs.readFileSync(join(root, p))).toString(16)} ${st.size}`;
    }
  };
  walk("");
  return out;
}

test(`${OPS} random operations leave the overlay equal to a local copy (seed ${SEED})`, () => {
  runDifferential(ov.mounts[0]!.mountpoint, freshReference("ref"), SEED, OPS);
}, 180_000);

test(`with aufs-style whiteouts too (${Math.ceil(OPS / 4)} operations, seed ${SEED + 1})`, () => {
  runDifferential(aufs.mounts[0]!.mountpoint, freshReference("ref-aufs"), SEED + 1, Math.ceil(OPS / 4));
  // The markers are plain files in the upper directory.
  const upper = aufs.mounts[0]!.upperDir;
  const markers = Bun.spawnSync(["find", upper, "-name", ".wh.*"]).stdout.toString();
  const devices = Bun.spawnSync(["find", upper, "-type", "c"]).stdout.toString();
  expect(devices).toBe("");
  expect(markers.length).toBeGreaterThan(0);
}, 180_000);

function runDifferential(mnt: string, ref: string, seed: number, ops: number): void {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  /** A random path: an existing entry (walking down from the root) or a new name in some directory. */
  const randomPath = (existing: boolean): string => {
    let rel = "";
    for (let depth = 0; depth < 5; depth++) {
      let kids: fs.Dirent[] = [];
      try {
        kids = fs.readdirSync(join(ref, rel), { withFileTypes: true });
      } catch {
        break;
      }
      const dirs = kids.filter((k) => k.isDirectory());
      if (dirs.length > 0 && rand() < 0.55) {
        rel = rel ? `${rel}/${pick(dirs).name}` : pick(dirs).name;
        continue;
      }
      if (existing && kids.length > 0 && rand() < 0.85) return rel ? `${rel}/${pick(kids).name}` : pick(kids).name;
      break;
    }
    const name = pick(NAMES);
    return rel ? `${rel}/${name}` : name;
  };
  const bytes = (n: number) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = 32 + Math.floor(rand() * 90);
    return b;
  };

  type Op = { desc: string; run: (root: string) => unknown };
  const makeOp = (): Op => {
    const r = rand();
    const p = randomPath(r > 0.3);
    if (r < 0.15) {
      const data = bytes(Math.floor(rand() * 3000));
      return { desc: `write ${p} (${data.length})`, run: (root) => fs.writeFileSync(join(root, p), data) };
    }
    if (r < 0.25) {
      const data = bytes(1 + Math.floor(rand() * 200));
      const off = Math.floor(rand() * 4000);
      return {
        desc: `pwrite ${p} @${off} (${data.length})`,
        run: (root) => {
          const fd = fs.openSync(join(root, p), "r+");
          try {
            fs.writeSync(fd, data, 0, data.length, off);
          } finally {
            fs.closeSync(fd);
          }
        },
      };
    }
    if (r < 0.35) {
      const data = bytes(1 + Math.floor(rand() * 300));
      return { desc: `append ${p}`, run: (root) => fs.appendFileSync(join(root, p), data) };
    }
    if (r < 0.42) {
      const len = Math.floor(rand() * 3000);
      return { desc: `truncate ${p} ${len}`, run: (root) => fs.truncateSync(join(root, p), len) };
    }
    if (r < 0.52) return { desc: `mkdir ${p}`, run: (root) => fs.mkdirSync(join(root, p)) };
    if (r < 0.58) return { desc: `rmdir ${p}`, run: (root) => fs.rmdirSync(join(root, p)) };
    if (r < 0.66) return { desc: `unlink ${p}`, run: (root) => fs.unlinkSync(join(root, p)) };
    if (r < 0.78) {
      const to = randomPath(rand() < 0.3);
      return { desc: `rename ${p} ${to}`, run: (root) => fs.renameSync(join(root, p), join(root, to)) };
    }
    if (r < 0.83) {
      const to = randomPath(false);
      return { desc: `link ${p} ${to}`, run: (root) => fs.linkSync(join(root, p), join(root, to)) };
    }
    if (r < 0.88) {
      // Targets never contain "..": a link must not lead out of the tree under test.
      const target = rand() < 0.5 ? pick(NAMES) : `${pick(NAMES)}/${pick(NAMES)}`;
      return { desc: `symlink ${target} ${p}`, run: (root) => fs.symlinkSync(target, join(root, p)) };
    }
    if (r < 0.94) {
      const mode = pick([0o644, 0o755, 0o600, 0o700, 0o640]);
      return { desc: `chmod ${p} ${mode.toString(8)}`, run: (root) => fs.chmodSync(join(root, p), mode) };
    }
    return { desc: `read ${p}`, run: (root) => Bun.hash(fs.readFileSync(join(root, p))).toString(16) };
  };

  const log: string[] = [];
  const outcome = (op: Op, root: string): string => {
    try {
      const v = op.run(root);
      return `ok ${v ?? ""}`;
    } catch (err) {
      return `error ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
  };
  try {
    for (let i = 0; i < ops; i++) {
      const op = makeOp();
      const want = outcome(op, ref);
      const got = outcome(op, mnt);
      log.push(`#${i} ${op.desc}: ${want}`);
      if (got !== want && process.env.OVERLAY_DEBUG) {
        Bun.sleepSync(1500);
        console.error("after 1.5 s:", outcome(op, mnt), Bun.spawnSync(["ls", "-la", join(mnt, "..", "..", "upper", "m")]).stdout.toString());
      }
      if (got !== want) throw new Error(`op #${i} ${op.desc}: local ${want}, overlay ${got}`);
      if (i % 2500 === 2499) expect(snapshot(mnt)).toEqual(snapshot(ref));
    }
    expect(snapshot(mnt)).toEqual(snapshot(ref));
  } catch (err) {
    console.error(`differential test failed with OVERLAY_SEED=${seed}; last operations:\n${log.slice(-15).join("\n")}`);
    throw err;
  }
  // The lower layer never changes: the dev server's repo is untouched.
  expect(gitStatus()).toBe(repoStatus);
}
