/**
 * @module server/bind-policy — who may reach the daemon. The API creates writable mounts as the daemon's
 * user (often root), so a daemon reachable from the network without a bearer token is refused unless the
 * operator opts in explicitly (`--insecure-bind`, e.g. inside a container whose port is published on
 * loopback only).
 */
import { isIP } from "node:net";

/** True for addresses only this host can reach: 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || h === "0:0:0:0:0:0:0:1" || /^::ffff:127\./.test(h);
  return h === "localhost";
}

export interface BindDecision {
  /** Undefined when the bind is allowed. */
  error?: string;
  /** Printed when the bind is allowed but exposes the API. */
  warning?: string;
}

/**
 * The policy for binding `host` with `token` (empty = no auth). `flag` names the opt-in option in the
 * error so the message says exactly what to type.
 */
export function checkBind(host: string, token: string, allowInsecure: boolean, flag = "--insecure-bind"): BindDecision {
  if (isLoopbackHost(host) || token !== "") return {};
  if (allowInsecure) {
    return { warning: `the HTTP API on ${host} is reachable from the network without a token (${flag}); anyone who can reach it can create mounts` };
  }
  return {
    error:
      `refusing to bind ${host}: a non-loopback address needs http_token (or SCORPIO_HTTP_TOKEN) so that other hosts cannot create mounts; ` +
      `bind 127.0.0.1, set a token, or pass ${flag} to accept the risk`,
  };
}
