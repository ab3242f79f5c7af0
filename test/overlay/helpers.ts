/**
 * Shared setup for overlay tests: a sample git repository served by the compiled dev server, and
 * overlay mounts over one Dicfuse view served by a child process (test/support/overlay-main.ts).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isMounted, makeTempDir, mountChild, removeDir, type MountedChild } from "../support/mount-fixture.ts";
import { makeSampleRepo, type SampleRepo } from "../support/sample-repo.ts";
import { ensureBuilt, forceUnmount, startDevServerProcess, type DevServerProc } from "../support/scorpio.ts";

const MAIN = new URL("../support/overlay-main.ts", import.meta.url).pathname;

export interface OverlayEnv {
  dir: string;
  repo: SampleRepo;
  dev: DevServerProc;
  close(): Promise<void>;
}

export interface OverlaySpec {
  name: string;
  clDir?: string | null;
}

export interface ServedOverlays {
  child: MountedChild;
  mounts: Array<{ mountpoint: string; upperDir: string }>;
  /** Swaps the CL layer of mount `index` through the child. */
  setClDir(index: number, clDir: string | null): Promise<void>;
  stats(): Promise<Array<{ referenced: number; inodes: number; openFiles: number; format: string }>>;
  stop(): Promise<void>;
}

/** A temp dir, the sample repo (plus `extra` files committed), and a dev server over it. */
export async function startEnv(prefix: string, extra?: (repo: SampleRepo) => void): Promise<OverlayEnv> {
  ensureBuilt();
  const dir = makeTempDir(prefix);
  const repo = makeSampleRepo(join(dir, "repo"));
  extra?.(repo);
  const dev = await startDevServerProcess(repo.path);
  return {
    dir,
    repo,
    dev,
    async close() {
      await dev.stop();
      removeDir(dir);
    },
  };
}

/** Serves overlays `specs` over one view of `env`'s dev server from a child process. */
export interface ServeOptions {
  whiteoutFormat?: "chardev" | "aufs";
  /** Mount with allow_other (other users may enter). */
  allowOther?: boolean;
  /** Also mount the read-only Dicfuse view here. */
  viewMountpoint?: string;
}

export async function serveOverlays(env: OverlayEnv, tag: string, specs: OverlaySpec[], opts: ServeOptions = {}): Promise<ServedOverlays> {
  const base = join(env.dir, tag);
  const mounts = specs.map((s) => ({ mountpoint: join(base, "mnt", s.name), upperDir: join(base, "upper", s.name), clDir: s.clDir ?? null }));
  for (const m of mounts) mkdirSync(m.mountpoint, { recursive: true });
  if (opts.viewMountpoint) mkdirSync(opts.viewMountpoint, { recursive: true });
  const controlFile = join(base, "control.json");
  const config = { baseUrl: env.dev.url, storeDir: join(base, "store"), mounts, controlFile, ...opts };
  const child = await mountChild([process.execPath, MAIN, JSON.stringify(config)], mounts[0]!.mountpoint, { readyMs: 30_000 });
  return {
    child,
    mounts,
    async setClDir(index, clDir) {
      writeFileSync(controlFile, JSON.stringify({ index, clDir }));
      await child.request("SIGUSR1");
    },
    stats() {
      return child.request("SIGUSR2");
    },
    async stop() {
      await child.stop();
      if (opts.viewMountpoint) forceUnmount(opts.viewMountpoint);
      for (const m of mounts) {
        forceUnmount(m.mountpoint);
        if (isMounted(m.mountpoint)) throw new Error(`stale mount left at ${m.mountpoint}`);
      }
    },
  };
}
