/**
 * @module fuse/mount-hygiene — mountpoint preparation and cleanup: create the directory, detect a
 * stale mount left by a dead daemon (ENOTCONN) and clear it with a lazy unmount, refuse to mount
 * over a live mount, list our mounts from /proc/self/mountinfo.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { Errno, FsError, errnoOf } from "../util/errno.ts";
import { cString, lastErrno, libc } from "../util/libc.ts";
import { logger } from "../util/log.ts";

const log = logger("fuse/mount");
const MNT_DETACH = 2;

export interface MountInfo {
  mountpoint: string;
  fstype: string;
  source: string;
}

/** Unescapes the octal escapes (\040 for space) that the kernel uses in mountinfo. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const right = line.slice(sep + 3).split(" ");
    if (left.length < 5 || right.length < 2) continue;
    out.push({ mountpoint: unescapeMount(left[4]!), fstype: right[0]!, source: unescapeMount(right[1]!) });
  }
  return out;
}

export function listMounts(): MountInfo[] {
  try {
    return parseMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
  } catch {
    return [];
  }
}

export function isFuseMount(m: MountInfo): boolean {
  return m.fstype === "fuse" || m.fstype.startsWith("fuse.") || m.fstype === "fuseblk";
}

export function findMount(path: string): MountInfo | undefined {
  const abs = resolve(path);
  const all = listMounts();
  for (let i = all.length - 1; i >= 0; i--) if (all[i]!.mountpoint === abs) return all[i];
  return undefined;
}

/** True when `path` is a mountpoint whose FUSE server is gone ("Transport endpoint is not connected"). */
export function isStaleMount(path: string): boolean {
  try {
    statSync(path);
    return false;
  } catch (err) {
    return errnoOf(err) === Errno.ENOTCONN;
  }
}

/**
 * Detaches a mount now (MNT_DETACH): works for stale mounts and busy ones. Through umount2(2) first
 * (root, or a service user granted CAP_SYS_ADMIN under NoNewPrivileges= where a setuid helper cannot
 * help); otherwise through `fusermount3 -uz` (setuid helper).
 */
export function lazyUnmount(path: string): void {
  const abs = resolve(path);
  if (libc.umount2(cString(abs), MNT_DETACH) === 0) return;
  const errno = lastErrno();
  if (errno === Errno.EINVAL) return; // not mounted (any more)
  if (errno !== Errno.EPERM) log.warn("umount2 failed, trying fusermount3", { path: abs, errno });
  for (const helper of ["fusermount3", "fusermount"]) {
    const r = spawnSync(helper, ["-uz", abs], { encoding: "utf8", timeout: 10_000 });
    if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") continue;
    if (r.status === 0) return;
    if (!findMount(abs)) return;
    throw new FsError(Errno.EBUSY, `cannot unmount ${abs}: ${r.stderr?.trim() || `${helper} exited ${r.status}`}`);
  }
  if (findMount(abs)) throw new FsError(Errno.EPERM, `cannot unmount ${abs}: no fusermount3 and not root`);
}

/**
 * Makes `path` ready to be mounted on: creates it if missing, clears a stale FUSE mount, and refuses
 * a live mount (two daemons on one mountpoint would hide each other).
 */
export function prepareMountpoint(path: string): string {
  const abs = resolve(path);
  if (isStaleMount(abs)) {
    log.warn("clearing stale mount (transport endpoint not connected)", { path: abs });
    lazyUnmount(abs);
  }
  if (!existsSync(abs)) mkdirSync(abs, { recursive: true });
  const st = statSync(abs);
  if (!st.isDirectory()) throw new FsError(Errno.ENOTDIR, `mountpoint ${abs} is not a directory`);
  const existing = findMount(abs);
  if (existing && isFuseMount(existing)) {
    throw new FsError(Errno.EBUSY, `${abs} is already mounted (${existing.fstype} from ${existing.source}); unmount it first`);
  }
  return abs;
}
