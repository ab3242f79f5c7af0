/**
 * @module vcs/service — status, diff, commit and push on the daemon's writable mounts (Antares job
 * mounts and legacy checkouts), shaped for the HTTP API. One `MountRepo` per mount (by VCS directory),
 * so operations on a mount are serialised; the push token is the request's, else the daemon's
 * `mega_token`. No Elysia here: routes validate and call these methods.
 */
import type { ScorpioConfig } from "../config/index.ts";
import { lfsClientFor, type LfsClientConfig } from "../lfs/from-config.ts";
import type { MegaClient } from "../remote/index.ts";
import { MountRepo, type WritableMount } from "./repo.ts";
import type { DiffQuery } from "./model.ts";

export interface VcsServiceOptions {
  config: Pick<ScorpioConfig, "base_url" | "git_author" | "git_email" | "mega_token"> & LfsClientConfig;
  client: MegaClient;
  timeoutMs?: number;
  now?: () => Date;
}

export class VcsService {
  private readonly repos = new Map<string, MountRepo>();

  constructor(private readonly o: VcsServiceOptions) {}

  repo(m: WritableMount): MountRepo {
    let r = this.repos.get(m.vcsDir);
    if (!r) {
      r = new MountRepo(m, {
        baseUrl: this.o.config.base_url,
        client: this.o.client,
        author: { name: this.o.config.git_author, email: this.o.config.git_email },
        timeoutMs: this.o.timeoutMs,
        lfs: (token) => lfsClientFor(this.o.config, { token }),
        now: this.o.now,
      });
      this.repos.set(m.vcsDir, r);
    }
    return r.update(m);
  }

  async status(m: WritableMount, clLink: string | null) {
    const s = await this.repo(m).status();
    return { ...s, cl_link: s.pushed?.link ?? clLink };
  }

  async diff(m: WritableMount, q: typeof DiffQuery.static) {
    const paths = q.path === undefined ? [] : Array.isArray(q.path) ? q.path : [q.path];
    const d = await this.repo(m).diff(paths);
    if (q.format === "patch") return new Response(Buffer.from(d.text, "latin1"), { headers: { "content-type": "text/x-diff" } });
    if (q.format === "stat") return new Response(d.stat, { headers: { "content-type": "text/plain; charset=utf-8" } });
    return {
      patch: Buffer.from(d.text, "latin1").toString("utf8"),
      stat: d.stat,
      files: d.patches.map((p) => ({ path: p.change.path, old_path: p.change.old_path, status: p.change.status, added: p.added, removed: p.removed, binary: p.binary })),
    };
  }

  commit(m: WritableMount, body: { message: string; author?: string | null; amend?: boolean }) {
    return this.repo(m).commit(body);
  }

  async push(m: WritableMount, body: { token?: string | null }) {
    const token = body.token || this.o.config.mega_token || undefined;
    const r = await this.repo(m).push({ token });
    return { link: r.link, url: r.url, commit: r.commit, old_id: r.oldId, squashed: r.squashed, lfs_uploaded: r.lfs.uploaded, lfs_skipped: r.lfs.skipped };
  }
}
