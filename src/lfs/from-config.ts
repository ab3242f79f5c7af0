/**
 * @module lfs/from-config — the LFS client a daemon uses, from the configuration: `lfs_url` (which follows
 * `base_url` when unset) and the same request deadline and retry budget as the Mega client.
 */
import type { ScorpioConfig } from "../config/index.ts";
import { createLfsClient, type LfsClient } from "../remote/lfs-client.ts";

/** The configuration keys the LFS client follows. */
export type LfsClientConfig = Pick<ScorpioConfig, "lfs_url" | "dicfuse_fetch_dir_timeout_secs" | "dicfuse_fetch_dir_max_retries" | "fetch_file_thread">;

export function lfsClientFor(config: LfsClientConfig, opts: { token?: string } = {}): LfsClient {
  return createLfsClient({
    lfsUrl: config.lfs_url,
    token: opts.token,
    requestTimeoutMs: config.dicfuse_fetch_dir_timeout_secs * 1000,
    // As megaClientFor: the original counts attempts, our clients count extra attempts.
    maxRetries: Math.max(0, config.dicfuse_fetch_dir_max_retries - 1),
    // LFS objects are large: a few transfers at once, independent of fetch_file_thread.
    concurrency: Math.max(1, Math.min(4, config.fetch_file_thread)),
  });
}
