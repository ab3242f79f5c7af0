/**
 * @module fuse/version — the libfuse version this binding needs. One constant for the daemon (which refuses
 * to mount with an older library) and for `scorpio doctor` (which must fail on exactly the same versions).
 */

/** Oldest libfuse whose lowlevel ABI this binding was written against, as `fuse_version()` returns it (314 = 3.14). */
export const MIN_FUSE_VERSION = 314;

/** 314 → "3.14". */
export function formatFuseVersion(v: number): string {
  return `${Math.floor(v / 100)}.${v % 100}`;
}
