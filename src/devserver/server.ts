/**
 * @module devserver/server — assembles the Mega-compatible dev server (Elysia on Bun.serve) over a local git
 * repository: `/api/v1` endpoints, git smart HTTP, `GET /`. Owns the lifetime of the git child processes.
 */
import { join } from "node:path";
import { Elysia } from "elysia";
import { apiRoutes } from "./api-routes.ts";
import { resolveGitDir } from "./git-run.ts";
import { DevLfs } from "./lfs.ts";
import { BadInput, GitStore } from "./git-store.ts";
import { ClStore } from "./cl-store.ts";
import { PushAuth } from "./push-auth.ts";
import { RepoLock } from "./repo-lock.ts";
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
  /** Require this token for git-receive-pack (Bearer, or Basic password); its user is "mega". Default: none. */
  pushToken?: string;
  /** Directory of LFS objects (`objects/aa/bb/<oid>`). Default `<git dir>/lfs`, where git-lfs keeps them. */
  lfsDir?: string;
  /** Access tokens for git-receive-pack: token → user name (the pusher owning the CL). */
  tokens?: Record<string, string>;
  /** Refuse pushes without a token. Default: true when a token is configured, else false ("anonymous"). */
  requireAuth?: boolean;
  /** Delay every answer by this many ms: a server that far away (benchmarks). Default 0. */
  latencyMs?: number;
}

export interface DevServer {
  url: string;
  port: number;
  /** Requests seen, per method and path (for tests). */
  stats: ServerStats;
  /** The LFS endpoints and their object directory (tests seed objects with `lfs.objects.putBytes`). */
  lfs: DevLfs;
  stop(): Promise<void>;
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const gitDir = await resolveGitDir(opts.repo);
  const ref = opts.ref ?? "HEAD";
  if (!/^[A-Za-z0-9._/-]+$/.test(ref) || ref.includes("..")) throw new Error(`invalid ref: ${ref}`);
  const store = new GitStore(gitDir, ref);
  const lock = new RepoLock();
  const cls = new ClStore(gitDir);
  const smart = new SmartHttp(store, new PushAuth({ pushToken: opts.pushToken, tokens: opts.tokens, requireAuth: opts.requireAuth }), cls, lock);
  const stats = new ServerStats();
  let url = "";
  // Hrefs use the listen address, as Mega does; a wildcard address is not dialable from elsewhere (a
  // container next door), so then the request's own origin stands in.
  const wildcard = ["0.0.0.0", "::", "[::]"].includes(opts.hostname ?? "");
  const lfs = new DevLfs(opts.lfsDir ?? join(gitDir, "lfs"), (req) => (wildcard ? new URL(req.url).origin : url));

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
    .use(apiRoutes(store, cls, lock))
    // Everything else is Mega's git catch-all: smart HTTP or "Operation not supported".
    .all("/*", async ({ request }) => (await lfs.handle(request)) ?? (await smart.handle(request)) ?? notSupported(), { parse: "none" });

  const hostname = opts.hostname ?? "127.0.0.1";
  const latency = opts.latencyMs ?? 0;
  const server = Bun.serve({ hostname, port: opts.port ?? 0, idleTimeout: 120, fetch: latency > 0 ? async (req) => (await Bun.sleep(latency), app.handle(req)) : (req) => app.handle(req) });
  const port = server.port ?? 0;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  url = `http://${host}:${port}`;
  log.debug("dev server listening", { url, gitDir, ref });
  let stopped = false;
  return {
    url,
    port,
    stats,
    lfs,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop(true);
      store.close();
      smart.close();
    },
  };
}
