/**
 * @module devserver/cl-merge — merging a CL into main, as Mega's merge does for a path P: take the CL's
 * tree for P (three-way merged with main's current tree at P when main moved since the CL's base), put it
 * at P in the root tree, rebuild the ancestor trees, and commit "cl merge generated commit" by
 * `mega <admin@mega.org>` on main (for P = `/` on top of the CL commit) and on P's path commit chain
 * (parent = the CL commit). The served branch moves; a checked-out work tree on it is updated too.
 */
import { basename, dirname } from "node:path";
import { parseTreeBody, type TreeEntry } from "../vcs/loose-objects.ts";
import { logger } from "../util/log.ts";
import { gitText, runGit } from "./git-run.ts";
import { EMPTY_TREE, pathNamespace, type GitStore } from "./git-store.ts";

const log = logger("devserver");
const MERGE_ENV = {
  GIT_AUTHOR_NAME: "mega",
  GIT_AUTHOR_EMAIL: "admin@mega.org",
  GIT_COMMITTER_NAME: "mega",
  GIT_COMMITTER_EMAIL: "admin@mega.org",
};
const MESSAGE = "cl merge generated commit";

/** A merge that cannot be done; `status` is the HTTP status to answer with. */
export class MergeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface MergeInput {
  /** The CL path split into components ([] for `/`). */
  parts: string[];
  /** The CL tip commit. */
  tip: string;
}

/** Merges and returns the new main commit. Callers hold the repository lock. */
export async function mergeCl(store: GitStore, { parts, tip }: MergeInput): Promise<string> {
  const git = (args: string[], env?: Record<string, string>) => gitText(store.gitDir, args, { env });
  const main = await store.resolveCommit("");
  if (!main) throw new MergeError(409, "main has no commit to merge into");
  const base = await store.firstParent(tip);
  const baseTree = base ? await git(["rev-parse", `${base}^{tree}`]) : EMPTY_TREE;
  const tipTree = await git(["rev-parse", `${tip}^{tree}`]);
  const current = await store.objectAt(main, parts, false);
  if (current && current.type !== "tree") throw new MergeError(409, `/${parts.join("/")} is a file on main`);
  const mainTree = current?.oid ?? EMPTY_TREE;

  let merged: string;
  let fastForward = false;
  if (mainTree === baseTree || mainTree === tipTree) {
    merged = tipTree;
    fastForward = mainTree === baseTree;
  } else {
    merged = await threeWay(store.gitDir, baseTree, mainTree, tipTree);
  }

  const rootTree = await replaceSubtree(store, await git(["rev-parse", `${main}^{tree}`]), parts, merged);
  // Mega: the path's own merge commit has the CL commit as parent; for "/" that is main itself.
  const parents = parts.length === 0 ? (fastForward ? [tip] : [main, tip]) : [main];
  const newMain = await git(["commit-tree", rootTree, ...parents.flatMap((p) => ["-p", p]), "-m", MESSAGE], MERGE_ENV);
  if (parts.length > 0) {
    const pathCommit = await git(["commit-tree", merged, "-p", tip, "-m", MESSAGE], MERGE_ENV);
    await git(["update-ref", `refs/namespaces/${pathNamespace(parts)}/refs/heads/main`, pathCommit]);
  }
  await moveMain(store, main, newMain);
  return newMain;
}

/** git's three-way tree merge: synthetic commits make `base` the merge base of `ours` and `theirs`. */
async function threeWay(gitDir: string, base: string, ours: string, theirs: string): Promise<string> {
  const commit = (tree: string, parent?: string) => gitText(gitDir, ["commit-tree", tree, ...(parent ? ["-p", parent] : []), "-m", "merge input"], { env: MERGE_ENV });
  const b = await commit(base);
  const [o, t] = await Promise.all([commit(ours, b), commit(theirs, b)]);
  const r = await runGit(gitDir, ["merge-tree", "--write-tree", "--name-only", "--no-messages", o, t]);
  const lines = new TextDecoder().decode(r.stdout).split("\n");
  if (r.code === 1) throw new MergeError(409, `Merge conflict on files: ${lines.slice(1).filter(Boolean).join(", ")}`);
  if (r.code !== 0) throw new Error(`git merge-tree: ${r.stderr.trim()}`);
  return lines[0]!.trim();
}

/** `root` with the tree at `parts` replaced by `subtree` (created if missing), ancestors rebuilt. */
async function replaceSubtree(store: GitStore, root: string, parts: string[], subtree: string): Promise<string> {
  if (parts.length === 0) return subtree;
  const obj = root === EMPTY_TREE ? null : await store.object(root);
  const entries = obj && obj.type === "tree" ? parseTreeBody(obj.data) : [];
  const name = new TextEncoder().encode(parts[0]!);
  const at = entries.findIndex((e) => Buffer.compare(e.name, name) === 0);
  const child = at >= 0 && entries[at]!.mode === "40000" ? entries[at]!.oid : EMPTY_TREE;
  const newChild = await replaceSubtree(store, child, parts.slice(1), subtree);
  if (at >= 0) entries.splice(at, 1);
  // An empty directory cannot exist in git: a subtree that became empty disappears from its parent.
  if (newChild !== EMPTY_TREE) entries.push({ mode: "40000", name, oid: newChild });
  return writeTree(store.gitDir, entries);
}

async function writeTree(gitDir: string, entries: TreeEntry[]): Promise<string> {
  entries.sort(gitTreeOrder);
  const body = Buffer.concat(entries.flatMap((e) => [Buffer.from(`${e.mode} `), Buffer.from(e.name), Buffer.of(0), Buffer.from(e.oid, "hex")]));
  const r = await runGit(gitDir, ["hash-object", "-w", "-t", "tree", "--stdin"], { stdin: body });
  if (r.code !== 0) throw new Error(`git hash-object: ${r.stderr.trim()}`);
  return new TextDecoder().decode(r.stdout).trim();
}

/** git sorts tree entries by name bytes, a directory's name compared as if it ended in "/". */
function gitTreeOrder(a: TreeEntry, b: TreeEntry): number {
  const key = (e: TreeEntry) => (e.mode === "40000" ? Buffer.concat([e.name, Buffer.from("/")]) : Buffer.from(e.name));
  return Buffer.compare(key(a), key(b));
}

/** Moves the served branch from `old` to `next`; a work tree with that branch checked out follows. */
async function moveMain(store: GitStore, old: string, next: string): Promise<void> {
  const git = (args: string[]) => runGit(store.gitDir, args);
  const full = new TextDecoder().decode((await git(["rev-parse", "--symbolic-full-name", store.defaultRef])).stdout).trim() || store.defaultRef;
  const r = await git(["update-ref", "-m", MESSAGE, full, next, old]);
  if (r.code !== 0) throw new MergeError(409, `main moved during the merge: ${r.stderr.trim()}`);
  const bare = new TextDecoder().decode((await git(["rev-parse", "--is-bare-repository"])).stdout).trim() === "true";
  const head = new TextDecoder().decode((await git(["symbolic-ref", "-q", "HEAD"])).stdout).trim();
  if (bare || head !== full) return;
  // With --git-dir set git would take the cwd as the work tree; only the usual `<top>/.git` layout is synced.
  if (basename(store.gitDir) !== ".git") return;
  const top = dirname(store.gitDir);
  // Two-way read-tree keeps local edits that do not collide, like `git merge --ff-only`.
  const synced = await runGit(store.gitDir, ["--work-tree", top, "read-tree", "-m", "-u", old, next]);
  if (synced.code !== 0) log.warn("merged, but the work tree could not follow main; run `git reset --keep` there", { top, error: synced.stderr.trim() });
}
