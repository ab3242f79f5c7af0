/**
 * @module remote/semaphore — a counting semaphore bounding concurrent requests (fetch_file_thread).
 * FIFO fairness; a waiter whose AbortSignal fires leaves the queue without taking a permit.
 */

export type Release = () => void;

export class Semaphore {
  private available: number;
  private readonly waiters: Array<{ grant: (r: Release) => void }> = [];

  constructor(readonly permits: number) {
    if (!Number.isInteger(permits) || permits < 1) throw new RangeError(`semaphore permits must be a positive integer, got ${permits}`);
    this.available = permits;
  }

  /** Permits currently free (for stats and tests). */
  get free(): number {
    return this.available;
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.waiters.length;
  }

  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.available > 0) {
      this.available--;
      return Promise.resolve(this.releaser());
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter = {
        grant: (r: Release) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(r);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Runs `fn` holding one permit. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private releaser(): Release {
    let released = false;
    return () => {
      // A double release would mint a permit out of thin air; make it a no-op.
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) next.grant(this.releaser());
      else this.available++;
    };
  }
}
