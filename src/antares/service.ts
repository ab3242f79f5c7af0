/**
 * @module antares/service — the job-mount service behind the Antares API (§3.2, §5.4). No Elysia
 * types here: the controller validates and calls these methods; errors are `AntaresError`s.
 *
 * A mount is an overlay (upper dir > optional CL dir > Dicfuse view of its base path) at
 * `{antares_mount_root}/{id}`. Lifecycle: Provisioning (being recovered) → Mounted → Ready (the
 * mount answers) · Ready|Mounted → Quiescing → Ready (CL change) · → Unmounting → Unmounted (removed)
 * · → Failed{reason}. Differences from the original, on purpose:
 *  - create is idempotent per job id also for concurrent requests (they share one in-flight create;
 *    QUIRK 10.3.7), and answers once the mount is Ready (QUIRK 10.3.10);
 *  - a CL change swaps the CL layer of the live mount; the job's upper layer is never touched;
 *  - every change is persisted atomically, and `recover()` remounts every record on start
 *    (QUIRK 10.3.2), marking those it cannot recover Failed with a reason;
 *  - an unmount failure is a 500 `FUSE_ERROR` (the mount stays listed as Failed);
 *  - `purge` (or `antares_purge_on_delete`) deletes the mount's directories.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { mountSettings, type ScorpioConfig } from "../config/index.ts";
import { isStaleMount, lazyUnmount } from "../fuse/index.ts";
import { mountOverlay as defaultMountOverlay, type OverlayMount, type OverlayMountOptions } from "../overlay/index.ts";
import type { MegaClient } from "../remote/index.ts";
import type { ObjectStore } from "../store/index.ts";
import { logger } from "../util/log.ts";
import { buildClLayer } from "./cl-layer.ts";
import type { DicfusePool } from "./dicfuse-pool.ts";
import { fuseFailure, invalidRequest, messageOf, mountNotFound, shuttingDown, taskNotFound } from "./errors.ts";
import { debugState, failed, type CreateMountRequest, type MountCreated, type MountLifecycle, type MountReadyResponse, type MountStatus } from "./model.ts";
import { checkClId, layoutFor, normalizeMountPath, taskIdOf, type MountLayout } from "./paths.ts";
import { probeMount } from "./readiness.ts";
import { StateFile, type MountRecord } from "./state-file.ts";
import { warmWalk, warmWalkConfigFromEnv, type WarmWalkConfig } from "./warm-walk.ts";

const log = logger("antares");

interface MountEntry {
  readonly id: string;
  readonly jobId: string | null;
  readonly path: string;
  cl: string | null;
  readonly layout: MountLayout;
  /** `layers.cl`: the CL dir while a CL layer is on, else null. */
  clDir: string | null;
  dicfuse: string;
  state: MountLifecycle;
  readonly createdAt: number;
  lastSeen: number;
  overlay: OverlayMount | null;
  warm: AbortController | null;
}

export interface AntaresServiceOptions {
  config: ScorpioConfig;
  client: MegaClient;
  /** The process's object store: CL layers read blobs through it (shared cache, verified once). */
  objects: () => Promise<ObjectStore>;
  pool: DicfusePool;
  /** Environment for `ANTARES_*` tuning (defaults to process.env). */
  env?: Record<string, string | undefined>;
  /** Seam for tests. */
  mountOverlay?: (opts: OverlayMountOptions) => Promise<OverlayMount>;
}

function pathKey(path: string, cl: string | null): string {
  return `${path}\0${cl ?? ""}`;
}

function debugOption(v: string | null): string {
  return v === null ? "None" : `Some(${JSON.stringify(v)})`;
}

const isActive = (s: MountLifecycle) => s === "Mounted" || s === "Ready";

export class AntaresService {
  private readonly mounts = new Map<string, MountEntry>();
  private readonly jobIndex = new Map<string, string>();
  private readonly pathIndex = new Map<string, string>();
  private readonly pendingJobs = new Map<string, { path: string; cl: string | null; created: Promise<MountCreated> }>();
  private readonly pendingPaths = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly state: StateFile;
  private readonly warmCfg: WarmWalkConfig;
  private readonly quiesceGraceMs: number;
  private readonly doMount: (opts: OverlayMountOptions) => Promise<OverlayMount>;
  private recovery: Promise<void> | null = null;
  private stopping = false;

  constructor(private readonly opts: AntaresServiceOptions) {
    this.state = new StateFile(opts.config.antares_state_file);
    const env = opts.env ?? process.env;
    this.warmCfg = warmWalkConfigFromEnv(env);
    const grace = Number(env.ANTARES_CL_QUIESCE_GRACE_MS ?? "0");
    this.quiesceGraceMs = Number.isInteger(grace) ? Math.min(3000, Math.max(0, grace)) : 0;
    this.doMount = opts.mountOverlay ?? defaultMountOverlay;
  }

  // ---- queries ---------------------------------------------------------------------------------

  /** Every entry, Failed ones included (the original's count). */
  mountCount(): number {
    return this.mounts.size;
  }

  list(): MountStatus[] {
    return [...this.mounts.values()].map((e) => this.status(e));
  }

  get(id: string): MountStatus {
    return this.status(this.entry(id));
  }

  getByJob(jobId: string): MountStatus {
    return this.status(this.entryByJob(jobId));
  }

  ready(id: string): MountReadyResponse {
    const e = this.entry(id);
    return { mount_id: e.id, ready: e.state === "Ready", state: e.state };
  }

  private entry(id: string): MountEntry {
    const e = this.mounts.get(id.toLowerCase());
    if (!e) throw mountNotFound(id);
    return e;
  }

  private entryByJob(jobId: string): MountEntry {
    for (const e of this.mounts.values()) if (e.jobId === jobId) return e;
    throw taskNotFound(jobId);
  }

  private status(e: MountEntry): MountStatus {
    return {
      mount_id: e.id,
      job_id: e.jobId,
      path: e.path,
      cl: e.cl,
      mountpoint: e.layout.mountpoint,
      layers: { upper: e.layout.upperDir, cl: e.clDir, dicfuse: e.dicfuse },
      state: e.state,
      created_at_epoch_ms: e.createdAt,
      last_seen_epoch_ms: e.lastSeen,
    };
  }

  // ---- create ----------------------------------------------------------------------------------

  async create(req: CreateMountRequest): Promise<MountCreated> {
    if (this.stopping) throw shuttingDown();
    const path = normalizeMountPath(req.path);
    const taskId = taskIdOf(req);
    const cl = req.cl ?? null;
    if (cl !== null) checkClId(cl);

    if (taskId !== null) {
      const pending = this.pendingJobs.get(taskId);
      if (pending) {
        if (pending.path !== path || pending.cl !== cl) throw invalidRequest(`job_id/build_id '${taskId}' already mounted with different path/cl`);
        const created = await pending.created;
        const e = this.mounts.get(created.mount_id);
        if (e) e.lastSeen = Date.now();
        return created;
      }
      const existingId = this.jobIndex.get(taskId);
      const existing = existingId ? this.mounts.get(existingId) : undefined;
      if (existing) {
        if (existing.path !== path || existing.cl !== cl) throw invalidRequest(`job_id/build_id '${taskId}' already mounted with different path/cl`);
        if (!isActive(existing.state)) {
          throw invalidRequest(`job_id/build_id '${taskId}' is currently in state ${debugState(existing.state)}; retry after unmount completes`);
        }
        existing.lastSeen = Date.now();
        return { mount_id: existing.id, mountpoint: existing.layout.mountpoint };
      }
      if (existingId) this.jobIndex.delete(taskId);
      const created = this.track(this.createNew(path, cl, taskId));
      this.pendingJobs.set(taskId, { path, cl, created });
      try {
        return await created;
      } finally {
        this.pendingJobs.delete(taskId);
      }
    }

    const key = pathKey(path, cl);
    if (this.pathIndex.has(key) || this.pendingPaths.has(key)) throw invalidRequest(`path ${path} with cl ${debugOption(cl)} is already mounted`);
    this.pendingPaths.add(key);
    try {
      return await this.track(this.createNew(path, cl, null));
    } finally {
      this.pendingPaths.delete(key);
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.catch(() => {}).finally(() => this.inFlight.delete(p));
    return p;
  }

  private async createNew(path: string, cl: string | null, jobId: string | null): Promise<MountCreated> {
    const id = randomUUID();
    const layout = layoutFor(this.opts.config, id);
    const cleanup = () => Promise.all([layout.mountpoint, layout.upperDir, layout.clDir].map((d) => rm(d, { recursive: true, force: true }))).catch(() => {});
    let overlay: OverlayMount;
    let dicfuse: string;
    try {
      if (cl !== null) {
        const r = await buildClLayer({ client: this.opts.client, objects: await this.opts.objects(), link: cl, mountPath: path, clDir: layout.clDir });
        log.info("CL layer built", { mount_id: id, cl, ...r });
      }
      const pooled = await this.opts.pool.get(path);
      dicfuse = pooled.label;
      await mkdir(layout.upperDir, { recursive: true });
      await mkdir(layout.mountpoint, { recursive: true });
      if (this.stopping) throw shuttingDown();
      try {
        overlay = await this.mountAt(layout, cl !== null ? layout.clDir : null, pooled.view, path);
      } catch (err) {
        throw fuseFailure(`failed to mount: ${messageOf(err)}`);
      }
    } catch (err) {
      await cleanup();
      throw err;
    }
    const now = Date.now();
    const e: MountEntry = { id, jobId, path, cl, layout, clDir: cl !== null ? layout.clDir : null, dicfuse, state: "Mounted", createdAt: now, lastSeen: now, overlay, warm: null };
    this.insert(e);
    await this.persist();
    await this.becomeReady(e);
    log.info("job mount created", { mount_id: id, job_id: jobId, path, cl, mountpoint: layout.mountpoint });
    return { mount_id: id, mountpoint: layout.mountpoint };
  }

  private mountAt(layout: MountLayout, clDir: string | null, lower: Parameters<typeof defaultMountOverlay>[0]["lower"], path: string): Promise<OverlayMount> {
    const ttl = this.opts.config.antares_dicfuse_reply_ttl_secs;
    return this.doMount({
      mountpoint: layout.mountpoint,
      upperDir: layout.upperDir,
      clDir,
      lower,
      ...mountSettings(this.opts.config),
      fsname: `antares:${path}`,
      attrTimeout: ttl,
      entryTimeout: ttl,
    });
  }

  private insert(e: MountEntry): void {
    this.mounts.set(e.id, e);
    if (e.jobId !== null) this.jobIndex.set(e.jobId, e.id);
    else this.pathIndex.set(pathKey(e.path, e.cl), e.id);
  }

  private unindex(e: MountEntry): void {
    this.mounts.delete(e.id);
    if (e.jobId !== null && this.jobIndex.get(e.jobId) === e.id) this.jobIndex.delete(e.jobId);
    const key = pathKey(e.path, e.cl);
    if (this.pathIndex.get(key) === e.id) this.pathIndex.delete(key);
  }

  /** Mounted → Ready once the mount answers; then the warm walk. Keeps probing in the background on a slow start. */
  private async becomeReady(e: MountEntry): Promise<void> {
    const warm = new AbortController();
    e.warm = warm;
    let ok = await probeMount(e.layout.mountpoint, undefined, warm.signal);
    if (!ok && !warm.signal.aborted) {
      log.warn("mount did not answer yet; still probing", { mount_id: e.id });
      void probeMount(e.layout.mountpoint, 120_000, warm.signal).then((later) => later && this.markReady(e, warm));
      return;
    }
    if (ok) this.markReady(e, warm);
  }

  private markReady(e: MountEntry, warm: AbortController): void {
    if (e.warm !== warm || warm.signal.aborted || e.state !== "Mounted") return;
    e.state = "Ready";
    void warmWalk(e.layout.mountpoint, this.warmCfg, warm.signal).then((s) => log.debug("warm walk finished", { mount_id: e.id, ...s }));
  }

  private cancelWarm(e: MountEntry): void {
    e.warm?.abort();
    e.warm = null;
  }

  // ---- delete ----------------------------------------------------------------------------------

  async delete(id: string, opts: { purge?: boolean } = {}): Promise<MountStatus> {
    return this.remove(this.entry(id), opts);
  }

  async deleteByJob(jobId: string, opts: { purge?: boolean } = {}): Promise<MountStatus> {
    return this.remove(this.entryByJob(jobId), opts);
  }

  private async remove(e: MountEntry, opts: { purge?: boolean }): Promise<MountStatus> {
    if (e.state === "Quiescing" || e.state === "Unmounting" || e.state === "Provisioning") {
      throw invalidRequest(`mount ${e.id} is currently in state ${debugState(e.state)}; retry after switch/unmount completes`);
    }
    this.cancelWarm(e);
    e.state = "Unmounting";
    try {
      await e.overlay?.unmount();
      e.overlay = null;
    } catch (err) {
      e.state = failed(`unmount failed: ${messageOf(err)}`);
      throw fuseFailure(`unmount failed: ${messageOf(err)}`);
    }
    e.state = "Unmounted";
    this.unindex(e);
    await this.persist();
    if (opts.purge ?? this.opts.config.antares_purge_on_delete) {
      await Promise.all([e.layout.mountpoint, e.layout.upperDir, e.layout.clDir].map((d) => rm(d, { recursive: true, force: true }))).catch((err) =>
        log.warn("purging a deleted mount's directories failed", { mount_id: e.id, error: err as Error }),
      );
    }
    log.info("job mount removed", { mount_id: e.id, job_id: e.jobId });
    return this.status(e);
  }

  // ---- CL layer --------------------------------------------------------------------------------

  async buildCl(id: string, clRaw: string): Promise<MountStatus> {
    const e = this.entry(id);
    if (!isActive(e.state)) throw invalidRequest(`mount ${e.id} is currently in state ${debugState(e.state)}; cannot build CL`);
    const cl = checkClId(clRaw);
    if (e.jobId === null && e.cl !== cl) {
      const other = this.pathIndex.get(pathKey(e.path, cl));
      if (other && other !== e.id) throw invalidRequest(`path ${e.path} with cl ${debugOption(cl)} is already mounted`);
    }
    const before = e.state;
    this.cancelWarm(e);
    e.state = "Quiescing";
    const staging = `${e.layout.clDir}.staging-${randomUUID().slice(0, 8)}`;
    try {
      await this.grace();
      await buildClLayer({ client: this.opts.client, objects: await this.opts.objects(), link: cl, mountPath: e.path, clDir: staging });
    } catch (err) {
      await rm(staging, { recursive: true, force: true }).catch(() => {});
      e.state = before === "Ready" ? "Mounted" : before;
      await this.becomeReady(e);
      throw err;
    }
    try {
      await e.overlay!.setClDir(null);
      await rm(e.layout.clDir, { recursive: true, force: true });
      await rename(staging, e.layout.clDir);
      await e.overlay!.setClDir(e.layout.clDir);
    } catch (err) {
      e.state = failed(`CL swap failed: ${messageOf(err)}`);
      await rm(staging, { recursive: true, force: true }).catch(() => {});
      throw fuseFailure(`failed to mount CL view: ${messageOf(err)}`);
    }
    this.rekey(e, cl);
    e.clDir = e.layout.clDir;
    e.lastSeen = Date.now();
    e.state = "Mounted";
    await this.persist();
    await this.becomeReady(e);
    return this.status(e);
  }

  async clearCl(id: string): Promise<MountStatus> {
    const e = this.entry(id);
    if (!isActive(e.state)) throw invalidRequest(`mount ${e.id} is currently in state ${debugState(e.state)}; cannot clear CL`);
    if (e.cl === null) throw invalidRequest("mount has no CL layer to clear");
    if (e.jobId === null) {
      const other = this.pathIndex.get(pathKey(e.path, null));
      if (other && other !== e.id) throw invalidRequest(`path ${e.path} with cl None is already mounted`);
    }
    this.cancelWarm(e);
    e.state = "Quiescing";
    try {
      await this.grace();
      await e.overlay!.setClDir(null);
    } catch (err) {
      e.state = failed(`remount after clear CL failure: ${messageOf(err)}`);
      throw fuseFailure(`failed to remount without CL: ${messageOf(err)}`);
    }
    await rm(e.layout.clDir, { recursive: true, force: true }).catch((err) => log.warn("removing the CL dir failed", { mount_id: e.id, error: err as Error }));
    this.rekey(e, null);
    e.clDir = null;
    e.lastSeen = Date.now();
    e.state = "Mounted";
    await this.persist();
    await this.becomeReady(e);
    return this.status(e);
  }

  private rekey(e: MountEntry, cl: string | null): void {
    if (e.jobId === null) {
      const old = pathKey(e.path, e.cl);
      if (this.pathIndex.get(old) === e.id) this.pathIndex.delete(old);
      this.pathIndex.set(pathKey(e.path, cl), e.id);
    }
    e.cl = cl;
  }

  private grace(): Promise<void> {
    return this.quiesceGraceMs > 0 ? Bun.sleep(this.quiesceGraceMs) : Promise.resolve();
  }

  // ---- persistence and recovery ----------------------------------------------------------------

  private records(): MountRecord[] {
    const out: MountRecord[] = [];
    for (const e of this.mounts.values()) {
      if (e.state === "Unmounted" || e.state === "Unmounting") continue;
      out.push({
        mount_id: e.id,
        job_id: e.jobId,
        path: e.path,
        cl: e.cl,
        mountpoint: e.layout.mountpoint,
        upper_dir: e.layout.upperDir,
        cl_dir: e.clDir,
        created_at_epoch_ms: e.createdAt,
      });
    }
    return out;
  }

  private persist(): Promise<void> {
    return this.state.write(() => this.records()).catch(() => {});
  }

  /**
   * Re-creates every recorded mount over its existing upper and CL directories. Entries appear at
   * once as Provisioning and become Ready (or Failed with a reason) as they are remounted; the
   * returned promise settles when all are done.
   */
  recover(): Promise<void> {
    if (this.recovery) return this.recovery;
    const records = this.state.read();
    const entries: Array<[MountRecord, MountEntry]> = [];
    for (const r of records) {
      if (this.mounts.has(r.mount_id)) continue;
      const e: MountEntry = {
        id: r.mount_id,
        jobId: r.job_id,
        path: r.path,
        cl: r.cl,
        layout: { mountpoint: r.mountpoint, upperDir: r.upper_dir, clDir: r.cl_dir ?? layoutFor(this.opts.config, r.mount_id).clDir },
        clDir: r.cl_dir,
        dicfuse: r.path === "/" ? "shared" : "",
        state: "Provisioning",
        createdAt: r.created_at_epoch_ms,
        lastSeen: Date.now(),
        overlay: null,
        warm: null,
      };
      this.insert(e);
      entries.push([r, e]);
    }
    if (entries.length > 0) log.info("recovering job mounts", { count: entries.length });
    this.recovery = Promise.all(entries.map(([, e]) => this.recoverOne(e))).then(() => this.persist());
    return this.recovery;
  }

  private async recoverOne(e: MountEntry): Promise<void> {
    const fail = (reason: string) => {
      e.state = failed(reason);
      log.warn("could not recover job mount", { mount_id: e.id, job_id: e.jobId, reason });
    };
    if (!existsSync(e.layout.upperDir)) return fail(`upper directory ${e.layout.upperDir} is missing`);
    if (e.clDir !== null && !existsSync(e.clDir)) return fail(`CL directory ${e.clDir} is missing`);
    try {
      if (isStaleMount(e.layout.mountpoint)) lazyUnmount(e.layout.mountpoint);
      mkdirSync(e.layout.mountpoint, { recursive: true });
      const pooled = await this.opts.pool.get(e.path);
      e.dicfuse = pooled.label;
      if (this.stopping) return fail("daemon stopped during recovery");
      e.overlay = await this.mountAt(e.layout, e.clDir, pooled.view, e.path);
    } catch (err) {
      return fail(`recovery failed: ${messageOf(err)}`);
    }
    e.state = "Mounted";
    await this.becomeReady(e);
    log.info("job mount recovered", { mount_id: e.id, job_id: e.jobId, state: debugState(e.state) });
  }

  // ---- shutdown --------------------------------------------------------------------------------

  /**
   * Unmounts everything (records stay in the state file, so the next start recovers them).
   * Creates still running are awaited first so no mount is left behind.
   */
  async shutdown(): Promise<void> {
    this.stopping = true;
    await this.recovery?.catch(() => {});
    await Promise.all([...this.inFlight].map((p) => p.catch(() => {})));
    await Promise.all(
      [...this.mounts.values()].map(async (e) => {
        this.cancelWarm(e);
        try {
          await e.overlay?.unmount();
        } catch (err) {
          log.error("unmount at shutdown failed", { mount_id: e.id, error: err as Error });
          try {
            lazyUnmount(e.layout.mountpoint);
          } catch {
            // logged above
          }
        }
        e.overlay = null;
      }),
    );
    await this.state.write(() => this.records()).catch(() => {});
  }
}
