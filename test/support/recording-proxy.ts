/**
 * Test helper: an HTTP proxy in front of a Mega-compatible server that records every request's path
 * and can be switched to "hung" (it accepts requests and never answers, like a server that froze).
 */
export interface RecordingProxy {
  readonly url: string;
  /** Request paths seen since the last reset, with their query. */
  readonly seen: string[];
  /** While true, requests are accepted and never answered. */
  hang: boolean;
  /** Requests whose path starts with one of the prefixes. */
  count(...prefixes: string[]): number;
  reset(): void;
  stop(): void;
}

/** The listing endpoints a warm tree must not need. */
export const LISTING_PATHS = ["/api/v1/file/tree", "/api/v1/tree"];

export function startRecordingProxy(upstream: string): RecordingProxy {
  const seen: string[] = [];
  const held: Array<() => void> = [];
  const proxy: RecordingProxy = {
    url: "",
    seen,
    hang: false,
    count: (...prefixes) => seen.filter((p) => prefixes.some((x) => p.startsWith(x))).length,
    reset: () => void seen.splice(0),
    stop: () => {
      for (const h of held.splice(0)) h();
      server.stop(true);
    },
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      seen.push(url.pathname + url.search);
      if (proxy.hang) {
        // Never answer; resolved (with an error) only when the proxy stops.
        await new Promise<void>((resolve) => held.push(resolve));
        return new Response("stopped", { status: 503 });
      }
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
      const res = await fetch(upstream + url.pathname + url.search, { method: req.method, headers: req.headers, body });
      // fetch already decoded the body: pass it on as plain bytes.
      const headers = new Headers(res.headers);
      headers.delete("content-encoding");
      if (req.method !== "HEAD") headers.delete("content-length");
      return new Response(req.method === "HEAD" ? null : await res.arrayBuffer(), { status: res.status, headers });
    },
  });
  return Object.assign(proxy, { url: `http://127.0.0.1:${server.port}` });
}
