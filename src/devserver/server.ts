/**
 * @module devserver/server — assembles the Mega-compatible dev server (Elysia on Bun.serve) over a local git
 * repository: `/api/v1` endpoints, git smart HTTP, `GET /`. Owns the lifetime of the git child processes.
 */
import { Elysia } from "elysia";
import { apiRoutes } from "./api-routes.ts";
import { resolveGitDir } from "./git-run.ts";
import { BadInput, GitStore } from "./git-store.ts";
import { SmartHttp } from "./smart-http.ts";
import { ServerStats } from "./stats.ts";
import { fail, notSupported } from "./wrapper.ts";
import { logger } from "../util/log.ts";
import { VERSION } from "../version.ts";

const log = logger("devserver");

export interface DevServerOptions {
  /** A git repository, bare or with a work tree. */
  repo: string;
  hostname?: string;
  /** 0 = an ephemeral port. Default 0. */
  port?: number;
  /** The branch serving as Mega's main. Default HEAD. */
  ref?: string;
  /** Require this token for git-receive-pack (Bearer, or Basic password). Default: none required. */
  pushToken?: string;
  /** Delay every answer by this many ms: a server that far away (benchmarks). Default 0. */
  latencyMs?: number;
}

export interface DevServer {
  url: string;
  port: number;
  /** Requests seen, per method and path (for tests). */
  stats: ServerStats;
  stop(): Promise<void>;
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const gitDir = await resolveGitDir(opts.repo);
  const ref = opts.ref ?? "HEAD";
  if (!/^[A-Za-z0-9._/-]+$/.test(ref) || ref.includes("..")) throw new Error(`invalid ref: ${ref}`);
  const store = new GitStore(gitDir, ref);
  const smart = new SmartHttp(store, { pushToken: opts.pushToken });
  const stats = new ServerStats();

  const app = new Elysia()
    .onRequest(({ request }) => {
      stats.count(new URL(request.url).pathname, request.method);
    })
    .onError(({ error, code }) => {
      if (error instanceof BadInput) return fail(400, error.message);
      if (code === "NOT_FOUND") return fail(404, "Not found");
      if (code === "VALIDATION" || code === "PARSE") return fail(400, "bad request");
      log.error("request failed", { error });
      return fail(500, "Internal server error");
    })
    .get("/", () => new Response(`Mega-compatible dev server (scorpio ${VERSION})\n`, { headers: { "content-type": "text/plain; charset=utf-8" } }))
    .use(apiRoutes(store))
    // Everything else is Mega's git catch-all: smart HTTP or "Operation not supported".
    .all("/*", async ({ request }) => (await smart.handle(request)) ?? notSupported(), { parse: "none" });

  const hostname = opts.hostname ?? "127.0.0.1";
  const latency = opts.latencyMs ?? 0;
  const server = Bun.serve({ hostname, port: opts.port ?? 0, idleTimeout: 120, fetch: latency > 0 ? async (req) => (await Bun.sleep(latency), app.handle(req)) : (req) => app.handle(req) });
  const port = server.port ?? 0;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `http://${host}:${port}`;
  log.debug("dev server listening", { url, gitDir, ref });
  let stopped = false;
  return {
    url,
    port,
    stats,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop(true);
      store.close();
      smart.close();
    },
  };
}
