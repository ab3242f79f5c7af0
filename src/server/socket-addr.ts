/**
 * @module server/socket-addr — parses `ip:port` socket addresses the way the original (Rust `SocketAddr`)
 * did: an IPv4 literal or a bracketed IPv6 literal, then a port. Host names are rejected on purpose so a
 * typo never silently binds the wrong interface.
 */
import { isIP } from "node:net";

export interface SocketAddr {
  /** The IP literal without brackets. */
  host: string;
  port: number;
  family: 4 | 6;
}

/** Returns the parsed address, or throws an Error whose message explains what is wrong. */
export function parseSocketAddr(text: string): SocketAddr {
  const trimmed = text.trim();
  let host: string;
  let portText: string;
  if (trimmed.startsWith("[")) {
    const close = trimmed.indexOf("]");
    if (close < 0 || trimmed[close + 1] !== ":") throw new Error("invalid socket address syntax");
    host = trimmed.slice(1, close);
    portText = trimmed.slice(close + 2);
    if (isIP(host) !== 6) throw new Error("invalid socket address syntax");
  } else {
    const colon = trimmed.lastIndexOf(":");
    if (colon < 0) throw new Error("invalid socket address syntax");
    host = trimmed.slice(0, colon);
    portText = trimmed.slice(colon + 1);
    if (isIP(host) !== 4) throw new Error("invalid socket address syntax");
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new Error("invalid socket address syntax");
  return { host, port: Number(portText), family: isIP(host) === 6 ? 6 : 4 };
}

/** Renders an address back as `ip:port` (`[v6]:port`). */
export function formatSocketAddr(addr: { host: string; port: number }): string {
  return isIP(addr.host) === 6 ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}

/**
 * The address a client on this host should dial for a daemon bound to `addr`: a wildcard bind
 * (`0.0.0.0`, `::`) is reached through loopback.
 */
export function dialableUrl(addr: string): string {
  const parsed = parseSocketAddr(addr);
  let host = parsed.host;
  if (host === "0.0.0.0") host = "127.0.0.1";
  if (host === "::") host = "::1";
  return `http://${formatSocketAddr({ host, port: parsed.port })}`;
}
