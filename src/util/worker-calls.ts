/**
 * @module util/worker-calls — request/reply calls to a Worker thread: each message carries an id and
 * each reply names it; the worker is ref'd only while a call is out, so an idle one never keeps the
 * process alive. One implementation for the daemon's helper threads (kernel notifications, blob file
 * writes, pack parsing).
 */
import { logger } from "./log.ts";

const log = logger("worker");

export class WorkerCalls<Request extends object, Reply extends { id: number }> {
  readonly #worker: Worker;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #failure: Error | null = null;

  /** `name` says which thread failed in the log and in the errors of its calls. */
  constructor(worker: Worker, name: string) {
    this.#worker = worker;
    worker.onmessage = (ev: MessageEvent<Reply>) => {
      const p = this.#pending.get(ev.data.id);
      this.#pending.delete(ev.data.id);
      if (this.#pending.size === 0) worker.unref();
      p?.resolve(ev.data);
    };
    // A thread that failed answers nothing more: every call out, and every later one, is rejected.
    worker.onerror = (ev) => {
      const message = (ev as ErrorEvent).message;
      log.error(`${name} thread failed`, { error: message });
      this.#failure = new Error(`${name} thread failed: ${message}`);
      for (const p of this.#pending.values()) p.reject(this.#failure);
      this.#pending.clear();
      worker.terminate();
    };
    worker.unref();
  }

  /** True once the thread has failed: make a new one. */
  get failed(): boolean {
    return this.#failure !== null;
  }

  /** Posts `msg` (with its id added; `transfer` moves buffers instead of copying them) and resolves with the reply. */
  call(msg: Request, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...msg, id }, transfer);
    });
  }
}
