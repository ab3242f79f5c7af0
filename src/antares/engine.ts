/**
 * @module antares/engine — which overlay serves job mounts, and why. `kernel-overlayfs` (Linux
 * overlayfs over the read-only FUSE view) runs writes at native speed; `fuse-overlay` (served by
 * this daemon) works everywhere FUSE does. `antares_overlay_engine = "auto"` takes the kernel one
 * when a probe mount in the upper root works: that one probe covers a kernel without overlayfs,
 * missing CAP_SYS_ADMIN and an upper root on a filesystem overlayfs refuses as upper (an overlayfs
 * container root, some network filesystems).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import type { ScorpioConfig } from "../config/index.ts";
import { logger } from "../util/log.ts";
import { mountKernelOverlay, runHelper, unmountKernelOverlay, unsafeLayerPath } from "./kernel-overlay.ts";
import { messageOf } from "./errors.ts";

const log = logger("antares/engine");

export type OverlayEngine = "kernel-overlayfs" | "fuse-overlay";

export interface EngineChoice {
  engine: OverlayEngine;
  /** One line for logs and `doctor`. */
  reason: string;
  /** Forced to kernel-overlayfs but it cannot work: creates fail with this reason. */
  unusable?: string;
}

const CAP_SYS_ADMIN = 21n;

/** True when this process has CAP_SYS_ADMIN in its effective set (mount(2) needs it). */
export function hasSysAdmin(statusText?: string): boolean {
  try {
    const text = statusText ?? readFileSync("/proc/self/status", "utf8");
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(text);
    return m !== null && ((BigInt(`0x${m[1]}`) >> CAP_SYS_ADMIN) & 1n) === 1n;
  } catch {
    return false;
  }
}

export function kernelHasOverlay(): boolean {
  try {
    return /\boverlay$/m.test(readFileSync("/proc/filesystems", "utf8"));
  } catch {
    return false;
  }
}

/** Directory for overlayfs work dirs and probes, on the upper root's filesystem (a sibling of the uppers). */
export function workRootOf(config: Pick<ScorpioConfig, "antares_upper_root">): string {
  return join(config.antares_upper_root, ".work");
}

/**
 * Why kernel overlayfs cannot serve job mounts here, or null when a probe mount (tmp lower, upper
 * and work dirs in the upper root) worked. Never throws.
 */
export async function kernelOverlayUnavailable(config: Pick<ScorpioConfig, "antares_upper_root" | "antares_mount_root" | "antares_cl_root">): Promise<string | null> {
  if (process.platform !== "linux") return `overlayfs is Linux only (platform ${process.platform})`;
  if (!hasSysAdmin()) return "no CAP_SYS_ADMIN (mounting overlayfs needs it; run the daemon as root or with that capability)";
  if (!kernelHasOverlay()) {
    await runHelper(["modprobe", "overlay"], 10_000).catch(() => {});
    if (!kernelHasOverlay()) return "the kernel has no overlayfs (`modprobe overlay` failed)";
  }
  const unsafe = unsafeLayerPath([config.antares_upper_root, config.antares_mount_root, config.antares_cl_root]);
  if (unsafe) return unsafe;
  const probe = join(workRootOf(config), `probe-${randomUUID().slice(0, 8)}`);
  const [lower, upper, work, merged] = ["lower", "upper", "work", "merged"].map((d) => join(probe, d)) as [string, string, string, string];
  try {
    for (const d of [lower, upper, work, merged]) mkdirSync(d, { recursive: true });
    writeFileSync(join(lower, "f"), "lower\n");
    await mountKernelOverlay({ mountpoint: merged, lowerDirs: [lower], upperDir: upper, workDir: work, source: "scorpio-probe" });
    try {
      writeFileSync(join(merged, "f"), "upper\n");
      if (!existsSync(join(upper, "f"))) return "a probe overlay did not copy up into the upper root";
    } finally {
      await unmountKernelOverlay(merged);
    }
    return null;
  } catch (err) {
    return `a probe overlay with its upper in ${config.antares_upper_root} failed (${messageOf(err)}; the kernel log says why, e.g. an upper root on overlayfs or NFS)`;
  } finally {
    try {
      rmSync(probe, { recursive: true, force: true });
    } catch (err) {
      log.warn("could not remove the overlayfs probe directory", { dir: probe, error: err as Error });
    }
  }
}

/** Decides the engine for this daemon (once, at start). */
export async function chooseEngine(config: Pick<ScorpioConfig, "antares_overlay_engine" | "antares_upper_root" | "antares_mount_root" | "antares_cl_root">): Promise<EngineChoice> {
  const mode = config.antares_overlay_engine;
  if (mode === "fuse-overlay") return { engine: "fuse-overlay", reason: "forced by antares_overlay_engine = \"fuse-overlay\"" };
  const why = await kernelOverlayUnavailable(config);
  if (mode === "kernel-overlayfs") {
    if (why === null) return { engine: "kernel-overlayfs", reason: "forced by antares_overlay_engine = \"kernel-overlayfs\"; a probe mount works" };
    return { engine: "kernel-overlayfs", reason: `forced by antares_overlay_engine = "kernel-overlayfs", but unusable: ${why}`, unusable: why };
  }
  if (why === null) return { engine: "kernel-overlayfs", reason: "auto: a probe overlayfs mount in the upper root works" };
  return { engine: "fuse-overlay", reason: `auto: ${why}` };
}
