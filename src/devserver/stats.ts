/**
 * @module devserver/stats — request counters per path, so tests can see how many requests a client made
 * (single-flight, caching) without a proxy.
 */

export class ServerStats {
  private readonly byKey = new Map<string, number>();

  count(pathname: string, method: string): void {
    const k = `${method} ${pathname}`;
    this.byKey.set(k, (this.byKey.get(k) ?? 0) + 1);
  }

  /** Requests seen for `METHOD /path` (exact pathname, query ignored). */
  get(method: string, pathname: string): number {
    return this.byKey.get(`${method} ${pathname}`) ?? 0;
  }

  /** Total requests whose pathname starts with `prefix`. */
  total(prefix = "/"): number {
    let n = 0;
    for (const [k, v] of this.byKey) if (k.slice(k.indexOf(" ") + 1).startsWith(prefix)) n += v;
    return n;
  }

  reset(): void {
    this.byKey.clear();
  }
}
