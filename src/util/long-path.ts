/**
 * @module util/long-path — host paths longer than the kernel takes in one system call (PATH_MAX,
 * 4096 bytes). The overlay keeps entries at any depth its mount reaches (the kernel walks a FUSE
 * mount one name at a time), and its host paths are the layer root plus that whole path. A path
 * over the limit is walked down in pieces with O_PATH directory fds, each opened relative to the
 * previous one, and handed back as `/proc/self/fd/<fd>/<rest>`: the same bytes resolved relative to
 * a directory fd, short enough for any call that takes a path (node:fs or libc).
 *
 * The fds are closed in a microtask, once the synchronous code that asked for the path has run, and
 * never cached by path (a rename would leave a cached fd pointing elsewhere): a returned path must be
 * used right away, by synchronous calls (never across an `await`), as every caller in the overlay does.
 */
import { closeSync, openSync } from "node:fs";
import { Errno, FsError } from "./errno.ts";

/** Longest path passed through unchanged (PATH_MAX minus the NUL, with room to spare). */
const LIMIT = 4000;
/** Longest piece opened in one step, leaving room for the `/proc/self/fd/<n>/` prefix. */
const PIECE = 3900;
const O_PATH = 0o10000000;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;
let pending: number[] = [];

function closePending(): void {
  const fds = pending;
  pending = [];
  for (const fd of fds) closeSync(fd);
}

function keep(fd: number): void {
  if (pending.length === 0) queueMicrotask(closePending);
  pending.push(fd);
}

function viaFd(fd: number, rest: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`/proc/self/fd/${fd}/`), rest]);
}

/** `path` itself when it is short enough, else an equivalent path through directory fds (see the module doc). */
export function reachablePath<P extends string | Buffer>(path: P): P | Buffer {
  const len = typeof path === "string" ? (path.length * 3 <= LIMIT ? 0 : Buffer.byteLength(path)) : path.length;
  if (len <= LIMIT) return path;
  let rest: Buffer = typeof path === "string" ? Buffer.from(path) : path;
  let fd = -1;
  while (rest.length > LIMIT) {
    const cut = rest.lastIndexOf(0x2f /* / */, PIECE);
    if (cut <= 0) throw new FsError(Errno.ENAMETOOLONG, "a path has a piece longer than PATH_MAX without a '/'");
    const head = rest.subarray(0, cut);
    const next = openSync(fd < 0 ? head : viaFd(fd, head), O_PATH | O_DIRECTORY | O_CLOEXEC);
    keep(next);
    fd = next;
    rest = rest.subarray(cut + 1);
  }
  return viaFd(fd, rest);
}
