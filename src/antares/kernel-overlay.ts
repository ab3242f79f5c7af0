/**
 * @module antares/kernel-overlay — job mounts served by Linux overlayfs: `lowerdir` = the CL layer
 * (when set) above the read-only FUSE view of the job's path, `upperdir`/`workdir` on the host.
 *
 * mount(2) of an overlay resolves `lowerdir` through our own FUSE view, which this thread serves:
 * a synchronous mount here would deadlock. Every mount and unmount therefore runs in a child
 * process (`mount`/`umount` from util-linux), awaited asynchronously while this thread keeps
 * answering the view's requests.
 *
 * Options are chosen so that the upper layer keeps the one on-disk format the FUSE overlay and VCS
 * status read (0/0 whiteouts, `trusted.overlay.opaque`): no redirect xattrs (`redirect_dir=off`, so
 * renaming a directory that exists in a lower layer is EXDEV and tools copy), no metacopy, no index;
 * `xino=on` (below) only changes reported inode numbers, nothing on disk.
 */
import { logger } from "../util/log.ts";

const log = logger("antares/overlayfs");

/** How long one mount/umount child may take before we give up on it. */
export const MOUNT_HELPER_TIMEOUT_MS = 30_000;

/**
 * As on the FUSE overlay (issue 9): nothing in a job mount runs setuid/setgid with its owner's rights
 * or opens a device node, whoever made the file.
 */
const JOB_MOUNT_FLAGS = ["nosuid", "nodev"] as const;

/**
 * `xino=on`: one overlay inode (and `st_ino`) per upper inode. Without it, the names of a file
 * hard-linked after copy-up from our FUSE lower get separate overlay inodes whose cached size goes
 * stale: `copy_file_range` (cp, cat > file) through the other name then copies a truncated file
 * (seen on 6.18). The price: files that come from a lower layer report `st_ino` with the layer in
 * the top bits (above 2^53: JavaScript callers need `stat(…, { bigint: true })` to compare them).
 */
export const OVERLAY_FIXED_OPTIONS = ["redirect_dir=off", "index=off", "metacopy=off", "xino=on", ...JOB_MOUNT_FLAGS] as const;

/** Characters the overlayfs option parser treats specially in a layer path. */
const UNSAFE_PATH = /[,:\\\n]/;

export class MountHelperError extends Error {
  override name = "MountHelperError";
  constructor(message: string, readonly stderr: string) {
    super(message);
  }
}

/** Runs a util-linux helper in a child process; resolves on exit 0, rejects with its stderr otherwise. */
export async function runHelper(argv: string[], timeoutMs = MOUNT_HELPER_TIMEOUT_MS): Promise<void> {
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  try {
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    if (code !== 0) {
      const text = stderr.trim().replace(/\s+/g, " ");
      const why = proc.signalCode === "SIGKILL" ? `timed out after ${timeoutMs / 1000}s` : text || `exit code ${code}`;
      throw new MountHelperError(`${argv[0]} failed: ${why}`, text);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Null when every path can be given to overlayfs, else why not. */
export function unsafeLayerPath(paths: readonly string[]): string | null {
  const bad = paths.find((p) => UNSAFE_PATH.test(p));
  return bad === undefined ? null : `path ${JSON.stringify(bad)} contains ',', ':' or '\\', which overlayfs options cannot carry`;
}

export interface KernelOverlaySpec {
  mountpoint: string;
  /** Top first: the CL dir (when set), then the view; a read-only mount may end with an empty dir. */
  lowerDirs: readonly string[];
  /** Null for a read-only mount (lower layers only). */
  upperDir: string | null;
  workDir: string | null;
  /** Shown as the source in /proc/mounts. */
  source: string;
}

export function overlayOptionString(spec: KernelOverlaySpec): string {
  const opts = [`lowerdir=${spec.lowerDirs.join(":")}`];
  if (spec.upperDir !== null && spec.workDir !== null) opts.push(`upperdir=${spec.upperDir}`, `workdir=${spec.workDir}`);
  else opts.push("ro");
  opts.push(...OVERLAY_FIXED_OPTIONS);
  return opts.join(",");
}

export async function mountKernelOverlay(spec: KernelOverlaySpec): Promise<void> {
  const layers = [...spec.lowerDirs, ...(spec.upperDir ? [spec.upperDir] : []), ...(spec.workDir ? [spec.workDir] : [])];
  const unsafe = unsafeLayerPath(layers);
  if (unsafe) throw new MountHelperError(unsafe, "");
  await runHelper(["mount", "-n", "-t", "overlay", "-o", overlayOptionString(spec), spec.source, spec.mountpoint]);
}

/**
 * Unmounts; a mount still in use (open files, a shell's cwd) is detached instead: its users keep
 * the old tree until they let go, new opens see whatever is mounted next. Resolves true when it had
 * to detach (the old layers may still be read through the detached mount).
 */
export async function unmountKernelOverlay(mountpoint: string): Promise<boolean> {
  try {
    await runHelper(["umount", "-n", mountpoint]);
    return false;
  } catch (err) {
    const msg = (err as Error).message;
    if (/not mounted|no mount point/i.test(msg)) return false;
    log.info("overlay busy; detaching it", { mountpoint, reason: msg });
    await runHelper(["umount", "-n", "-l", mountpoint]);
    return true;
  }
}
