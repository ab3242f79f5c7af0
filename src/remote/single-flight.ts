/**
 * @module remote/single-flight — collapses concurrent calls for the same key into one execution.
 * The first caller starts the work; later callers share its promise until it settles. Nothing is cached
 * after settling: caching is the store's job.
 */

export class SingleFlight<K, V> {
  private readonly inflight = new Map<K, Promise<V>>();

  /** Number of keys currently in flight (for stats and tests). */
  get size(): number {
    return this.inflight.size;
  }

  has(key: K): boolean {
    return this.inflight.has(key);
  }

  do(key: K, fn: () => Promise<V>): Promise<V> {
    const existing = this.inflight.get(key);
    if (existing) return existing;
    const p = (async () => {
      try {
        return await fn();
      } finally {
        this.inflight.delete(key);
      }
    })();
    this.inflight.set(key, p);
    return p;
  }
}

/**
 * Waits for `p` but gives up when `signal` fires: lets one caller of a shared flight stop waiting
 * without cancelling the work for the others.
 */
export function raceSignal<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
