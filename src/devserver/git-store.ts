/**
 * @module devserver/git-store — read access to the served git repository in Mega's terms: resolve the
 * `refs` parameter to a commit, a monorepo path to an object, list trees, find the latest commit touching a
 * path, diff a CL. Uses a long-lived cat-file pair for objects and one-shot git for log/diff/config.
 * Knows nothing of HTTP.
 */
import { CatFile, type GitObject } from "./cat-file.ts";
import { gitText, runGit } from "./git-run.ts";

export const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const HEX40 = /^[0-9a-f]{40}$/;

export interface RawTreeEntry {
  mode: string;
  name: string;
  oid: string;
}

export interface CommitInfo {
  oid: string;
  /** Committer time, unix seconds. */
  time: number;
  author: string;
  committer: string;
  shortMessage: string;
}

export interface ClChange {
  path: string;
  sha: string;
  action: "new" | "modified" | "deleted" | "renamed";
  old_path?: string;
  similarity?: number;
}

/** Thrown for bad client input (maps to 400). */
export class BadInput extends Error {}

export class GitStore {
  private readonly objects: CatFile;
  private readonly headers: CatFile;

  constructor(
    readonly gitDir: string,
    readonly defaultRef: string,
  ) {
    this.objects = new CatFile(gitDir, "--batch");
    this.headers = new CatFile(gitDir, "--batch-check");
  }

  close(): void {
    this.objects.close();
    this.headers.close();
  }

  /**
   * Mega's `refs` rule: "" = the default branch, 40-hex = a commit, anything else a tag name.
   * Returns null when the default branch has no commit yet (an empty repository).
   */
  async resolveCommit(refs: string): Promise<string | null> {
    let name: string;
    if (refs === "") name = this.defaultRef;
    else if (HEX40.test(refs)) name = refs;
    else if (/^[A-Za-z0-9._/+-]+$/.test(refs) && !refs.includes("..") && !refs.startsWith("/")) name = `refs/tags/${refs}`;
    else throw new BadInput(`Invalid refs: ${refs}`);
    const hit = await this.headers.lookup(`${name}^{commit}`);
    if (!hit) {
      if (refs === "") return null;
      throw new BadInput(`Invalid refs: ${refs}`);
    }
    return hit.oid;
  }

  /** The object at `path` (already split into components) in `commit`, or null. */
  async objectAt(commit: string, parts: string[], withData: boolean): Promise<GitObject | null> {
    const name = parts.length === 0 ? `${commit}^{tree}` : `${commit}:${parts.join("/")}`;
    return (withData ? this.objects : this.headers).lookup(name);
  }

  /** An object by id, with its content. */
  object(oid: string): Promise<GitObject | null> {
    return this.objects.lookup(oid);
  }

  /** An object's type and size by id. */
  header(oid: string): Promise<GitObject | null> {
    return this.headers.lookup(oid);
  }

  /** The newest commit reachable from `commit` that touched `parts` (the commit itself for the root). */
  async latestCommit(commit: string, parts: string[]): Promise<CommitInfo | null> {
    const args = ["--literal-pathspecs", "log", "-1", "-z", "--format=%H%x00%ct%x00%an%x00%cn%x00%B", commit];
    if (parts.length > 0) args.push("--", parts.join("/"));
    const r = await runGit(this.gitDir, args);
    if (r.code !== 0) throw new Error(`git log: ${r.stderr.trim()}`);
    const text = new TextDecoder().decode(r.stdout);
    if (text === "") return null;
    const [oid, ct, an, cn, ...rest] = text.split("\0");
    return {
      oid: oid!,
      time: Number(ct),
      author: an ?? "",
      committer: cn ?? "",
      shortMessage: firstLine(rest.join("\0")),
    };
  }

  /** The tip of a CL ref, or null if the CL does not exist. */
  async clTip(link: string): Promise<string | null> {
    return (await this.headers.lookup(`refs/cl/${link}^{commit}`))?.oid ?? null;
  }

  /** The CL's monorepo path (git config `cl.<link>.path`), `/` when unset. */
  async clPath(link: string): Promise<string> {
    const r = await runGit(this.gitDir, ["config", "--get", `cl.${link}.path`]);
    const v = new TextDecoder().decode(r.stdout).trim();
    return r.code === 0 && v ? v : "/";
  }

  /** The first parent of a commit, or null for a root commit. */
  async firstParent(commit: string): Promise<string | null> {
    const obj = await this.objects.lookup(commit);
    if (!obj || obj.type !== "commit") return null;
    const m = /^parent ([0-9a-f]{40})$/m.exec(new TextDecoder().decode(obj.data).split("\n\n", 1)[0] ?? "");
    return m ? m[1]! : null;
  }

  /** Mega's files-list: diff of the CL tip against its base, paths relative to the commits' root. */
  async diff(from: string, to: string): Promise<ClChange[]> {
    const r = await runGit(this.gitDir, ["diff-tree", "-r", "-z", "--no-commit-id", "-M50%", from, to]);
    if (r.code !== 0) throw new Error(`git diff-tree: ${r.stderr.trim()}`);
    const f = new TextDecoder().decode(r.stdout).split("\0");
    const out: ClChange[] = [];
    for (let i = 0; i + 1 < f.length; ) {
      const meta = f[i++]!;
      const m = /^:(\d+) (\d+) ([0-9a-f]{40}) ([0-9a-f]{40}) ([A-Z])(\d*)$/.exec(meta);
      if (!m) break;
      const [, , , oldSha, newSha, status, score] = m;
      const p1 = f[i++]!;
      switch (status) {
        case "A":
          out.push({ path: p1, sha: newSha!, action: "new" });
          break;
        case "D":
          out.push({ path: p1, sha: oldSha!, action: "deleted" });
          break;
        case "R": {
          const p2 = f[i++]!;
          out.push({ path: p2, sha: newSha!, action: "renamed", old_path: p1, similarity: Number(score) });
          break;
        }
        default: // M, T (type change): the path exists on both sides with new content.
          out.push({ path: p1, sha: newSha!, action: "modified" });
      }
    }
    return out;
  }

  text(args: string[]): Promise<string> {
    return gitText(this.gitDir, args);
  }
}

/** Parses a raw tree object payload into entries (mode as git writes it, e.g. "40000"). */
export function parseTree(data: Uint8Array): RawTreeEntry[] {
  const out: RawTreeEntry[] = [];
  const dec = new TextDecoder();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    const nul = data.indexOf(0, sp);
    if (sp < 0 || nul < 0 || nul + 21 > data.length) break;
    let hex = "";
    for (const b of data.subarray(nul + 1, nul + 21)) hex += b.toString(16).padStart(2, "0");
    out.push({ mode: dec.decode(data.subarray(i, sp)), name: dec.decode(data.subarray(sp + 1, nul)), oid: hex });
    i = nul + 21;
  }
  return out;
}

/** Mega's short message: the first non-empty line. */
function firstLine(message: string): string {
  for (const l of message.split("\n")) if (l.trim() !== "") return l.trim();
  return "";
}

/**
 * Splits a Mega `path` query value into components. Empty components are ignored ("/a//b/" = "/a/b");
 * `.`/`..` cannot name anything in a git tree, so such paths are reported as not found (null).
 */
export function splitRepoPath(path: string): string[] | null {
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.some((p) => p === "." || p === ".." || p.includes("\0") || p.includes("\n"))) return null;
  return parts;
}

/** The git namespace serving sub-path `parts` as its own repository (Mega's per-path refs). */
export function pathNamespace(parts: string[]): string {
  return "path-" + Buffer.from(parts.join("/")).toString("hex");
}
