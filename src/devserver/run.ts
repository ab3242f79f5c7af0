/**
 * @module devserver/run — the CLI face: start the dev server, print its URL, run until SIGINT/SIGTERM.
 * `scorpio devserver --repo <dir> [--addr 127.0.0.1:8000]` calls runDevServer.
 */
import { startDevServer } from "./server.ts";

export interface RunDevServerOptions {
  repo: string;
  /** `host:port`, `[v6]:port` or `:port`. Default 127.0.0.1:8000 (Mega's default). */
  addr?: string;
  ref?: string;
  pushToken?: string;
  /** token → user name; see DevServerOptions.tokens. */
  tokens?: Record<string, string>;
  requireAuth?: boolean;
  /** Where the URL line goes. Default stdout. */
  print?: (line: string) => void;
}

export function parseAddr(addr: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`invalid address ${JSON.stringify(addr)}: expected host:port`);
  return { hostname: m[1] ?? (m[2] || "127.0.0.1"), port };
}

/** Resolves with exit code 0 after a signal stopped the server. */
export async function runDevServer(opts: RunDevServerOptions): Promise<number> {
  const { hostname, port } = parseAddr(opts.addr ?? "127.0.0.1:8000");
  const server = await startDevServer({ repo: opts.repo, hostname, port, ref: opts.ref, pushToken: opts.pushToken, tokens: opts.tokens, requireAuth: opts.requireAuth });
  (opts.print ?? ((l) => process.stdout.write(l + "\n")))(server.url);
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
  await server.stop();
  return 0;
}
