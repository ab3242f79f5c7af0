/**
 * @module fuse/dispatch — tells the JS thread when a /dev/fuse fd has requests to read.
 *
 * One Worker per process blocks in poll(2) over every registered fd (plus an eventfd used to wake it)
 * and posts the ready slots to the main thread, which then drains the fd itself with non-blocking
 * reads. No native thread ever calls into JavaScript, and no request crosses threads: libfuse's op
 * callbacks run synchronously on the JS thread while it drains (see docs/architecture.md, "FUSE
 * dispatch", and shared/design/fuse-dispatch.md for the measured alternatives).
 *
 * Control flows through a SharedArrayBuffer: slot i holds an fd and a state (FREE, ARMED, FIRED).
 * The worker polls ARMED slots only; when one fires it marks it FIRED and stops polling it until the
 * main thread re-arms it, so a readable fd never makes the worker spin.
 */
import { ptr } from "bun:ffi";
import { loadLibfuse } from "./libfuse.ts";
import { logger } from "../util/log.ts";

const log = logger("fuse/dispatch");

const MAX_SLOTS = 4096;
const HEADER = 4; // [0] stop flag, [1] high-water slot count, [2] eventfd, [3] unused
const FREE = 0;
const ARMED = 1;
const FIRED = 2;

export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

// Runs inside the Worker. Kept as a string so it survives `bun build --compile` without a second entry point.
const WORKER_SOURCE = `
import { dlopen, FFIType, ptr } from "bun:ffi";
const libc = dlopen("libc.so.6", {
  poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
  read: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
});
const HEADER = ${HEADER}, ARMED = ${ARMED}, FIRED = ${FIRED}, MAX = ${MAX_SLOTS};
self.onmessage = (ev) => {
  const shared = new Int32Array(ev.data.shared);
  const efd = shared[2];
  const pfd = new Int32Array(2 * (MAX + 1));
  const pfdPtr = ptr(pfd);
  const slotOf = new Int32Array(MAX + 1);
  const scratch = new BigUint64Array(1);
  const scratchPtr = ptr(scratch);
  while (Atomics.load(shared, 0) === 0) {
    pfd[0] = efd; pfd[1] = 1;
    let n = 1;
    const high = Atomics.load(shared, 1);
    for (let i = 0; i < high; i++) {
      if (Atomics.load(shared, HEADER + 2 * i) === ARMED) {
        pfd[2 * n] = shared[HEADER + 2 * i + 1];
        pfd[2 * n + 1] = 1;
        slotOf[n] = i;
        n++;
      }
    }
    const r = libc.symbols.poll(pfdPtr, n, 1000);
    if (r <= 0) continue;
    if ((pfd[1] >>> 16) !== 0) libc.symbols.read(efd, scratchPtr, 8);
    let ready = null;
    for (let k = 1; k < n; k++) {
      const revents = pfd[2 * k + 1] >>> 16;
      if (revents === 0) continue;
      const slot = slotOf[k];
      if (Atomics.compareExchange(shared, HEADER + 2 * slot, ARMED, FIRED) !== ARMED) continue;
      (ready ??= []).push(slot, revents);
    }
    if (ready) postMessage(ready);
  }
  postMessage("stopped");
};
`;

export interface PollRegistration {
  /** Ask to be told again when the fd is readable. Call after draining it to EAGAIN. */
  arm(): void;
  /** Stop watching the fd (does not close it). */
  close(): void;
}

type ReadyHandler = (revents: number) => void;

class Poller {
  private readonly shared = new Int32Array(new SharedArrayBuffer(4 * (HEADER + 2 * MAX_SLOTS)));
  private readonly handlers: Array<ReadyHandler | undefined> = [];
  private readonly worker: Worker;
  private readonly efd: number;
  private readonly wakeBuf = new BigUint64Array([1n]);
  private readonly wakePtr = ptr(this.wakeBuf);
  private readonly libc = loadLibfuse().libc;
  private active = 0;

  constructor() {
    this.efd = this.libc.eventfd(0, 0o2000000 /* EFD_CLOEXEC */ | 0o4000 /* EFD_NONBLOCK */);
    if (this.efd < 0) throw new Error("eventfd() failed: cannot start the FUSE poll worker");
    this.shared[2] = this.efd;
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
    this.worker = new Worker(url);
    this.worker.onmessage = (ev: MessageEvent) => this.onMessage(ev.data);
    this.worker.onerror = (ev) => log.error("FUSE poll worker failed", { error: (ev as ErrorEvent).message });
    this.worker.postMessage({ shared: this.shared.buffer });
    this.worker.unref();
  }

  register(fd: number, onReady: ReadyHandler): PollRegistration {
    let slot = this.handlers.findIndex((h, i) => h === undefined && Atomics.load(this.shared, HEADER + 2 * i) === FREE);
    if (slot < 0) slot = this.handlers.length;
    if (slot >= MAX_SLOTS) throw new Error(`too many FUSE sessions in one process (max ${MAX_SLOTS})`);
    this.handlers[slot] = onReady;
    const base = HEADER + 2 * slot;
    Atomics.store(this.shared, base + 1, fd);
    Atomics.store(this.shared, base, FIRED);
    if (slot + 1 > Atomics.load(this.shared, 1)) Atomics.store(this.shared, 1, slot + 1);
    if (this.active++ === 0) this.worker.ref();
    let open = true;
    return {
      arm: () => {
        if (!open) return;
        Atomics.store(this.shared, base, ARMED);
        this.wake();
      },
      close: () => {
        if (!open) return;
        open = false;
        Atomics.store(this.shared, base, FREE);
        this.handlers[slot] = undefined;
        this.wake();
        if (--this.active === 0) this.worker.unref();
      },
    };
  }

  private wake(): void {
    this.libc.write(this.efd, this.wakePtr, 8);
  }

  private onMessage(data: unknown): void {
    if (!Array.isArray(data)) return;
    for (let i = 0; i < data.length; i += 2) {
      const handler = this.handlers[data[i] as number];
      if (handler) {
        try {
          handler(data[i + 1] as number);
        } catch (err) {
          log.error("FUSE ready handler threw", { error: err as Error });
        }
      }
    }
  }
}

let poller: Poller | undefined;

/** Watches `fd` for readability on the shared poll worker; `onReady` runs on the JS thread. */
export function watchFd(fd: number, onReady: ReadyHandler): PollRegistration {
  poller ??= new Poller();
  return poller.register(fd, onReady);
}

