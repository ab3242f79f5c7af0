/**
 * @module overlay/whiteout — the on-disk markers of a layer directory: whiteouts (a name deleted from
 * the layers below) and opaque directories (a directory that hides everything below it).
 *
 * Written in the Linux overlayfs format when the daemon may create it — a character device 0/0 for a
 * whiteout, xattr `trusted.overlay.opaque=y` for an opaque directory — and otherwise in the aufs form:
 * an empty regular file `.wh.<name>` beside the hidden name, and `.wh..wh..opq` inside an opaque
 * directory. Both forms are always *read*, as are the opaque xattrs the original daemon and
 * fuse-overlayfs wrote (`user.fuseoverlayfs.opaque`, `user.overlay.opaque`), so old upper and CL
 * directories keep working whichever form made them. Knows nothing of FUSE or of the lower layer.
 */
import { lstatSync, mkdirSync, rmSync, writeFileSync, type BigIntStats, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Errno, errnoOf } from "../util/errno.ts";
import { fsPath } from "../util/names.ts";
import { lgetxattr, llistxattr, lsetxattr, mknod } from "./host-syscalls.ts";

export type WhiteoutFormat = "chardev" | "aufs";

/** Prefix of every aufs-style marker; names with it are never shown through the overlay. */
export const WH_PREFIX = ".wh.";
export const OPAQUE_MARKER = ".wh..wh..opq";
/** The opaque xattr we write (Linux overlayfs, needs CAP_SYS_ADMIN). */
export const OPAQUE_XATTR = "trusted.overlay.opaque";
/** Opaque xattrs we honour: ours, the original's (fuse-overlayfs), and unprivileged overlayfs's. */
export const OPAQUE_XATTRS_READ = [OPAQUE_XATTR, "user.fuseoverlayfs.opaque", "user.overlay.opaque"] as const;

const S_IFCHR = 0o020000;

/** Xattr names the overlay keeps for itself: never listed, read or set through the mount. */
export function isPrivateXattr(name: string): boolean {
  return name.startsWith("trusted.overlay.") || name.startsWith("user.overlay.") || name.startsWith("user.fuseoverlayfs.");
}

/** Names reserved for markers and copy-up temporaries: hidden from listings, refused on create. */
export function isPrivateName(name: string): boolean {
  return name.startsWith(WH_PREFIX);
}

function lstatOrNull(p: string): Stats | undefined {
  try {
    return lstatSync(fsPath(p), { throwIfNoEntry: false });
  } catch (err) {
    // `.wh.<name>` of a 252–255 byte name is too long to exist: no aufs whiteout can hide it.
    if (errnoOf(err) === Errno.ENAMETOOLONG) return undefined;
    throw err;
  }
}

function isChardevWhiteout(st: Stats | BigIntStats): boolean {
  return st.isCharacterDevice() && Number(st.rdev) === 0;
}

/** True when `p` (or a stat of it) is a whiteout in either form. */
export function isWhiteout(p: string | Stats | BigIntStats): boolean {
  if (typeof p !== "string") return isChardevWhiteout(p);
  if (basename(p).startsWith(WH_PREFIX) && basename(p) !== OPAQUE_MARKER) return true;
  const st = lstatOrNull(p);
  return st !== undefined && isChardevWhiteout(st);
}

/** The aufs whiteout file that hides `hostPath`. */
export function aufsWhiteoutOf(hostPath: string): string {
  return join(dirname(hostPath), WH_PREFIX + basename(hostPath));
}

/** True when a whiteout hides the name `hostPath` (the entry itself is a chardev 0/0, or `.wh.<name>` exists). */
export function hasWhiteout(hostPath: string, st?: Stats | BigIntStats): boolean {
  if (st && isChardevWhiteout(st)) return true;
  return lstatOrNull(aufsWhiteoutOf(hostPath)) !== undefined;
}

/** Removes a whiteout of either form at `hostPath`; returns whether there was one. */
export function clearWhiteout(hostPath: string): boolean {
  let had = false;
  const st = lstatOrNull(hostPath);
  if (st && isChardevWhiteout(st)) {
    rmSync(fsPath(hostPath), { force: true });
    had = true;
  }
  const aufs = aufsWhiteoutOf(hostPath);
  if (lstatOrNull(aufs)) {
    rmSync(fsPath(aufs), { force: true });
    had = true;
  }
  return had;
}

/** True when directory `hostDir` is opaque in any form we read. */
export function isOpaque(hostDir: string): boolean {
  const names = llistxattr(hostDir);
  for (const n of OPAQUE_XATTRS_READ) {
    if (!names.includes(n)) continue;
    const v = lgetxattr(hostDir, n);
    if (v && v.length > 0 && v[0] === 0x79 /* y */) return true;
  }
  return lstatOrNull(join(hostDir, OPAQUE_MARKER)) !== undefined;
}

/** Writes a whiteout at `hostPath` (whose parent exists) in `format`. */
export function writeWhiteout(hostPath: string, format: WhiteoutFormat): void {
  if (format === "chardev") mknod(hostPath, S_IFCHR | 0o000, 0);
  else writeFileSync(fsPath(aufsWhiteoutOf(hostPath)), "");
}

/** Marks the existing directory `hostDir` opaque in `format`. */
export function writeOpaque(hostDir: string, format: WhiteoutFormat): void {
  if (format === "chardev") lsetxattr(hostDir, OPAQUE_XATTR, new TextEncoder().encode("y"), 0);
  else writeFileSync(fsPath(join(hostDir, OPAQUE_MARKER)), "");
}

/**
 * Which form this process may write in `dir`: tries a 0/0 character device and a trusted xattr on a
 * scratch directory, and cleans up. EPERM on either (no CAP_MKNOD / CAP_SYS_ADMIN, or a filesystem
 * without trusted xattrs) selects the aufs form.
 */
export function probeWhiteoutFormat(dir: string): WhiteoutFormat {
  const scratch = join(dir, `${WH_PREFIX}${WH_PREFIX}probe.${process.pid}.${Date.now()}`);
  try {
    mkdirSync(scratch);
    mknod(join(scratch, "w"), S_IFCHR, 0);
    lsetxattr(scratch, OPAQUE_XATTR, new TextEncoder().encode("y"), 0);
    return "chardev";
  } catch {
    return "aufs";
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function ensureParent(hostPath: string): void {
  mkdirSync(fsPath(dirname(hostPath)), { recursive: true });
}

/**
 * Helpers for code that builds a layer directory outside a mount (the CL builder). Paths are
 * relative to the layer directory. Without an explicit format, the overlayfs form is tried first and
 * the aufs form used when the daemon may not create devices.
 */
export const WHITEOUT = {
  /** Replaces whatever is at `relPath` with a whiteout (creating parents); returns the form used. */
  makeWhiteout(dir: string, relPath: string, format?: WhiteoutFormat): WhiteoutFormat {
    const p = join(dir, relPath);
    ensureParent(p);
    rmSync(fsPath(p), { recursive: true, force: true });
    rmSync(fsPath(aufsWhiteoutOf(p)), { force: true });
    if (format) {
      writeWhiteout(p, format);
      return format;
    }
    try {
      writeWhiteout(p, "chardev");
      return "chardev";
    } catch (err) {
      if (errnoOf(err) !== Errno.EPERM && errnoOf(err) !== Errno.EACCES) throw err;
      writeWhiteout(p, "aufs");
      return "aufs";
    }
  },
  /** True when `p` (a host path or its lstat) is a whiteout in either form. */
  isWhiteout,
  /** Creates directory `relDir` (and parents) if needed and marks it opaque; returns the form used. */
  makeOpaque(dir: string, relDir: string, format?: WhiteoutFormat): WhiteoutFormat {
    const p = join(dir, relDir);
    mkdirSync(fsPath(p), { recursive: true });
    if (format) {
      writeOpaque(p, format);
      return format;
    }
    try {
      writeOpaque(p, "chardev");
      return "chardev";
    } catch (err) {
      if (![Errno.EPERM, Errno.EACCES, Errno.ENOTSUP].includes(errnoOf(err) as 1)) throw err;
      writeOpaque(p, "aufs");
      return "aufs";
    }
  },
  isOpaque,
  probe: probeWhiteoutFormat,
} as const;
