/**
 * Polls `probe` every 100 ms until `ok` accepts its value or `ms` pass; returns the last value (the
 * caller's expect then says what was wrong). A bound on waiting, never a timing assertion.
 */
export async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  let v = await probe();
  while (!ok(v) && Date.now() < until) {
    await Bun.sleep(100);
    v = await probe();
  }
  return v;
}
