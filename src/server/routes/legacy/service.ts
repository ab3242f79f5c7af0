/**
 * @module server/routes/legacy/service — legacy workspace checkouts (`POST /api/fs/mount`, §5.5),
 * re-made on the Antares machinery: a checkout of monorepo path `P` is a writable overlay mount of
 * the Dicfuse view of `P` (optionally with a CL layer) at `{workspace}.checkouts/P`, with its upper
 * layer at `{store_path}/{sha1(P)}/upper` and its CL layer at `{store_path}/{sha1(P)}/cl`.
 * Checkouts are recorded in the runtime state file's `works` list and remounted over the same
 * upper directory when the daemon restarts: edits are never wiped (the original wiped them).
 * The workspace mount itself stays read-only.
 */
import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { buildClLayer, type DicfusePool } from "../../../antares/index.ts";
import { mountSettings, readRuntimeState, writeRuntimeState, type ScorpioConfig } from "../../../config/index.ts";
import type { DicfuseView } from "../../../dicfuse/index.ts";
import { isStaleMount, lazyUnmount } from "../../../fuse/index.ts";
import { mountOverlay as defaultMountOverlay, protectLayerRoots, type OverlayMount, type OverlayMountOptions } from "../../../overlay/index.ts";
import type { MegaClient } from "../../../remote/index.ts";
import type { ObjectStore } from "../../../store/index.ts";
import { ROOT_INO } from "../../../store/index.ts";
import { logger } from "../../../util/log.ts";
import { readBaseRecord, writeBaseRecord } from "../../../vcs/base-record.ts";
import { resolveMountBase, type MountBase } from "../../../vcs/mega-base.ts";
import type { LegacyMountRequest, LegacyUnmountRequest, MountInfo, MountResponse, SelectResponse, TaskStatus } from "./model.ts";

const log = logger("server/legacy");

interface Work extends MountInfo {
  overlay: OverlayMount | null;
}

/** Where a checkout's edits and base live (for src/vcs). */
export interface CheckoutMount {
  hash: string;
  /** Monorepo path, absolute. */
  path: string;
  mountpoint: string;
  upperDir: string;
  clDir: string | null;
  baseDir: string;
  base: MountBase | null;
}

interface Task {
  status: TaskStatus;
  result: MountInfo | null;
}

export interface LegacyOptions {
  config: ScorpioConfig;
  client: MegaClient;
  /** The process's object store: CL layers read blobs through it. */
  objects: ObjectStore;
  pool: DicfusePool;
  rootView: DicfuseView;
  mountOverlay?: (opts: OverlayMountOptions) => Promise<OverlayMount>;
}

/** `a//b/` → `a/b`; rejects `.`/`..` segments and control characters. */
export function monoPath(raw: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(raw)) throw new Error("path must not contain control characters");
  const parts = raw.split("/").filter((p) => p.length > 0);
  if (parts.some((p) => p === "." || p === "..")) throw new Error(`path '${raw}' must not contain '.' or '..' segments`);
  return parts.join("/");
}

function related(a: string, b: string): boolean {
  if (a === "" || b === "" || a === b) return true;
  return a.startsWith(b + "/") || b.startsWith(a + "/");
}

export class LegacyWorkspaces {
  private readonly works: Work[] = [];
  private readonly tasks = new Map<string, Task>();
  private readonly doMount: (opts: OverlayMountOptions) => Promise<OverlayMount>;
  /** Serialises mounts/unmounts (the original held one manager lock). */
  private lock: Promise<unknown> = Promise.resolve();
  private stopping = false;

  constructor(private readonly opts: LegacyOptions) {
    this.doMount = opts.mountOverlay ?? defaultMountOverlay;
  }

  /** Where checkouts are mounted: a directory next to the workspace. */
  get checkoutRoot(): string {
    return `${this.opts.config.workspace.replace(/\/+$/, "")}.checkouts`;
  }

  count(): number {
    return this.works.length;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => {});
    return run;
  }

  private dirsOf(hash: string) {
    const base = join(this.opts.config.store_path, hash);
    return { root: base, upper: join(base, "upper"), cl: join(base, "cl"), baseFile: join(base, "base.json") };
  }

  /** The checked-out (writable) mount at monorepo path `path` ("" or "/" for the root), or null. */
  checkout(path: string): CheckoutMount | null {
    const p = monoPath(path);
    const w = this.works.find((x) => x.path === p);
    return w ? this.describe(w) : null;
  }

  /** Every checkout, described for src/vcs. */
  checkouts(): CheckoutMount[] {
    return this.works.map((w) => this.describe(w));
  }

  private describe(w: Work): CheckoutMount {
    const d = this.dirsOf(w.hash);
    return { hash: w.hash, path: "/" + w.path, mountpoint: this.mountpointOf(w.path), upperDir: d.upper, clDir: existsSync(d.cl) ? d.cl : null, baseDir: d.root, base: readBaseRecord(d.baseFile) };
  }

  /**
   * Records the base of a checkout the first time it is made (a remount over the same upper layer
   * keeps the recorded one, so status stays against what the edits were made on).
   */
  private async recordBase(path: string, hash: string): Promise<void> {
    const file = this.dirsOf(hash).baseFile;
    if (readBaseRecord(file)) return;
    try {
      const base = await resolveMountBase({ baseUrl: this.opts.client.baseUrl }, "/" + path);
      if (base) await writeBaseRecord(file, base);
    } catch (err) {
      log.warn("could not record the checkout's base commit; status and commit will be unavailable", { path, error: err as Error });
    }
  }

  private mountpointOf(path: string): string {
    return join(this.checkoutRoot, path === "" ? "@root" : path);
  }

  /** The workspace-view inode of a monorepo path (0 when it cannot be resolved). */
  private async inodeOf(path: string): Promise<number> {
    const view = this.opts.rootView;
    let ino = ROOT_INO as number;
    for (const name of path.split("/").filter(Boolean)) {
      const n = await Promise.resolve().then(() => view.lookup(ino, name)).catch(() => null);
      if (!n) return 0;
      ino = n.ino;
    }
    return ino;
  }

  /** `cl`: build that CL's layer; `"existing"`: reuse the CL dir on disk if there is one (recovery). */
  private async mountWork(path: string, hash: string, cl: string | null | "existing"): Promise<OverlayMount> {
    const dirs = this.dirsOf(hash);
    protectLayerRoots({ upperDir: dirs.upper, clDir: dirs.cl });
    const full = "/" + path;
    let withCl = false;
    if (cl === "existing") withCl = existsSync(dirs.cl);
    else if (cl !== null) {
      await buildClLayer({ client: this.opts.client, objects: this.opts.objects, link: cl, mountPath: full, clDir: dirs.cl });
      withCl = true;
    } else await rm(dirs.cl, { recursive: true, force: true });
    const pooled = await this.opts.pool.get(full);
    mkdirSync(dirs.upper, { recursive: true });
    const mountpoint = this.mountpointOf(path);
    if (isStaleMount(mountpoint)) lazyUnmount(mountpoint);
    mkdirSync(mountpoint, { recursive: true });
    return this.doMount({
      mountpoint,
      upperDir: dirs.upper,
      clDir: withCl ? dirs.cl : null,
      lower: pooled.view,
      ...mountSettings(this.opts.config),
      fsname: `scorpio-checkout:${full}`,
    });
  }

  async mount(req: LegacyMountRequest): Promise<MountResponse> {
    const requestId = randomUUID();
    const task: Task = { status: "fetching", result: null };
    this.tasks.set(requestId, task);
    try {
      const info = await this.serial(() => this.doMountRequest(req));
      task.status = "finished";
      task.result = info;
      return { status: "Success", request_id: requestId, message: "Mount task completed" };
    } catch (err) {
      task.status = "error";
      const msg = err instanceof Error ? err.message : String(err);
      const message = /already mounted|already checked-out/.test(msg) ? "please unmount" : `Mount failed: ${msg}`;
      log.warn("legacy mount failed", { path: req.path, error: msg });
      return { status: "Fail", request_id: requestId, message };
    }
  }

  private async doMountRequest(req: LegacyMountRequest): Promise<MountInfo> {
    if (this.stopping) throw new Error("server is shutting down");
    const path = monoPath(req.path);
    const cl = req.cl ?? null;
    if (this.works.some((w) => w.path === path)) throw new Error("The target is already mounted");
    const clash = this.works.find((w) => related(w.path, path));
    if (clash) throw new Error(`The ${clash.path || "/"} is already checked-out`);
    const hash = createHash("sha1").update(path).digest("hex");
    const overlay = await this.mountWork(path, hash, cl);
    await this.recordBase(path, hash);
    const work: Work = { hash, path, inode: await this.inodeOf(path), overlay };
    this.works.push(work);
    try {
      this.persist();
    } catch (err) {
      this.works.pop();
      await overlay.unmount().catch(() => {});
      throw new Error(`Failed to persist mount state: ${(err as Error).message}`);
    }
    log.info("legacy checkout mounted", { path, mountpoint: this.mountpointOf(path) });
    return { hash, path, inode: work.inode };
  }

  select(requestId: string): SelectResponse {
    const t = this.tasks.get(requestId);
    if (!t) return { status: "Fail", task_status: "not_found", mount: null, message: "Task not found" };
    if (t.status !== "fetching") this.tasks.delete(requestId);
    return { status: "Success", task_status: t.status, mount: t.result, message: "Task found" };
  }

  mpoint(): { status: "Success"; mounts: MountInfo[] } {
    return { status: "Success", mounts: this.works.map((w) => ({ hash: w.hash, path: w.path, inode: w.inode })) };
  }

  async unmount(req: LegacyUnmountRequest): Promise<{ status: "Success" | "Fail"; message: string }> {
    const inode = req.inode ?? null;
    const rawPath = req.path ?? null;
    if (inode === null && rawPath === null) return { status: "Fail", message: "Need a inode or path." };
    return this.serial(async () => {
      let work: Work | undefined;
      try {
        work = inode !== null ? this.works.find((w) => w.inode === inode && w.inode !== 0) : this.works.find((w) => w.path === monoPath(rawPath!));
        if (!work) throw new Error("Overlay filesystem not mounted");
        await work.overlay?.unmount();
        work.overlay = null;
      } catch (err) {
        return { status: "Fail" as const, message: `Umount process error :${(err as Error).message}.` };
      }
      this.works.splice(this.works.indexOf(work), 1);
      // The CL layer belongs to the checkout; the upper layer (the user's edits) is kept.
      await rm(this.dirsOf(work.hash).cl, { recursive: true, force: true }).catch(() => {});
      try {
        this.persist();
      } catch (err) {
        log.warn("could not persist the workspace list", { error: err as Error });
      }
      return { status: "Success" as const, message: "Directory unmounted successfully" };
    });
  }

  private persist(): void {
    const file = this.opts.config.config_file;
    const state = readRuntimeState(file);
    writeRuntimeState(file, { ...state, works: this.works.map((w) => ({ path: w.path, node: w.inode, hash: w.hash })) });
  }

  /** Remounts the recorded checkouts over their existing upper dirs (in the background of start). */
  async recover(recorded: ReadonlyArray<{ path: string; node: number; hash: string }>): Promise<void> {
    await this.serial(async () => {
      for (const r of recorded) {
        let path: string;
        try {
          path = monoPath(r.path);
        } catch {
          continue;
        }
        const hash = createHash("sha1").update(path).digest("hex");
        const work: Work = { hash, path, inode: r.node, overlay: null };
        this.works.push(work);
        try {
          work.overlay = await this.mountWork(path, hash, "existing");
          work.inode = (await this.inodeOf(path)) || r.node;
          log.info("legacy checkout recovered", { path });
        } catch (err) {
          log.warn("could not recover a legacy checkout; it stays listed", { path, error: err as Error });
        }
      }
    });
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    await this.lock;
    await Promise.all(this.works.map((w) => w.overlay?.unmount().catch((err: unknown) => log.error("unmount failed", { path: w.path, error: err as Error }))));
  }
}
