/**
 * Test helper process: an HTTP proxy to a Mega-compatible server that flips the first byte of every
 * blob body (`/api/v1/file/blob/`). Prints its URL on stdout. Used to prove blob verification.
 */
const upstream = process.argv[2];
if (!upstream) {
  console.error("usage: corrupting-proxy <upstream-url>");
  process.exit(2);
}
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const url = new URL(req.url);
    const res = await fetch(upstream + url.pathname + url.search, { method: req.method, headers: req.headers });
    if (req.method !== "GET" || !url.pathname.startsWith("/api/v1/file/blob/")) return res;
    const body = new Uint8Array(await res.arrayBuffer());
    if (body.length > 0) body[0] = body[0]! ^ 0xff;
    return new Response(body, { status: res.status, headers: { "content-type": res.headers.get("content-type") ?? "application/octet-stream" } });
  },
});
console.log(`http://127.0.0.1:${server.port}`);
process.on("SIGTERM", () => process.exit(0));
