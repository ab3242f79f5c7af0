/**
 * @module config/mount-settings — the FUSE session settings every mount of the daemon (workspace,
 * job mounts, legacy checkouts) takes from the configuration, so the three stay alike.
 */
import type { ScorpioConfig } from "./types.ts";

export interface MountSettings {
  /** `allow_other`: other users may enter the mount. */
  allowOther: boolean;
  /** Busy-poll window after a burst of requests, µs (0 = off). */
  spinMicros: number;
}

export function mountSettings(config: ScorpioConfig): MountSettings {
  return { allowOther: config.mount_allow_other, spinMicros: config.fuse_spin_micros };
}
