/**
 * @module server/sd-notify — systemd readiness (`Type=notify`). When systemd started us with a notify
 * socket (`NOTIFY_SOCKET`), the daemon reports READY once its HTTP address is bound and the workspace is
 * mounted, and STOPPING when it starts shutting down. Bun has no unix datagram sockets, so the message
 * goes through `systemd-notify` (the unit sets NotifyAccess=all, since the sender is our child).
 * Without NOTIFY_SOCKET nothing happens; a failure is logged, never fatal.
 */
import { logger } from "../util/log.ts";

const log = logger("server");

/** Sends `READY=1` (or `STOPPING=1`) with a status line; resolves when `systemd-notify` has exited. */
export async function sdNotify(state: "ready" | "stopping", status: string, env: Record<string, string | undefined> = process.env): Promise<void> {
  if (!env.NOTIFY_SOCKET) return;
  const args = state === "ready" ? ["--ready", `--pid=${process.pid}`] : [`--pid=${process.pid}`, "STOPPING=1"];
  try {
    const proc = Bun.spawn(["systemd-notify", ...args, `--status=${status}`], { stdin: "ignore", stdout: "ignore", stderr: "pipe", env: env as Record<string, string> });
    const killer = setTimeout(() => proc.kill(), 5_000);
    const code = await proc.exited;
    clearTimeout(killer);
    if (code !== 0) log.warn("systemd-notify failed", { state, code, stderr: (await new Response(proc.stderr).text()).trim() });
  } catch (err) {
    log.warn("cannot run systemd-notify; is systemd installed?", { state, error: err as Error });
  }
}
