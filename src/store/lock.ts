/**
 * @module store/lock — one process owns a store directory. `<store>/LOCK` is created with O_EXCL and
 * holds the owner's pid and process start time; a lock whose owner is gone (or whose pid now belongs
 * to a different process) is stale and taken over. A live owner gives a clear EBUSY naming the pid,
 * where the original panicked on sled's lock. SQLite's exclusive locking mode (store/database.ts) is
 * the second, kernel-enforced guard. Knows nothing of what the store contains.
 */
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, fsyncSync } from "node:fs";
import { join } from "node:path";
import { Errno, FsError, errnoOf } from "../util/errno.ts";
import { logger } from "../util/log.ts";

const log = logger("store");

export interface StoreLock {
  readonly path: string;
  /** True when a lock left by a dead process was taken over: the last run did not shut down cleanly. */
  readonly recoveredFromCrash: boolean;
  release(): void;
}

interface Owner {
  pid: number;
  /** Kernel start time of the process (clock ticks since boot), when /proc is readable. */
  start: string | null;
}

/** Field 22 of /proc/<pid>/stat; distinguishes a live owner from a later process that got its pid. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may contain spaces and parentheses; fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null; // field 22 overall = index 19 after "pid (comm)"
  } catch {
    return null;
  }
}

function isAlive(owner: Owner): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    // EPERM means the process exists but belongs to someone else: still alive.
    if (errnoOf(err) !== Errno.EPERM) return false;
  }
  if (owner.start === null) return true;
  const now = processStartTime(owner.pid);
  return now === null || now === owner.start;
}

function readOwner(path: string): Owner | null {
  try {
    const [pidLine, startLine] = readFileSync(path, "utf8").split("\n");
    const pid = Number(pidLine);
    if (!Number.isInteger(pid) || pid <= 0) return null;
    return { pid, start: startLine ? startLine : null };
  } catch {
    return null;
  }
}

/**
 * Takes the lock or throws FsError(EBUSY). A LOCK file that cannot be parsed (e.g. a crash between
 * create and write) counts as stale. Two processes breaking the same stale lock at the same instant
 * could both succeed here; SQLite's exclusive lock then refuses the second one.
 */
export function acquireStoreLock(dir: string): StoreLock {
  const path = join(dir, "LOCK");
  let recoveredFromCrash = false;
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o644);
    } catch (err) {
      if (errnoOf(err) !== Errno.EEXIST) throw err;
      const owner = readOwner(path);
      if (owner && isAlive(owner)) {
        const who = owner.pid === process.pid ? "this process" : `process ${owner.pid}`;
        throw FsError.of("EBUSY", `store ${dir} is in use by ${who} (lock file ${path})`);
      }
      log.warn("removing stale store lock", { path, pid: owner?.pid ?? null });
      recoveredFromCrash = true;
      try { unlinkSync(path); } catch (e) { if (errnoOf(e) !== Errno.ENOENT) throw e; }
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n${processStartTime(process.pid) ?? ""}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      path,
      recoveredFromCrash,
      release() {
        if (released) return;
        released = true;
        // Only remove the file if it is still ours (never another process's fresh lock).
        if (readOwner(path)?.pid === process.pid) {
          try { unlinkSync(path); } catch {}
        }
      },
    };
  }
  throw FsError.of("EBUSY", `could not take the store lock ${path}`);
}
