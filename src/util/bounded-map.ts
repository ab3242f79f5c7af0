/**
 * @module util/bounded-map — a `Map` used as a bounded cache in insertion order: what is set goes to the
 * newest end, and past `max` entries the oldest goes. One helper for the caches that keep per-inode or
 * per-directory state (LFS decisions and attribute rules, page-cache pushes, walk positions).
 */

/** Sets `key` to `value` as the newest entry of `map`, dropping the oldest entry when `map` would exceed `max`. */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value as K);
  map.set(key, value);
}
