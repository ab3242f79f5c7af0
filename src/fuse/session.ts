/**
 * @module fuse/session — one mounted FUSE filesystem: creates the libfuse session with its options,
 * mounts it, drains requests on the JS thread when the poll worker says the fd is readable, runs
 * each request through the ops table and unmounts cleanly. Knows nothing about what is mounted.
 */
import { JSCallback, ptr, read, toArrayBuffer, type Pointer } from "bun:ffi";
import { Errno, FsError, errnoName, errnoOf } from "../util/errno.ts";
import { logger } from "../util/log.ts";
import { libc } from "../util/libc.ts";
import { fuseOpRecorder, type FuseOpRecorder } from "../util/metrics.ts";
import { loadLibfuse, type Libfuse } from "./libfuse.ts";
import { MIN_FUSE_VERSION } from "./version.ts";
import { watchFd, POLLERR, POLLHUP, POLLNVAL, type PollRegistration } from "./dispatch.ts";
import { sendNotification, type StoreFile } from "./notify.ts";
import { OPS, type OpRuntime } from "./ops-table.ts";
import { Replier, type ReplyTimeouts } from "./reply.ts";
import { CAP, CONN_INFO, FUSE_ARGS, FUSE_BUF, FUSE_BUF_COPY, FUSE_CTX, LIBFUSE_VERSION, O, OPS_SIZE } from "./structs.ts";
import { nativeBuffer, nativeCString } from "./memory.ts";
import { lazyUnmount, prepareMountpoint, findMount } from "./mount-hygiene.ts";
import type { ConnectionInfo, LowLevelFs, MaybePromise, RequestContext } from "./types.ts";

const log = logger("fuse");

export interface MountOptions {
  mountpoint: string;
  /** Shown as the source in /proc/mounts. */
  fsname?: string;
  /** Type suffix: mounts show as `fuse.<subtype>`. */
  subtype?: string;
  allowOther?: boolean;
  defaultPermissions?: boolean;
  readOnly?: boolean;
  /** Let libfuse's fusermount3 helper unmount if this process dies (needs fusermount3). */
  autoUnmount?: boolean;
  /** Kernel cache lifetimes in seconds, used when a reply does not give its own. Default 1. */
  attrTimeout?: number;
  entryTimeout?: number;
  /**
   * Splice fd-backed reads over 32 KiB to the kernel (libfuse's SPLICE_WRITE|SPLICE_MOVE) instead
   * of copying them through one reused buffer. Default false: the copy measured faster (docs/benchmarks.md).
   */
  splice?: boolean;
  writebackCache?: boolean;
  /** Requests handled per macrotask before yielding to timers and I/O. Default 64. */
  maxBatch?: number;
  /**
   * When the fd runs dry, busy-poll this long (µs) for the next request before parking the thread,
   * but only while requests arrive back to back (the last idle gap was at most the window plus our
   * wake-up latency): a request caught by the spin skips two thread wake-ups. 0 turns it off.
   * Default 200: long enough to catch the next READDIR while the kernel digests a full READDIRPLUS.
   */
  spinMicros?: number;
  /**
   * "auto" (default): the kernel asks READDIRPLUS for the first block of a listing and plain READDIR
   * afterwards unless lookups follow. "always": every listing block comes with attributes, so a walk
   * needs no LOOKUP per entry; for a filesystem whose readdirplus is as cheap as readdir (it may leave
   * out the attributes of an entry it would have to fetch).
   */
  readdirplus?: "auto" | "always";
  /** Extra `-o` options passed to libfuse verbatim. */
  extraOptions?: string[];
  /** The `engine` label of this session's request metrics (dicfuse, overlay, ...). Default: subtype. */
  engine?: string;
}

export interface OpStats {
  count: number;
  errors: number;
  totalMs: number;
}

const EAGAIN = -Errno.EAGAIN;
const EINTR = -4;
const DEFAULT_DRAIN_DEADLINE_MS = 5_000;
const DEFAULT_SPIN_MICROS = 200;
/** Spin after idle gaps of up to a window plus this (ms): our own wake-up latency, which the gap includes. */
const SPIN_WAKE_ALLOWANCE_MS = 0.2;
/** This many spins in a row that found nothing pause spinning for SPIN_PAUSE_WAKEUPS wake-ups. */
const SPIN_MISSES_BEFORE_PAUSE = 4;
const SPIN_PAUSE_WAKEUPS = 16;
/** Drains chained from reply continuations before deferring to the poll path (see afterAsyncReply). */
const MAX_CHAINED_DRAINS = 64;

const live = new Set<FuseSession>();

/** A request context that reads `fuse_req_ctx` only when a handler asks. */
class LazyContext implements RequestContext {
  private p: Pointer | null | undefined;
  constructor(private readonly lib: Libfuse, private readonly req: Pointer) {}
  private get c(): Pointer | null {
    if (this.p === undefined) this.p = this.lib.fuse.fuse_req_ctx(this.req) as Pointer | null;
    return this.p;
  }
  get uid(): number { const c = this.c; return c ? read.u32(c, FUSE_CTX.uid) : 0; }
  get gid(): number { const c = this.c; return c ? read.u32(c, FUSE_CTX.gid) : 0; }
  get pid(): number { const c = this.c; return c ? read.i32(c, FUSE_CTX.pid) : 0; }
  get umask(): number { const c = this.c; return c ? read.u32(c, FUSE_CTX.umask) : 0o022; }
  private g: readonly number[] | undefined;
  get groups(): readonly number[] {
    return (this.g ??= readGroups(this.lib, this.req));
  }
}

/** Supplementary groups of the caller of `req` (libfuse reads /proc/<pid>/task/<tid>/status). */
function readGroups(lib: Libfuse, req: Pointer): readonly number[] {
  for (let size = 32; size <= 65536; size *= 4) {
    const buf = new Uint32Array(size);
    const n = lib.fuse.fuse_req_getgroups(req, size, ptr(buf));
    if (n < 0) return [];
    if (n <= size) return [...buf.subarray(0, n)];
  }
  return [];
}

export class FuseSession implements OpRuntime {
  readonly mountpoint: string;
  readonly fs: LowLevelFs;
  readonly reply: Replier;
  readonly timeouts: ReplyTimeouts;
  readonly spliceFlags: number | null;
  readonly stats: Record<string, OpStats> = {};
  /** How requests were picked up: after a poll wake-up, or by a spin (and spins that found nothing). */
  readonly dispatch = { wakeups: 0, spinHits: 0, spinMisses: 0 };
  /** Resolves once the session has ended: unmounted by us, by `fusermount3 -u`, or aborted. */
  readonly closed: Promise<void>;
  conn: ConnectionInfo | undefined;

  private readonly lib: Libfuse;
  private readonly opts: MountOptions;
  private se: Pointer | null = null;
  private fd = -1;
  private reg: PollRegistration | undefined;
  private readonly fuseBuf = nativeBuffer(FUSE_BUF.alloc);
  private readonly fuseBufPtr = this.fuseBuf.ptr;
  private readonly keepAlive: unknown[] = [];
  private readonly callbacks: JSCallback[] = [];
  private readonly opStats: OpStats[] = [];
  /** Prometheus recorders per op index (util/metrics), resolved once so a request pays one call. */
  private readonly opMetrics: FuseOpRecorder[] = [];
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private draining = false;
  /** When the fd last ran dry (performance.now()), and whether the idle gap that followed was short. */
  private dryAt = 0;
  private backToBack = false;
  private spinMissStreak = 0;
  private spinPaused = 0;
  /** Drains started from a reply's continuation since the last poll wake-up (see afterAsyncReply). */
  private chainedDrains = 0;
  private ended = false;
  private destroyed = false;
  private resolveClosed!: () => void;

  private constructor(fs: LowLevelFs, opts: MountOptions, lib: Libfuse) {
    this.fs = fs;
    this.opts = opts;
    this.lib = lib;
    this.mountpoint = opts.mountpoint;
    this.reply = new Replier(lib);
    this.timeouts = { attr: opts.attrTimeout ?? 1, entry: opts.entryTimeout ?? 1 };
    this.spliceFlags = opts.splice === true ? FUSE_BUF_COPY.spliceMove : null;
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  /** Mounts `fs` at `opts.mountpoint` and starts serving. */
  static async mount(fs: LowLevelFs, opts: MountOptions): Promise<FuseSession> {
    const lib = loadLibfuse();
    const mountpoint = prepareMountpoint(opts.mountpoint);
    const s = new FuseSession(fs, { ...opts, mountpoint }, lib);
    s.create();
    s.start();
    live.add(s);
    return s;
  }

  /** Every session this process has mounted and not yet ended. */
  static get all(): readonly FuseSession[] {
    return [...live];
  }

  private create(): void {
    const o = this.opts;
    const mountOpts = [
      `fsname=${escapeOpt(o.fsname ?? "scorpio")}`,
      `subtype=${escapeOpt(o.subtype ?? "scorpio")}`,
      ...(o.allowOther ? ["allow_other"] : []),
      ...(o.defaultPermissions ? ["default_permissions"] : []),
      ...(o.readOnly ? ["ro"] : []),
      ...(o.autoUnmount ? ["auto_unmount"] : []),
      ...(o.extraOptions ?? []),
    ].join(",");
    const argvStrings = ["scorpio", "-o", mountOpts].map(nativeCString);
    const argv = nativeBuffer(8 * (argvStrings.length + 1));
    argvStrings.forEach((b, i) => argv.view.setBigUint64(8 * i, BigInt(b.ptr), true));
    const args = nativeBuffer(FUSE_ARGS.size);
    args.view.setInt32(FUSE_ARGS.argc, argvStrings.length, true);
    args.view.setBigUint64(FUSE_ARGS.argv, BigInt(argv.ptr), true);
    args.view.setInt32(FUSE_ARGS.allocated, 0, true); // libfuse must never free JS memory
    // libfuse keeps pointers into these; they must outlive the session.
    this.keepAlive.push(argvStrings, argv, args);

    const ops = nativeBuffer(OPS_SIZE);
    OPS.forEach((d, index) => {
      if (d.method !== null && typeof this.fs[d.method] !== "function") return;
      this.opStats[index] = { count: 0, errors: 0, totalMs: 0 };
      this.stats[d.name] = this.opStats[index]!;
      this.opMetrics[index] = fuseOpRecorder(o.engine ?? o.subtype ?? "scorpio", d.name);
      const cb = new JSCallback(d.bind(this, index) as (...a: unknown[]) => void, { args: [...d.args], returns: "void" });
      this.callbacks.push(cb);
      ops.view.setBigUint64(d.slot * 8, BigInt(cb.ptr!), true);
    });
    this.keepAlive.push(ops);

    let se: Pointer | null;
    if (this.lib.sessionNewVersioned) {
      const ver = nativeBuffer(LIBFUSE_VERSION.size);
      ver.view.setUint32(LIBFUSE_VERSION.major, Math.floor(MIN_FUSE_VERSION / 100), true);
      ver.view.setUint32(LIBFUSE_VERSION.minor, MIN_FUSE_VERSION % 100, true);
      this.keepAlive.push(ver);
      se = this.lib.sessionNewVersioned(args.ptr, ops.ptr, OPS_SIZE, ver.ptr, null);
    } else {
      se = this.lib.fuse.fuse_session_new(args.ptr, ops.ptr, OPS_SIZE, null) as Pointer | null;
    }
    if (!se) {
      this.freeCallbacks();
      throw fuseError(Errno.EINVAL, `fuse_session_new failed for ${this.mountpoint} (options: ${mountOpts})`);
    }
    this.se = se;
    const mountPath = nativeCString(this.mountpoint);
    this.keepAlive.push(mountPath);
    if (this.lib.fuse.fuse_session_mount(se, mountPath.ptr) !== 0) {
      this.lib.fuse.fuse_session_destroy(se);
      this.se = null;
      this.freeCallbacks();
      throw fuseError(
        Errno.EPERM,
        `cannot mount FUSE at ${this.mountpoint}: need root, or /dev/fuse access with a setuid fusermount3 (see 'scorpio doctor')`,
      );
    }
    this.fd = this.lib.fuse.fuse_session_fd(se);
    const flags = libc.fcntl(this.fd, 3 /* F_GETFL */, 0);
    if (flags < 0 || libc.fcntl(this.fd, 4 /* F_SETFL */, flags | O.NONBLOCK) < 0) {
      log.warn("cannot make /dev/fuse non-blocking", { mountpoint: this.mountpoint });
    }
    log.info("mounted", { mountpoint: this.mountpoint, libfuse: this.lib.version });
  }

  private start(): void {
    this.reg = watchFd(this.fd, (revents) => this.onReadable(revents));
    // The kernel's INIT request is already queued: drain right away rather than waiting a poll round.
    this.drain();
  }

  // ---- OpRuntime -------------------------------------------------------------------------------

  ctx(req: Pointer): RequestContext {
    return new LazyContext(this.lib, req);
  }

  run<T>(op: number, req: Pointer, call: () => MaybePromise<T>, ok: (req: Pointer, value: T) => void): void {
    const st = this.opStats[op]!;
    st.count++;
    const start = performance.now();
    this.fs.onRequest?.();
    let value: MaybePromise<T>;
    try {
      value = call();
    } catch (err) {
      this.fail(op, req, err, start);
      return;
    }
    if (value instanceof Promise) {
      this.inFlight++;
      value.then(
        (v) => { this.settle(); this.finish(op, req, v, ok, start); this.afterAsyncReply(); },
        (err) => { this.settle(); this.fail(op, req, err, start); this.afterAsyncReply(); },
      );
    } else this.finish(op, req, value, ok, start);
  }

  count(op: number, n: number): void {
    this.opStats[op]!.count += n;
  }

  onInit(conn: Pointer): void {
    const capable = read.u32(conn, CONN_INFO.capable);
    let want = read.u32(conn, CONN_INFO.want);
    const ask = (cap: number) => { if (capable & cap) want |= cap; };
    ask(CAP.ASYNC_READ);
    ask(CAP.PARALLEL_DIROPS);
    ask(CAP.AUTO_INVAL_DATA);
    ask(CAP.CACHE_SYMLINKS);
    ask(CAP.ATOMIC_O_TRUNC);
    if (this.fs.readdirplus) {
      ask(CAP.READDIRPLUS);
      if (this.opts.readdirplus === "always") want &= ~CAP.READDIRPLUS_AUTO;
      else ask(CAP.READDIRPLUS_AUTO);
    } else want &= ~(CAP.READDIRPLUS | CAP.READDIRPLUS_AUTO);
    if (this.opts.splice === true) { ask(CAP.SPLICE_WRITE); ask(CAP.SPLICE_MOVE); }
    else want &= ~(CAP.SPLICE_WRITE | CAP.SPLICE_MOVE);
    if (this.opts.writebackCache) ask(CAP.WRITEBACK_CACHE);
    else want &= ~CAP.WRITEBACK_CACHE;
    writeU32(conn, CONN_INFO.want, want);
    this.conn = {
      protoMajor: read.u32(conn, CONN_INFO.protoMajor),
      protoMinor: read.u32(conn, CONN_INFO.protoMinor),
      capable,
      want,
      maxWrite: read.u32(conn, CONN_INFO.maxWrite),
      maxReadahead: read.u32(conn, CONN_INFO.maxReadahead),
    };
    try {
      this.fs.init?.(this.conn);
    } catch (err) {
      log.error("filesystem init failed", { error: err as Error });
    }
  }

  onDestroy(): void {
    try {
      this.fs.destroy?.();
    } catch (err) {
      log.error("filesystem destroy failed", { error: err as Error });
    }
  }

  // ---- request loop ----------------------------------------------------------------------------

  private onReadable(revents: number): void {
    // Would a spin have caught this request? Then spin next time the fd runs dry. The gap seen here
    // includes our own wake-up latency (tens to hundreds of µs on a busy VM), hence the allowance.
    // Spins in a row that caught nothing mean requests come steadily but too far apart: pause
    // spinning for a number of wake-ups, so that pattern wastes a few spins per SPIN_PAUSE_WAKEUPS.
    if (this.spinMissStreak >= SPIN_MISSES_BEFORE_PAUSE && ++this.spinPaused >= SPIN_PAUSE_WAKEUPS) this.spinMissStreak = this.spinPaused = 0;
    this.backToBack = this.spinMissStreak < SPIN_MISSES_BEFORE_PAUSE && performance.now() - this.dryAt <= this.spinMs + SPIN_WAKE_ALLOWANCE_MS;
    this.dispatch.wakeups++;
    this.chainedDrains = 0;
    if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
      // The kernel side is gone (fusermount3 -u, umount, connection abort); reads now fail with ENODEV.
      this.drain();
      if (!this.ended) this.end("connection closed by the kernel");
      return;
    }
    this.drain();
  }

  private drain(): void {
    if (this.ended || this.draining || !this.se) return;
    this.draining = true;
    const f = this.lib.fuse;
    const se = this.se;
    const max = this.opts.maxBatch ?? 64;
    let handled = 0;
    try {
      for (;;) {
        let r = f.fuse_session_receive_buf(se, this.fuseBufPtr);
        if (r === EAGAIN) {
          this.dryAt = performance.now();
          // Never while a handler awaits: its reply needs the event loop this spin would hold.
          if (this.backToBack && this.spinMs > 0 && this.inFlight === 0) {
            r = this.spin(this.spinMs);
            if (r === EAGAIN) {
              this.dispatch.spinMisses++;
              this.spinMissStreak++;
            } else {
              this.dispatch.spinHits++;
              this.spinMissStreak = 0;
            }
          }
          if (r === EAGAIN) {
            this.backToBack = false;
            this.reg?.arm();
            return;
          }
        }
        if (r === EINTR) continue;
        if (r <= 0 || f.fuse_session_exited(se)) {
          this.end(r === 0 ? "unmounted" : `read from /dev/fuse failed: ${errnoName(-r)}`);
          return;
        }
        try {
          f.fuse_session_process_buf(se, this.fuseBufPtr);
        } catch (err) {
          // A throw escaping an op adapter must not stop the loop: the fd would never be re-armed
          // and every later request would hang.
          log.error("request processing threw", { error: err as Error });
        }
        if (++handled >= max) {
          // Let timers and I/O completions run; the fd stays un-armed until we come back.
          setImmediate(() => this.drain());
          return;
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** The busy-poll window in effect, µs (0 = never spins). */
  get spinMicros(): number {
    return this.opts.spinMicros ?? DEFAULT_SPIN_MICROS;
  }

  private get spinMs(): number {
    return this.spinMicros / 1000;
  }

  /** Busy-polls the fd for up to `ms` after `dryAt`; the last `fuse_session_receive_buf` result. */
  private spin(ms: number): number {
    const until = this.dryAt + ms;
    const f = this.lib.fuse;
    let r = EAGAIN;
    while (r === EAGAIN && performance.now() < until) r = f.fuse_session_receive_buf(this.se!, this.fuseBufPtr);
    return r;
  }

  private finish<T>(op: number, req: Pointer, value: T, ok: (req: Pointer, value: T) => void, start: number): void {
    const st = this.opStats[op]!;
    const ms = performance.now() - start;
    st.totalMs += ms;
    this.opMetrics[op]!(ms / 1000, true);
    if (this.destroyed) return;
    try {
      ok(req, value);
    } catch (err) {
      st.errors++;
      log.error(`${OPS[op]!.name}: reply failed`, { error: err as Error });
      this.reply.err(req, Errno.EIO);
    }
  }

  private fail(op: number, req: Pointer, err: unknown, start: number): void {
    const st = this.opStats[op]!;
    st.errors++;
    const ms = performance.now() - start;
    st.totalMs += ms;
    this.opMetrics[op]!(ms / 1000, false);
    if (this.destroyed) return;
    const errno = errnoOf(err);
    if (errno === undefined) {
      log.error(`${OPS[op]!.name}: handler failed, replying EIO`, { error: err as Error, stack: (err as Error)?.stack });
      this.reply.err(req, Errno.EIO);
    } else {
      if (log.enabled("debug")) log.debug(`${OPS[op]!.name}: ${errnoName(errno)}`, { message: (err as Error)?.message });
      this.reply.err(req, errno);
    }
  }

  /**
   * The last awaited reply just went out and a synchronous client sends its next request within
   * microseconds: read it now (spinning for it if need be) instead of waiting for the poll Worker to
   * wake us. At most MAX_CHAINED_DRAINS in a row from here, so a long burst still lets timers and I/O
   * run (the poll path resumes, which yields between batches).
   */
  private afterAsyncReply(): void {
    if (this.inFlight !== 0 || this.draining || this.ended) return;
    // Idle from now on: the next request's gap (onReadable) counts from this reply, not from when
    // the awaiting request was read.
    this.dryAt = performance.now();
    if (!this.backToBack || ++this.chainedDrains > MAX_CHAINED_DRAINS) return;
    this.drain();
  }

  private settle(): void {
    if (--this.inFlight === 0 && this.idleWaiters.length) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  // ---- notifications ---------------------------------------------------------------------------

  /** Drops the kernel's cached attributes and data of `ino` (off/len 0 = all data). */
  async invalidateInode(ino: number, off = 0, len = 0): Promise<void> {
    if (!this.se || this.ended) return;
    await sendNotification({ kind: "inode", se: Number(this.se), ino, off, len });
  }

  /** Drops the kernel's cached entry `name` in directory `parent`. */
  async invalidateEntry(parent: number, name: string): Promise<void> {
    if (!this.se || this.ended) return;
    await sendNotification({ kind: "entry", se: Number(this.se), parent, name });
  }

  /**
   * Puts the content of each file into the kernel's page cache of its inode (from offset 0), so reads
   * of it need no READ request. One notification batch; the kernel must know each inode (else that one
   * is skipped) and each file must hold exactly what a read of its inode returns (a file of another
   * size than given is skipped).
   */
  async storeContents(files: ReadonlyArray<StoreFile>): Promise<void> {
    if (!this.se || this.ended || files.length === 0) return;
    const rc = await sendNotification({ kind: "store", se: Number(this.se), files });
    if (rc !== 0) log.debug("page cache store failed", { errno: -rc });
  }

  /** Tells the kernel `name` (inode `child`) was deleted from `parent`. */
  async notifyDelete(parent: number, child: number, name: string): Promise<void> {
    if (!this.se || this.ended) return;
    await sendNotification({ kind: "delete", se: Number(this.se), parent, child, name });
  }

  // ---- shutdown --------------------------------------------------------------------------------

  /**
   * Unmounts and frees the session. Requests still being handled get up to `drainMs` to finish;
   * their replies after that are dropped (the kernel has already failed them with ENOTCONN).
   */
  async unmount(drainMs = DEFAULT_DRAIN_DEADLINE_MS): Promise<void> {
    if (this.destroyed) return this.closed;
    if (!this.ended) {
      this.lib.fuse.fuse_session_exit(this.se!);
      this.end("unmount requested");
    }
    await this.waitIdle(drainMs);
    this.destroy();
  }

  private waitIdle(ms: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.idleWaiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  private end(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.reg?.close();
    this.reg = undefined;
    const se = this.se!;
    if (findMount(this.mountpoint)) {
      this.lib.fuse.fuse_session_unmount(se);
      if (findMount(this.mountpoint)) {
        try {
          lazyUnmount(this.mountpoint);
        } catch (err) {
          log.error("unmount failed", { mountpoint: this.mountpoint, error: err as Error });
        }
      }
    }
    log.info("unmounted", { mountpoint: this.mountpoint, reason });
    live.delete(this);
    // Free libfuse's state once running handlers have had their chance to reply.
    void this.waitIdle(DEFAULT_DRAIN_DEADLINE_MS).then(() => this.destroy());
  }

  private destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const se = this.se;
    this.se = null;
    if (se) {
      const mem = read.ptr(this.fuseBufPtr, FUSE_BUF.mem);
      this.lib.fuse.fuse_session_destroy(se);
      // libfuse malloc'ed the receive buffer into our fuse_buf; it is ours to free.
      if (mem) libc.free(mem as unknown as Pointer);
    }
    this.freeCallbacks();
    this.resolveClosed();
  }

  private freeCallbacks(): void {
    // Closing a JSCallback while libfuse could still call it would crash; by now the session is gone.
    for (const cb of this.callbacks) cb.close();
    this.callbacks.length = 0;
  }
}

function writeU32(p: Pointer, off: number, v: number): void {
  new Uint32Array(toArrayBuffer(p, off, 4))[0] = v >>> 0;
}


function escapeOpt(s: string): string {
  // libfuse splits -o on commas; a backslash escapes one.
  return s.replace(/\\/g, "\\\\").replace(/,/g, "\\,");
}

function fuseError(errno: number, message: string): FsError {
  return new FsError(errno, message);
}

/** Unmounts every live session: for SIGINT/SIGTERM handlers and fatal-error exits. */
export async function unmountAll(drainMs = 2_000): Promise<void> {
  await Promise.all([...live].map((s) => s.unmount(drainMs).catch((err) => log.error("unmount failed", { mountpoint: s.mountpoint, error: err as Error }))));
}
