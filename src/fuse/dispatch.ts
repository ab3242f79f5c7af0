/**
 * @module fuse/dispatch — tells the JS thread when a /dev/fuse fd has requests to read.
 *
 * One Worker per process waits in epoll_wait(2) on an epoll set holding every mounted session's fd,
 * registered EPOLLIN|EPOLLONESHOT, and posts the slot numbers that became readable. The JS thread then
 * drains that fd itself with non-blocking reads and re-arms it with epoll_ctl(EPOLL_CTL_MOD) — a single
 * syscall that needs no wake-up of the Worker. No native thread ever calls into JavaScript and no
 * request crosses threads: libfuse's op callbacks run synchronously on the JS thread while it drains
 * (see docs/architecture.md, "FUSE dispatch", and shared/design/fuse-dispatch.md).
 */
import { libc } from "../util/libc.ts";
import { logger } from "../util/log.ts";
import { nativeBuffer } from "./memory.ts";

const log = logger("fuse/dispatch");

export const POLLIN = 0x1;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;

const EPOLLIN = 0x1;
const EPOLLONESHOT = 1 << 30;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;
const EPOLL_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
/** `data` of the eventfd that stops the Worker. */
const STOP_SLOT = 0xffffffff;
/** `struct epoll_event` is packed on x86_64 (12 bytes, data at 4) and naturally aligned elsewhere (16, 8). */
const EV_SIZE = process.arch === "x64" ? 12 : 16;
const EV_DATA = process.arch === "x64" ? 4 : 8;
const MAX_EVENTS = 64;

// Runs inside the Worker. Kept as a string so it survives `bun build --compile` without a second entry point.
const WORKER_SOURCE = `
import { dlopen, FFIType, ptr } from "bun:ffi";
const libc = dlopen("libc.so.6", {
  epoll_wait: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
}).symbols;
self.onmessage = (ev) => {
  const { epfd, stop } = ev.data;
  const flags = new Int32Array(stop);
  const events = new ArrayBuffer(${EV_SIZE} * ${MAX_EVENTS});
  const view = new DataView(events);
  const eventsPtr = ptr(new Uint8Array(events));
  while (Atomics.load(flags, 0) === 0) {
    const n = libc.epoll_wait(epfd, eventsPtr, ${MAX_EVENTS}, 1000);
    if (n <= 0) continue;
    const ready = [];
    for (let i = 0; i < n; i++) {
      const slot = view.getUint32(i * ${EV_SIZE} + ${EV_DATA}, true);
      if (slot === ${STOP_SLOT}) continue;
      ready.push(slot, view.getUint32(i * ${EV_SIZE}, true));
    }
    if (ready.length) postMessage(ready);
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
  private readonly handlers: Array<ReadyHandler | undefined> = [];
  private readonly worker: Worker;
  private readonly epfd: number;
  private readonly event = nativeBuffer(16);
  private readonly stop = new SharedArrayBuffer(4);
  private active = 0;

  constructor() {
    this.epfd = libc.epoll_create1(EPOLL_CLOEXEC);
    if (this.epfd < 0) throw new Error("epoll_create1() failed: cannot start the FUSE poll worker");
    const efd = libc.eventfd(0, EPOLL_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0 || this.ctl(EPOLL_CTL_ADD, efd, EPOLLIN, STOP_SLOT) < 0) throw new Error("eventfd() failed: cannot start the FUSE poll worker");
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
    this.worker = new Worker(url);
    this.worker.onmessage = (ev: MessageEvent) => this.onMessage(ev.data);
    this.worker.onerror = (ev) => log.error("FUSE poll worker failed", { error: (ev as ErrorEvent).message });
    this.worker.postMessage({ epfd: this.epfd, stop: this.stop });
    this.worker.unref();
  }

  private ctl(op: number, fd: number, events: number, slot: number): number {
    const dv = this.event.view;
    dv.setUint32(0, events >>> 0, true);
    dv.setUint32(EV_DATA, slot >>> 0, true);
    dv.setUint32(EV_DATA + 4, 0, true);
    return libc.epoll_ctl(this.epfd, op, fd, this.event.ptr);
  }

  register(fd: number, onReady: ReadyHandler): PollRegistration {
    let slot = this.handlers.indexOf(undefined);
    if (slot < 0) slot = this.handlers.length;
    this.handlers[slot] = onReady;
    // Added disarmed (no events): the session drains first, then arms.
    if (this.ctl(EPOLL_CTL_ADD, fd, EPOLLONESHOT, slot) < 0) {
      this.handlers[slot] = undefined;
      throw new Error(`epoll_ctl(ADD) failed for fd ${fd}`);
    }
    if (this.active++ === 0) this.worker.ref();
    let open = true;
    return {
      arm: () => {
        if (open) this.ctl(EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLONESHOT, slot);
      },
      close: () => {
        if (!open) return;
        open = false;
        this.ctl(EPOLL_CTL_DEL, fd, 0, slot);
        this.handlers[slot] = undefined;
        if (--this.active === 0) this.worker.unref();
      },
    };
  }

  private onMessage(data: unknown): void {
    if (!Array.isArray(data)) return;
    for (let i = 0; i < data.length; i += 2) {
      const handler = this.handlers[data[i] as number];
      if (!handler) continue;
      try {
        handler(data[i + 1] as number);
      } catch (err) {
        log.error("FUSE ready handler threw", { error: err as Error });
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

