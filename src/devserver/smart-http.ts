/**
 * @module devserver/smart-http — git smart HTTP (protocol v0, stateless RPC) over `git upload-pack` and
 * `git receive-pack`, with Mega's URL rules: `{P}.git/info/refs`, `{P}.git/git-upload-pack`,
 * `{P}.git/git-receive-pack`; `/.git` is the whole monorepo. A sub-path P is served as its own one-commit
 * repository through a git namespace holding a synthetic "path commit" (tree = the subtree at P), as Mega
 * does. A push never moves main: it lands in `refs/cl/<LINK>`, the open CL of (path, pusher), created or
 * updated; see docs/devserver.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { logger } from "../util/log.ts";
import { concatBytes, FLUSH, pktLine } from "../vcs/pkt-line.ts";
import type { ClStore } from "./cl-store.ts";
import { runGit } from "./git-run.ts";
import type { GitStore } from "./git-store.ts";
import { pathNamespace, splitRepoPath } from "./git-store.ts";
import type { PushAuth } from "./push-auth.ts";
import type { RepoLock } from "./repo-lock.ts";
import { fail, notSupported } from "./wrapper.ts";

const log = logger("devserver");
const ZERO = "0000000000000000000000000000000000000000";
const NO_CACHE = "no-cache, max-age=0, must-revalidate";
type Service = "git-upload-pack" | "git-receive-pack";

/** Exactly one new commit per push, on main only (Mega's rule). Runs as receive-pack's pre-receive hook. */
const PRE_RECEIVE = `#!/bin/sh
z=${ZERO}
status=0
while read old new ref; do
  if [ "$ref" != "refs/heads/main" ]; then echo "only refs/heads/main can be pushed (got $ref)" >&2; status=1; continue; fi
  if [ "$new" = "$z" ]; then echo "deleting main is not supported" >&2; status=1; continue; fi
  if [ "$old" = "$z" ]; then n=$(git rev-list --count "$new"); else n=$(git rev-list --count "$old..$new"); fi
  if [ "$n" != "1" ]; then echo "only single commit support in each push" >&2; status=1; fi
done
exit $status
`;

export class SmartHttp {
  private hooksDirPath: string | undefined;

  constructor(
    private readonly store: GitStore,
    private readonly auth: PushAuth,
    private readonly cls: ClStore,
    /** Shared with CL merges: pushes, path-commit creation and merges move refs one at a time. */
    private readonly lock: RepoLock,
  ) {
  }

  /** The pre-receive hook's directory, made on the first push only: a killed server leaves nothing behind otherwise. */
  private get hooksDir(): string {
    if (!this.hooksDirPath) {
      this.hooksDirPath = mkdtempSync(join(tmpdir(), "scorpio-devserver-hooks-"));
      writeFileSync(join(this.hooksDirPath, "pre-receive"), PRE_RECEIVE, { mode: 0o755 });
    }
    return this.hooksDirPath;
  }

  close(): void {
    if (this.hooksDirPath) rmSync(this.hooksDirPath, { recursive: true, force: true });
  }

  /** Handles a request if its path is a smart-HTTP path; otherwise null. */
  async handle(request: Request): Promise<Response | null> {
    const url = new URL(request.url);
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      return fail(400, "malformed percent-encoding in URL path");
    }
    const m = /^(.*?)\/(info\/refs|git-upload-pack|git-receive-pack)$/.exec(pathname);
    if (!m) return null;
    // Only a trailing ".git" is removed (Mega removes every ".git" substring, mangling names like x.github).
    const repoPath = m[1]!.replace(/\.git\/?$/, "");
    const parts = splitRepoPath(repoPath);
    if (!parts) return fail(400, `invalid repository path: ${repoPath}`);
    const action = m[2]!;
    if (action === "info/refs") {
      if (request.method !== "GET") return notSupported();
      const service = url.searchParams.get("service");
      if (service !== "git-upload-pack" && service !== "git-receive-pack") {
        return fail(400, "the dumb HTTP protocol is not supported; missing or unknown ?service=");
      }
      if (service === "git-receive-pack") {
        const who = this.auth.authenticate(request);
        if (who instanceof Response) return who;
      }
      return this.advertise(service, parts);
    }
    if (request.method !== "POST") return notSupported();
    let user = "";
    if (action === "git-receive-pack") {
      const who = this.auth.authenticate(request);
      if (who instanceof Response) return who;
      user = who.user;
    }
    let body = new Uint8Array(await request.arrayBuffer());
    if ((request.headers.get("content-encoding") ?? "").toLowerCase() === "gzip") {
      try {
        body = Bun.gunzipSync(body);
      } catch {
        return fail(400, "request body is not valid gzip");
      }
    }
    return action === "git-upload-pack" ? this.uploadPack(parts, body) : this.receivePack(parts, body, user);
  }

  private async advertise(service: Service, parts: string[]): Promise<Response> {
    const ns = service === "git-receive-pack" ? await this.lock.run(() => this.seedPushNamespace(parts)) : await this.pathNamespace(parts);
    const r = await runGit(this.store.gitDir, [...this.gitArgs(ns), service.slice(4), "--stateless-rpc", "--advertise-refs", this.store.gitDir], {
      env: ns ? { GIT_NAMESPACE: ns } : {},
    });
    if (r.code !== 0) return fail(500, `advertisement failed: ${r.stderr.trim()}`);
    const head = pktLine(`# service=${service}\n`);
    return new Response(concatBytes([head, FLUSH, r.stdout]), {
      headers: { "content-type": `application/x-${service}-advertisement`, "cache-control": NO_CACHE },
    });
  }

  private async uploadPack(parts: string[], body: Uint8Array): Promise<Response> {
    const ns = await this.pathNamespace(parts);
    const proc = Bun.spawn(["git", "--git-dir", this.store.gitDir, ...this.gitArgs(ns), "upload-pack", "--stateless-rpc", this.store.gitDir], {
      stdin: body,
      stdout: "pipe",
      stderr: "ignore",
      env: { ...process.env, ...(ns ? { GIT_NAMESPACE: ns } : {}) },
    });
    return new Response(proc.stdout, { headers: { "content-type": "application/x-git-upload-pack-result", "cache-control": NO_CACHE } });
  }

  private receivePack(parts: string[], body: Uint8Array, user: string): Promise<Response> {
    return this.lock.run(async () => {
      const ns = await this.seedPushNamespace(parts);
      const before = await this.nsMain(ns);
      // denyCurrentBranch=ignore: inside the namespace "refs/heads/main" is our scratch ref, not the
      // work tree's checked-out branch, which receive-pack would otherwise refuse to update.
      const r = await runGit(
        this.store.gitDir,
        ["-c", `core.hooksPath=${this.hooksDir}`, "-c", "receive.denyDeletes=true", "-c", "receive.denyCurrentBranch=ignore", "receive-pack", "--stateless-rpc", this.store.gitDir],
        { stdin: body, env: { GIT_NAMESPACE: ns } },
      );
      const after = await this.nsMain(ns);
      const headers: Record<string, string> = { "content-type": "application/x-git-receive-pack-result", "cache-control": NO_CACHE };
      if (after && after !== before) {
        const path = "/" + parts.join("/");
        // Mega: the CL title is the first line of the pushed commit's message.
        const title = (await this.store.latestCommit(after, []))?.shortMessage ?? "";
        const { link, created } = await this.cls.recordPush(path, user, after, title);
        headers["x-mega-cl-link"] = link;
        log.info(created ? "push created CL" : "push updated CL", { link, path, user, commit: after });
      }
      // main is never moved by a push: put the namespace back for the next one.
      await this.resetNamespace(ns, before);
      return new Response(r.stdout, { headers });
    });
  }

  /** git options: at the root, hide the bookkeeping namespaces from clones. */
  private gitArgs(ns: string | null): string[] {
    return ns ? [] : ["-c", "transfer.hideRefs=refs/namespaces"];
  }

  /** The namespace serving path P (null for the root), with its path commit brought up to date. */
  private async pathNamespace(parts: string[]): Promise<string | null> {
    if (parts.length === 0) return null;
    const ns = pathNamespace(parts);
    await this.lock.run(() => this.ensurePathCommit(ns, parts));
    return ns;
  }

  /**
   * Mega persists a parentless "path commit" per sub-path, carrying the root commit's author/message and
   * the subtree as its tree. When the subtree changes later we add a new one on top (Mega's merge does).
   */
  private async ensurePathCommit(ns: string, parts: string[]): Promise<string | null> {
    const root = await this.store.resolveCommit("");
    const ref = `refs/namespaces/${ns}/refs/heads/main`;
    const current = (await this.store.header(`${ref}^{commit}`))?.oid ?? null;
    const subtree = root ? await this.store.objectAt(root, parts, false) : null;
    if (!root || !subtree || subtree.type !== "tree") return current;
    if (current && (await this.store.header(`${current}^{tree}`))?.oid === subtree.oid) return current;
    const meta = await this.store.text(["log", "-1", "--format=%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B", root]);
    const [an, ae, ad, cn, ce, cd, ...msg] = meta.split("\0");
    const env = { GIT_AUTHOR_NAME: an!, GIT_AUTHOR_EMAIL: ae!, GIT_AUTHOR_DATE: ad!, GIT_COMMITTER_NAME: cn!, GIT_COMMITTER_EMAIL: ce!, GIT_COMMITTER_DATE: cd! };
    const args = ["commit-tree", subtree.oid, "-m", msg.join("\0") || "path commit"];
    if (current) args.push("-p", current);
    const made = await runGit(this.store.gitDir, args, { env });
    if (made.code !== 0) throw new Error(`commit-tree: ${made.stderr}`);
    const oid = new TextDecoder().decode(made.stdout).trim();
    await runGit(this.store.gitDir, ["update-ref", ref, oid]);
    await runGit(this.store.gitDir, ["symbolic-ref", `refs/namespaces/${ns}/HEAD`, ref]);
    return oid;
  }

  /** A scratch namespace for pushes to P, whose main is P's current main (root main or path commit). */
  private async seedPushNamespace(parts: string[]): Promise<string> {
    const ns = "push-" + (parts.length ? Buffer.from(parts.join("/")).toString("hex") : "root");
    const main = parts.length === 0 ? await this.store.resolveCommit("") : await this.ensurePathCommit(pathNamespace(parts), parts);
    await this.resetNamespace(ns, main);
    return ns;
  }

  private async nsMain(ns: string): Promise<string | null> {
    return (await this.store.header(`refs/namespaces/${ns}/refs/heads/main^{commit}`))?.oid ?? null;
  }

  private async resetNamespace(ns: string, main: string | null): Promise<void> {
    const ref = `refs/namespaces/${ns}/refs/heads/main`;
    if (main) await runGit(this.store.gitDir, ["update-ref", ref, main]);
    else await runGit(this.store.gitDir, ["update-ref", "-d", ref]);
  }
}
