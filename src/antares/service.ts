/**
 * @module antares/service — the job-mount service behind the Antares API (§3.2, §5.4). No Elysia
 * types here: the controller validates and calls these methods; errors are `AntaresError`s.
 *
 * A mount is an overlay (upper dir > optional CL dir > Dicfuse view of its base path) at
 * `{antares_mount_root}/{id}`, served by kernel overlayfs or by our FUSE overlay (engine.ts decides
 * once per daemon; a kernel mount that fails under `auto` falls back to FUSE for that job). Lifecycle: Provisioning (being recovered) → Mounted → Ready (the
 * mount answers) · Ready|Mounted → Quiescing → Ready (CL change) · → Unmounting → Unmounted (removed)
 * · → Failed{reason}. Differences from the original, on purpose:
 *  - create is idempotent per job id also for concurrent requests (they share one in-flight create;
 *    QUIRK 10.3.7), and answers once the mount is Ready (QUIRK 10.3.10);
 *  - a CL change swaps the CL layer of the live mount; the job's upper layer is never touched;
 *  - every change is persisted atomically, and `recover()` remounts every record on start
 *    (QUIRK 10.3.2), marking those it cannot recover Failed with a reason;
 *  - an unmount failure is a 500 `FUSE_ERROR` (the mount stays listed as Failed);
 *  - `purge` (or `antares_purge_on_delete`) deletes the mount's directories;
 *  - hygiene: `gc()` removes directories no record owns (also after recovery at start); creates are
 *    refused with 507 while the upper root's filesystem is fuller than `antares_disk_max_use_percent`;
 *  - hermetic: a job's lower view is pinned at the monorepo commit resolved at creation (recorded as
 *    its base; recovery reopens the same commit), shared by the jobs at the same (path, commit) and
 *    closed with its last job; `refresh` moves one job to the newest commit (job-lower.ts).
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { chmod, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { mountSettings, type ScorpioConfig } from "../config/index.ts";
import { findMount, lazyUnmount } from "../fuse/index.ts";
import { mountOverlay as defaultMountOverlay, protectLayerRoots, type OverlayMount, type OverlayMountOptions } from "../overlay/index.ts";
import type { MegaClient } from "../remote/index.ts";
import type { Oid } from "../remote/oid.ts";
import type { ObjectStore } from "../store/index.ts";
import { logger } from "../util/log.ts";
import { readDirNamesIfAny } from "../util/names.ts";
import { resolveMountBase, type MountBase } from "../vcs/mega-base.ts";
import { readVcsState } from "../vcs/repo.ts";
import { buildClLayer } from "./cl-layer.ts";
import { PINNED_STORE_MARKER, storeDirFor, type DicfusePool } from "./dicfuse-pool.ts";
import { diskUse, dirUsage } from "./disk.ts";
import { chooseEngine, workRootOf, type EngineChoice, type OverlayEngine } from "./engine.ts";
import { fuseFailure, insufficientStorage, invalidRequest, localCommits, messageOf, mountNotFound, shuttingDown, taskNotFound } from "./errors.ts";
import { acquireLower, pinnedCommitOf, type JobLower } from "./job-lower.ts";
import { mountFuseJob, mountKernelJob, type JobMount } from "./job-mount.ts";
import { debugState, failed, type CreateMountRequest, type DiskUse, type GcResult, type MountCreated, type MountLifecycle, type MountReadyResponse, type MountStatus, type UsageReport } from "./model.ts";
import { checkClId, layoutFor, MOUNT_ID_NAME, normalizeMountPath, taskIdOf, workDirFor, type MountLayout } from "./paths.ts";
import { probeMount } from "./readiness.ts";
import { StateFile, type MountRecord } from "./state-file.ts";
import { ViewMounts, viewsRootOf } from "./view-mounts.ts";
import { warmWalk, warmWalkConfigFromEnv, type WarmWalkConfig } from "./warm-walk.ts";

const log = logger("antares");

/** How long the views of a deleted job whose kernel overlay was busy (detached) keep being served. */
const DETACHED_VIEW_GRACE_MS = 5 * 60_000;

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
  readonly labels: string[];
  readonly readonly: boolean;
  /** The engine serving it (the daemon's choice, or FUSE after a kernel mount failed under `auto`). */
  engine: OverlayEngine;
  overlay: JobMount | null;
  /** The view under the overlay (held while mounted). */
  lower: JobLower | null;
  /** Views a refresh moved the job off while a detached overlay of it may still read them (released with the job). */
  retired: JobLower[];
  /** The monorepo commit the lower view is pinned at (null: it follows the server). */
  pinnedCommit: Oid | null;
  warm: AbortController | null;
  /** The fixed base of status/commit/push (null when Mega could not tell at creation). */
  baseCommit: string | null;
  baseTree: string | null;
  baseRootCommit: string | null;
  /** The CL the mount's commits were last pushed to. */
  clLink: string | null;
}

/** What a create asks for beyond path and CL. */
interface MountShape {
  labels: string[];
  readonly: boolean;
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
  /** Seam for tests: the engine decision (default: `chooseEngine(config)`, probed once). */
  engine?: EngineChoice;
}

function pathKey(path: string, cl: string | null): string {
  return `${path}\0${cl ?? ""}`;
}

function debugOption(v: string | null): string {
  return v === null ? "None" : `Some(${JSON.stringify(v)})`;
}

/** A repeated create for a job must ask for the same mount (labels may differ: they are tags). */
function conflictCheck(taskId: string, have: { path: string; cl: string | null; readonly: boolean }, path: string, cl: string | null, shape: MountShape): void {
  if (have.path !== path || have.cl !== cl) throw invalidRequest(`job_id/build_id '${taskId}' already mounted with different path/cl`);
  if (have.readonly !== shape.readonly) throw invalidRequest(`job_id/build_id '${taskId}' already mounted with readonly = ${have.readonly}`);
}

const isActive = (s: MountLifecycle) => s === "Mounted" || s === "Ready";

export class AntaresService {
  private readonly mounts = new Map<string, MountEntry>();
  private readonly jobIndex = new Map<string, string>();
  private readonly pathIndex = new Map<string, string>();
  private readonly pendingJobs = new Map<string, { path: string; cl: string | null; readonly: boolean; created: Promise<MountCreated> }>();
  private readonly pendingPaths = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly state: StateFile;
  private readonly warmCfg: WarmWalkConfig;
  private readonly quiesceGraceMs: number;
  private readonly doMount: (opts: OverlayMountOptions) => Promise<OverlayMount>;
  private readonly views: ViewMounts;
  /** Ids of creates in flight: their directories exist before their entry does (gc must spare them). */
  private readonly reserved = new Set<string>();
  private engineChoice: Promise<EngineChoice> | null = null;
  private lastDiskLevel: DiskUse["level"] | null = null;
  private recovery: Promise<void> | null = null;
  private stopping = false;

  constructor(private readonly opts: AntaresServiceOptions) {
    this.state = new StateFile(opts.config.antares_state_file);
    const env = opts.env ?? process.env;
    this.warmCfg = warmWalkConfigFromEnv(env);
    const grace = Number(env.ANTARES_CL_QUIESCE_GRACE_MS ?? "0");
    this.quiesceGraceMs = Number.isInteger(grace) ? Math.min(3000, Math.max(0, grace)) : 0;
    this.doMount = opts.mountOverlay ?? defaultMountOverlay;
    this.views = new ViewMounts(opts.config);
    if (opts.engine) this.engineChoice = Promise.resolve(opts.engine);
  }

  /** The engine decision, probed once and logged. */
  engine(): Promise<EngineChoice> {
    this.engineChoice ??= chooseEngine(this.opts.config).then((c) => {
      (c.unusable ? log.error : log.info)(`job mounts use ${c.engine}`, { engine: c.engine, reason: c.reason });
      return c;
    });
    return this.engineChoice;
  }

  // ---- queries ---------------------------------------------------------------------------------

  /** Every entry, Failed ones included (the original's count). */
  mountCount(): number {
    return this.mounts.size;
  }

  /** Every mount, or those carrying `label`. */
  list(label?: string): MountStatus[] {
    const all = [...this.mounts.values()];
    return (label === undefined ? all : all.filter((e) => e.labels.includes(label))).map((e) => this.status(e));
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
      layers: { upper: e.readonly ? "" : e.layout.upperDir, cl: e.clDir, dicfuse: e.dicfuse, engine: e.engine },
      state: e.state,
      created_at_epoch_ms: e.createdAt,
      last_seen_epoch_ms: e.lastSeen,
      labels: [...e.labels],
      readonly: e.readonly,
      base_commit: e.baseCommit,
      base_tree: e.baseTree,
      cl_link: e.clLink,
      pinned: e.pinnedCommit !== null,
      pinned_commit: e.pinnedCommit,
    };
  }

  /** Where a mount's edits and base live (for src/vcs). */
  writableMount(id: string): { id: string; path: string; mountpoint: string; upperDir: string; clDir: string | null; baseCommit: string | null; baseTree: string | null; baseRootCommit: string | null; clLink: string | null } {
    const e = this.entry(id);
    return { id: e.id, path: e.path, mountpoint: e.layout.mountpoint, upperDir: e.layout.upperDir, clDir: e.clDir, baseCommit: e.baseCommit, baseTree: e.baseTree, baseRootCommit: e.baseRootCommit, clLink: e.clLink };
  }

  /** Records the CL a push went to (persisted). */
  async setClLink(id: string, link: string): Promise<void> {
    const e = this.entry(id);
    e.clLink = link;
    await this.persist();
  }

  /** The base a new mount of `path` records: Mega's head of `{path}.git` and its tree (null if unknown). */
  private async resolveBase(path: string): Promise<MountBase | null> {
    try {
      return await resolveMountBase({ baseUrl: this.opts.client.baseUrl }, path);
    } catch (err) {
      log.warn("could not record the mount's base commit; status and commit will be unavailable", { path, error: err as Error });
      return null;
    }
  }

  // ---- create ----------------------------------------------------------------------------------

  async create(req: CreateMountRequest): Promise<MountCreated> {
    if (this.stopping) throw shuttingDown();
    const path = normalizeMountPath(req.path);
    const taskId = taskIdOf(req);
    const cl = req.cl ?? null;
    if (cl !== null) checkClId(cl);
    const shape: MountShape = { labels: [...new Set(req.labels ?? [])], readonly: req.readonly ?? false };

    if (taskId !== null) {
      const pending = this.pendingJobs.get(taskId);
      if (pending) {
        conflictCheck(taskId, pending, path, cl, shape);
        const created = await pending.created;
        const e = this.mounts.get(created.mount_id);
        if (e) e.lastSeen = Date.now();
        return created;
      }
      const existingId = this.jobIndex.get(taskId);
      const existing = existingId ? this.mounts.get(existingId) : undefined;
      if (existing) {
        conflictCheck(taskId, existing, path, cl, shape);
        if (!isActive(existing.state)) {
          throw invalidRequest(`job_id/build_id '${taskId}' is currently in state ${debugState(existing.state)}; retry after unmount completes`);
        }
        existing.lastSeen = Date.now();
        return { mount_id: existing.id, mountpoint: existing.layout.mountpoint };
      }
      if (existingId) this.jobIndex.delete(taskId);
      const created = this.track(this.createNew(path, cl, taskId, shape));
      this.pendingJobs.set(taskId, { path, cl, readonly: shape.readonly, created });
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
      return await this.track(this.createNew(path, cl, null, shape));
    } finally {
      this.pendingPaths.delete(key);
    }
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.catch(() => {}).finally(() => this.inFlight.delete(p));
    return p;
  }

  /** Refuses a new mount (507) while the upper root's filesystem is above the configured use. */
  private async admit(): Promise<void> {
    const d = this.disk();
    if (d?.level === "full") {
      throw insufficientStorage(
        `the filesystem of the upper root ${d.path} is ${d.used_percent}% used (limit antares_disk_max_use_percent = ${d.max_percent}%); delete finished job mounts with purge=true or run POST /antares/gc`,
      );
    }
  }

  private async createNew(path: string, cl: string | null, jobId: string | null, shape: MountShape): Promise<MountCreated> {
    await this.admit();
    const id = randomUUID();
    const layout = layoutFor(this.opts.config, id);
    const cleanup = () => Promise.all([layout.mountpoint, layout.upperDir, layout.clDir, layout.workDir].map((d) => rm(d, { recursive: true, force: true }))).catch(() => {});
    this.reserved.add(id);
    let overlay: JobMount;
    let lower: JobLower | null = null;
    let base: MountBase | null = null;
    try {
      protectLayerRoots(layout);
      try {
        if (cl !== null) {
          const r = await buildClLayer({ client: this.opts.client, objects: await this.opts.objects(), link: cl, mountPath: path, clDir: layout.clDir });
          log.info("CL layer built", { mount_id: id, cl, ...r });
        }
        // The base first: the view is pinned at the commit it names, so the job never sees a later one.
        base = await this.resolveBase(path);
        lower = await this.lowerFor(id, path, pinnedCommitOf(path, base));
        await mkdir(layout.mountpoint, { recursive: true });
        if (this.stopping) throw shuttingDown();
        overlay = await this.mountAt(id, layout, cl !== null ? layout.clDir : null, lower, path, shape.readonly);
      } catch (err) {
        await lower?.release().catch((e2) => log.warn("releasing a job's view failed", { mount_id: id, error: e2 as Error }));
        await cleanup();
        throw err;
      }
    } finally {
      this.reserved.delete(id);
    }
    const now = Date.now();
    const e: MountEntry = {
      id, jobId, path, cl, layout, clDir: cl !== null ? layout.clDir : null, dicfuse: lower.label, state: "Mounted", createdAt: now, lastSeen: now,
      labels: shape.labels, readonly: shape.readonly, engine: overlay.engine, overlay, lower, retired: [], pinnedCommit: lower.pinnedCommit, warm: null,
      baseCommit: base?.base_commit ?? null, baseTree: base?.base_tree ?? null, baseRootCommit: base?.base_root_commit ?? null, clLink: null,
    };
    this.insert(e);
    await this.persist();
    await this.becomeReady(e);
    log.info("job mount created", { mount_id: id, job_id: jobId, path, cl, mountpoint: layout.mountpoint, engine: e.engine, readonly: e.readonly, pinned_commit: e.pinnedCommit });
    return { mount_id: id, mountpoint: layout.mountpoint };
  }

  /** The view a job stands on: pinned at `commit`, or following the server (said in the log) when there is none. */
  private lowerFor(id: string, path: string, commit: Oid | null): Promise<JobLower> {
    if (commit === null) log.warn("Mega did not tell the commit of the path: this job follows the server (not hermetic; MountStatus.pinned = false)", { mount_id: id, path });
    return acquireLower(this.opts.pool, this.views, path, commit);
  }

  /**
   * Mounts the job with the daemon's engine. Under `auto`, a kernel mount that fails (an odd lower
   * path, a kernel that refuses this FUSE lower) falls back to the FUSE overlay for this job.
   */
  private async mountAt(id: string, layout: MountLayout, clDir: string | null, lower: JobLower, path: string, readonly: boolean): Promise<JobMount> {
    const choice = await this.engine();
    // The mount's root takes this directory's mode: without mount_allow_other only the daemon's
    // user may enter, as with a FUSE mount without allow_other (kernel overlayfs has no such option).
    const rootDir = readonly ? layout.workDir : layout.upperDir;
    await mkdir(rootDir, { recursive: true });
    await chmod(rootDir, this.opts.config.mount_allow_other ? 0o755 : 0o700);
    if (choice.engine === "kernel-overlayfs") {
      if (choice.unusable) throw fuseFailure(`kernel overlayfs is forced by antares_overlay_engine but cannot be used: ${choice.unusable}`);
      try {
        const lowerDir = await lower.mountDir();
        return await mountKernelJob({
          mountpoint: layout.mountpoint,
          upperDir: layout.upperDir,
          workDir: layout.workDir,
          clDir,
          lowerDir,
          readOnly: readonly,
          source: `antares:${path}`,
        });
      } catch (err) {
        if (this.opts.config.antares_overlay_engine === "kernel-overlayfs") throw fuseFailure(`failed to mount: ${messageOf(err)}`);
        log.warn("kernel overlayfs mount failed; this job gets the FUSE overlay", { mount_id: id, error: messageOf(err) });
      }
    }
    const ttl = this.opts.config.antares_dicfuse_reply_ttl_secs;
    try {
      return await mountFuseJob(
        {
          mountpoint: layout.mountpoint,
          // A read-only FUSE mount still needs an upper directory to stand on: an empty one nothing writes to.
          upperDir: readonly ? layout.workDir : layout.upperDir,
          clDir,
          lower: lower.view,
          ...mountSettings(this.opts.config),
          readOnly: readonly,
          fsname: `antares:${path}`,
          attrTimeout: ttl,
          entryTimeout: ttl,
        },
        this.doMount,
      );
    } catch (err) {
      throw fuseFailure(`failed to mount: ${messageOf(err)}`);
    }
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
    let detached = false;
    try {
      detached = (await e.overlay?.unmount()) ?? false;
      e.overlay = null;
    } catch (err) {
      e.state = failed(`unmount failed: ${messageOf(err)}`);
      throw fuseFailure(`unmount failed: ${messageOf(err)}`);
    }
    if (detached) {
      // Processes still in the detached overlay read its views a while longer (shutdown ends them anyway).
      const lowers = [e.lower, ...e.retired];
      e.lower = null;
      e.retired = [];
      setTimeout(() => void Promise.all(lowers.map((l) => l?.release().catch(() => {}))), DETACHED_VIEW_GRACE_MS).unref?.();
    } else await this.releaseLower(e);
    e.state = "Unmounted";
    this.unindex(e);
    await this.persist();
    if (opts.purge ?? this.opts.config.antares_purge_on_delete) {
      await Promise.all([e.layout.mountpoint, e.layout.upperDir, e.layout.clDir, e.layout.workDir, `${e.layout.upperDir}.vcs`].map((d) => rm(d, { recursive: true, force: true }))).catch((err) =>
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

  /**
   * Moves one job to the newest commit of its path: a view pinned at the new head goes under the
   * mount (kernel overlayfs: remounted over the new view's mount; FUSE overlay: the lower swapped
   * live), the upper and CL layers are kept, and the recorded base moves with it — status and
   * commit are then against the new base, like a rebase without conflict detection. Refused (409)
   * while the mount has local commits: their trees are built on the old base. A job that follows
   * the server (Mega could not tell its commit) is pinned now when Mega can tell, else its view is
   * brought up to date as before.
   */
  async refresh(id: string): Promise<MountStatus> {
    const e = this.entry(id);
    if (!isActive(e.state)) throw invalidRequest(`mount ${e.id} is currently in state ${debugState(e.state)}; cannot refresh`);
    const vcs = e.readonly ? null : readVcsState(`${e.layout.upperDir}.vcs`);
    if (vcs?.head) {
      throw localCommits(`mount ${e.id} has ${vcs.commits.length} local commit(s) on base ${e.baseCommit}; refresh would move the base under them. Push them (and remount), or delete the mount's VCS state, first`);
    }
    this.cancelWarm(e);
    e.state = "Quiescing";
    const from = e.pinnedCommit;
    try {
      const base = await this.resolveBase(e.path);
      const commit = pinnedCommitOf(e.path, base);
      if (commit === null && e.pinnedCommit !== null) throw fuseFailure(`Mega did not tell the newest commit of ${e.path}; the job stays at ${e.pinnedCommit}`);
      if (commit === null) {
        log.warn("Mega did not tell the commit of the path: refreshing the following view instead of pinning", { mount_id: e.id, path: e.path });
        await e.lower!.view.refreshChanged();
        await e.overlay!.refreshLower();
      } else if (commit !== e.pinnedCommit) {
        const next = await this.lowerFor(e.id, e.path, commit);
        let oldInUse: boolean;
        try {
          oldInUse = await e.overlay!.setLower({ view: next.view, dir: e.engine === "kernel-overlayfs" ? await next.mountDir() : null });
        } catch (err) {
          await next.release().catch(() => {});
          throw err;
        }
        const old = e.lower;
        e.lower = next;
        e.pinnedCommit = commit;
        e.dicfuse = next.label;
        // Processes of the job still in the detached overlay (a shell's cwd) keep reading the old view.
        if (old && oldInUse) e.retired.push(old);
        else await old?.release().catch((err) => log.warn("releasing the job's old view failed", { mount_id: e.id, error: err as Error }));
      }
      if (base) {
        e.baseCommit = base.base_commit;
        e.baseTree = base.base_tree;
        e.baseRootCommit = base.base_root_commit ?? null;
      }
    } catch (err) {
      // Still mounted (on its old view): the job carries on; gone: Failed.
      e.state = findMount(e.layout.mountpoint) ? "Mounted" : failed(`refresh failed: ${messageOf(err)}`);
      await this.persist();
      if (e.state === "Mounted") await this.becomeReady(e);
      if (err instanceof Error && err.name === "AntaresError") throw err;
      throw fuseFailure(`refresh failed: ${messageOf(err)}`);
    }
    e.lastSeen = Date.now();
    e.state = "Mounted";
    await this.persist();
    await this.becomeReady(e);
    log.info("job mount refreshed", { mount_id: e.id, from_commit: from, to_commit: e.pinnedCommit, base_commit: e.baseCommit });
    return this.status(e);
  }

  /** Lets go of the job's view and of views it was refreshed off. */
  private async releaseLower(e: MountEntry): Promise<void> {
    const lowers = [e.lower, ...e.retired];
    e.lower = null;
    e.retired = [];
    await Promise.all(lowers.map((l) => l?.release().catch((err) => log.warn("releasing a job's view failed", { mount_id: e.id, error: err as Error }))));
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
        labels: e.labels,
        readonly: e.readonly,
        base_commit: e.baseCommit,
        base_tree: e.baseTree,
        base_root_commit: e.baseRootCommit,
        cl_link: e.clLink,
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
        layout: { mountpoint: r.mountpoint, upperDir: r.upper_dir, clDir: r.cl_dir ?? layoutFor(this.opts.config, r.mount_id).clDir, workDir: workDirFor(r.upper_dir) },
        clDir: r.cl_dir,
        dicfuse: "",
        state: "Provisioning",
        createdAt: r.created_at_epoch_ms,
        lastSeen: Date.now(),
        labels: r.labels,
        readonly: r.readonly,
        engine: "fuse-overlay",
        overlay: null,
        lower: null,
        retired: [],
        pinnedCommit: pinnedCommitOf(r.path, r.base_commit ? { base_commit: r.base_commit, base_root_commit: r.base_root_commit ?? undefined } : null),
        warm: null,
        baseCommit: r.base_commit ?? null,
        baseTree: r.base_tree ?? null,
        baseRootCommit: r.base_root_commit ?? null,
        clLink: r.cl_link ?? null,
      };
      e.dicfuse = e.pinnedCommit ? storeDirFor(this.opts.config.store_path, e.path, e.pinnedCommit) : e.path === "/" ? "shared" : "";
      this.insert(e);
      entries.push([r, e]);
    }
    if (entries.length > 0) log.info("recovering job mounts", { count: entries.length });
    this.views.clearStale();
    this.recovery = (async () => {
      const choice = await this.engine();
      for (const [, e] of entries) e.engine = choice.engine;
      await Promise.all(entries.map(([, e]) => this.recoverOne(e)));
      await this.persist();
      // Hygiene at start: what no record owns now is an orphan.
      if (!this.stopping) {
        const r = await this.collectOrphans().catch((err) => (log.warn("garbage collection at start failed", { error: err as Error }), null));
        if (r && r.removed.length > 0) log.info("removed orphaned job directories", { count: r.removed.length });
      }
    })();
    return this.recovery;
  }

  private async recoverOne(e: MountEntry): Promise<void> {
    const fail = (reason: string) => {
      e.state = failed(reason);
      log.warn("could not recover job mount", { mount_id: e.id, job_id: e.jobId, reason });
    };
    if (!e.readonly && !existsSync(e.layout.upperDir)) return fail(`upper directory ${e.layout.upperDir} is missing`);
    if (e.clDir !== null && !existsSync(e.clDir)) return fail(`CL directory ${e.clDir} is missing`);
    try {
      protectLayerRoots(e.layout);
      // Whatever is still mounted there (an overlayfs whose lower view died with the old daemon, a
      // stale FUSE mount) is detached: processes that hold it keep it, new opens see the remount.
      if (findMount(e.layout.mountpoint)) lazyUnmount(e.layout.mountpoint);
      mkdirSync(e.layout.mountpoint, { recursive: true });
      // The same commit as before the restart: the job's view does not move under it.
      e.lower = await this.lowerFor(e.id, e.path, e.pinnedCommit);
      e.dicfuse = e.lower.label;
      if (this.stopping) {
        await this.releaseLower(e);
        return fail("daemon stopped during recovery");
      }
      e.overlay = await this.mountAt(e.id, e.layout, e.clDir, e.lower, e.path, e.readonly);
      e.engine = e.overlay.engine;
    } catch (err) {
      await this.releaseLower(e);
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
    await this.views.close();
    await this.state.write(() => this.records()).catch(() => {});
  }

  // ---- hygiene ---------------------------------------------------------------------------------

  /** Use of the upper root's filesystem (null when it cannot be read); logs crossing a level. */
  disk(): DiskUse | null {
    const root = this.opts.config.antares_upper_root;
    let d: DiskUse | null;
    try {
      mkdirSync(root, { recursive: true });
      d = diskUse(root, { warnPercent: this.opts.config.antares_disk_warn_use_percent, maxPercent: this.opts.config.antares_disk_max_use_percent });
    } catch (err) {
      log.warn("cannot read the upper root's filesystem use", { path: root, error: err as Error });
      d = null;
    }
    if (d && d.level !== "ok" && this.lastDiskLevel !== d.level) log.warn(`upper root filesystem ${d.used_percent}% used`, { ...d });
    this.lastDiskLevel = d?.level ?? null;
    return d;
  }

  /** For /health: a sentence while the upper root's filesystem is above the warn level. */
  diskProblem(): string | undefined {
    const d = this.disk();
    if (!d || d.level === "ok") return undefined;
    return `upper root filesystem ${d.used_percent}% used (warning above ${d.warn_percent}%, new job mounts refused above ${d.max_percent}%)`;
  }

  /** "degraded" while the upper root's filesystem is above the warn level. */
  healthStatus(): "ok" | "degraded" {
    const d = this.disk();
    return d && d.level !== "ok" ? "degraded" : "ok";
  }

  /**
   * Removes the directories under the Antares roots that no mount record owns (upper, overlayfs
   * work, CL, CL staging, mountpoint), detaching a mount left on an orphaned mountpoint first.
   * Only names that are mount ids (or their staging dirs) are touched; probes are removed too.
   */
  async gc(): Promise<GcResult> {
    await this.recovery;
    return this.collectOrphans();
  }

  private async collectOrphans(): Promise<GcResult> {
    const owned = new Set([...this.mounts.keys(), ...this.reserved]);
    const cfg = this.opts.config;
    const result: GcResult = { removed: [], detached: [] };
    const roots = [cfg.antares_mount_root, cfg.antares_upper_root, cfg.antares_cl_root, workRootOf(cfg)];
    for (const root of roots) {
      const names = readDirNamesIfAny(root);
      for (const name of names) {
        const m = MOUNT_ID_NAME.exec(name);
        const probe = root === workRootOf(cfg) && name.startsWith("probe-");
        // A staging dir is in use only while its mount rebuilds its CL layer (Quiescing).
        const staging = m?.[2]?.startsWith(".staging-") === true && this.mounts.get(m[1]!)?.state !== "Quiescing";
        if (!probe && !staging && (!m || owned.has(m[1]!))) continue;
        const dir = join(root, name);
        if (root === cfg.antares_mount_root && findMount(dir)) {
          try {
            lazyUnmount(dir);
            result.detached.push(dir);
          } catch (err) {
            log.warn("cannot detach an orphaned mount; leaving it", { dir, error: err as Error });
            continue;
          }
        }
        try {
          await rm(dir, { recursive: true, force: true });
          result.removed.push(dir);
        } catch (err) {
          log.warn("cannot remove an orphaned directory", { dir, error: err as Error });
        }
      }
    }
    await this.collectPinnedStores(result);
    if (result.removed.length > 0) log.info("garbage collection removed orphaned directories", { count: result.removed.length, detached: result.detached.length });
    return result;
  }

  /**
   * Pinned views' tree stores (`{store_path}/dicfuse/{hash}` with a marker) that no mount and no open
   * view uses: normally removed with their last job, left behind only by a crash in between or a
   * state file removed by hand. Following views' stores (no marker) are never touched.
   */
  private async collectPinnedStores(result: GcResult): Promise<void> {
    const root = join(this.opts.config.store_path, "dicfuse");
    const used = this.opts.pool.pinnedDirsInUse();
    for (const e of this.mounts.values()) if (e.pinnedCommit) used.add(storeDirFor(this.opts.config.store_path, e.path, e.pinnedCommit));
    const names = readDirNamesIfAny(root);
    for (const name of names) {
      const dir = join(root, name);
      if (used.has(dir) || !existsSync(join(dir, PINNED_STORE_MARKER))) continue;
      try {
        await rm(dir, { recursive: true, force: true });
        result.removed.push(dir);
      } catch (err) {
        log.warn("cannot remove an orphaned pinned view store", { dir, error: err as Error });
      }
    }
  }

  /** Disk used by each job's upper and CL layers, and by the upper root's filesystem. */
  async usage(): Promise<UsageReport> {
    const choice = await this.engine();
    const disk = this.disk();
    const mounts = await Promise.all(
      [...this.mounts.values()].map(async (e) => ({
        mount_id: e.id,
        job_id: e.jobId,
        path: e.path,
        upper_bytes: e.readonly ? 0 : await dirUsage(e.layout.upperDir),
        cl_bytes: e.clDir === null ? 0 : await dirUsage(e.clDir),
      })),
    );
    const root = this.opts.config.antares_upper_root;
    return {
      engine: choice.engine,
      engine_reason: choice.reason,
      disk: disk ?? { path: root, used_percent: 0, total_bytes: 0, free_bytes: 0, warn_percent: this.opts.config.antares_disk_warn_use_percent, max_percent: this.opts.config.antares_disk_max_use_percent, level: "ok" },
      mounts,
    };
  }
}
