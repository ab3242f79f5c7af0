/**
 * For the FUSE servers the tests and benches run as child processes (memfs, overlay, passthrough,
 * synthetic): unmount everything and exit 0 on SIGINT, SIGTERM or SIGHUP, and exit 1 after an
 * uncaught exception — never leaving a stale mount behind.
 */
import { unmountAll } from "../../src/fuse/index.ts";

export function unmountOnExit(cleanup: () => void = () => {}): void {
  const exit = async (code: number) => {
    await unmountAll();
    cleanup();
    process.exit(code);
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => void exit(0));
  process.on("uncaughtException", (err) => {
    console.error(err);
    void exit(1);
  });
}
