/**
 * @module devserver/cl-store — the dev server's CL records, as Mega keeps them in its database: link, path,
 * pusher, status, title and times. Stored in the served repository itself so they survive a restart: the
 * tip is the ref `refs/cl/<LINK>` (mirrored into the path's namespace so `{P}.git/info/refs` advertises it,
 * as Mega does), the rest is git config `cl.<LINK>.*`. CLs made by tests with only `refs/cl/<LINK>` and
 * `cl.<LINK>.path` read as open CLs of an unknown user.
 */
import { gitText, runGit } from "./git-run.ts";
import { pathNamespace, splitRepoPath } from "./git-store.ts";

export type ClStatus = "open" | "merged";

export interface ClRecord {
  link: string;
  id: number;
  /** The CL's monorepo path (`/` or `/project/foo`). */
  path: string;
  user: string;
  status: ClStatus;
  title: string;
  /** Unix seconds. */
  created: number;
  updated: number;
  merged: number | null;
}

export class ClStore {
  constructor(private readonly gitDir: string) {}

  /** Every recorded CL, keyed by link. */
  async all(): Promise<Map<string, ClRecord>> {
    const r = await runGit(this.gitDir, ["config", "-z", "--get-regexp", "^cl\\."]);
    const fields = new Map<string, Record<string, string>>();
    // Exit 1 = no such keys.
    if (r.code === 0) {
      for (const item of new TextDecoder().decode(r.stdout).split("\0")) {
        const nl = item.indexOf("\n");
        const key = nl < 0 ? item : item.slice(0, nl);
        const m = /^cl\.(.+)\.([a-z]+)$/.exec(key);
        if (!m) continue;
        const f = fields.get(m[1]!) ?? {};
        f[m[2]!] = nl < 0 ? "" : item.slice(nl + 1);
        fields.set(m[1]!, f);
      }
    }
    const out = new Map<string, ClRecord>();
    for (const [link, f] of fields) out.set(link, toRecord(link, f));
    return out;
  }

  async get(link: string): Promise<ClRecord | null> {
    return (await this.all()).get(link) ?? null;
  }

  /** The open CL of (path, user): Mega keeps one and updates it on every push. */
  async findOpen(path: string, user: string): Promise<ClRecord | null> {
    for (const cl of (await this.all()).values()) if (cl.status === "open" && cl.path === path && cl.user === user) return cl;
    return null;
  }

  /** Records a push: updates the open CL of (path, user) or creates one. Returns the link. */
  async recordPush(path: string, user: string, tip: string, title: string): Promise<{ link: string; created: boolean }> {
    const now = String(Math.floor(Date.now() / 1000));
    const open = await this.findOpen(path, user);
    if (open) {
      await this.setTip(open.link, path, tip);
      await this.set(open.link, { updated: now });
      return { link: open.link, created: false };
    }
    const existing = await this.all();
    let link = newLink();
    while (existing.has(link)) link = newLink();
    const id = Math.max(0, ...[...existing.values()].map((c) => c.id)) + 1;
    await this.setTip(link, path, tip);
    await this.set(link, { path, user, status: "open", title, id: String(id), created: now, updated: now });
    return { link, created: true };
  }

  async markMerged(link: string): Promise<void> {
    const now = String(Math.floor(Date.now() / 1000));
    await this.set(link, { status: "merged", merged: now, updated: now });
  }

  private async setTip(link: string, path: string, tip: string): Promise<void> {
    await gitText(this.gitDir, ["update-ref", `refs/cl/${link}`, tip]);
    const parts = splitRepoPath(path) ?? [];
    if (parts.length > 0) await gitText(this.gitDir, ["update-ref", `refs/namespaces/${pathNamespace(parts)}/refs/cl/${link}`, tip]);
  }

  private async set(link: string, values: Record<string, string>): Promise<void> {
    for (const [k, v] of Object.entries(values)) await gitText(this.gitDir, ["config", `cl.${link}.${k}`, v]);
  }
}

function toRecord(link: string, f: Record<string, string>): ClRecord {
  const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : 0);
  return {
    link,
    id: num(f.id),
    path: f.path || "/",
    user: f.user ?? "",
    status: f.status === "merged" ? "merged" : "open",
    title: f.title ?? "",
    created: num(f.created),
    updated: num(f.updated),
    merged: f.merged ? num(f.merged) : null,
  };
}

/** Mega's CL link: 8 upper-case alphanumerics. */
export function newLink(): string {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => abc[b % abc.length]).join("");
}
