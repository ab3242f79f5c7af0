/**
 * @module vcs/repo — the version control of one writable mount: its local object store and commit
 * chain, kept in the mount's VCS directory so they survive a daemon restart:
 *
 * ```
 * {vcsDir}/objects/ab/cdef…   loose objects of local commits (git layout, zlib)
 * {vcsDir}/base-objects/…     base trees and blobs fetched from Mega (cache, verified)
 * {vcsDir}/state.json         {head, commits: [oldest…newest], pushed: {commit, link, url} | null}
 * {vcsDir}/hashes.json        blob ids of upper files by stat (cache)
 * {vcsDir}/lfs/objects/aa/bb/… LFS objects of committed files at LFS paths (git-lfs layout), until pushed
 * ```
 *
 * `status`/`diff` compare what the mount shows with HEAD (the last local commit, or the base);
 * `commit` records it with HEAD as parent; `push` squashes the local commits into one whose parent is
 * the base (Mega takes one commit per push) and sends it, after uploading the LFS objects its new pointer
 * blobs name. Operations on one mount run one at a time.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LfsObjectDir } from "../lfs/object-dir.ts";
import type { MegaClient } from "../remote/index.ts";
import type { LfsClient } from "../remote/lfs-client.ts";
import { RemoteError } from "../remote/remote-error.ts";
import { writeFileAtomicSync } from "../util/atomic-write.ts";
import { classify, diffTrees, type Change } from "./changes.ts";
import { HashCache } from "./hash-cache.ts";
import { cleanMessage, encodeCommit, encodeTree, isTreeMode, ObjectStore, parseCommit, parseIdent, signatureNow } from "./objects.ts";
import { filePatch, statText, type FilePatch } from "./patch.ts";
import { pushCommit, PushError, type PushResult } from "./push.ts";
import { AttrStack } from "../lfs/attr-stack.ts";
import { lfsObjectsOf } from "./lfs-files.ts";
import { fetchTreeBody } from "./mega-base.ts";
import { MountScanner } from "./scan.ts";
import { MountTreeSource, treeItemsOf, VcsError } from "./tree-source.ts";
import { encodeName } from "../util/names.ts";

/** What the VCS needs to know of a writable mount. */
export interface WritableMount {
  /** Monorepo path shown at the mount root. */
  path: string;
  upperDir: string;
  clDir: string | null;
  baseCommit: string | null;
  baseTree: string | null;
  /** Sub-paths: the root's head read with the base (see MountBase). */
  baseRootCommit: string | null;
  /** Where this mount's objects and VCS state live. */
  vcsDir: string;
}

export interface VcsState {
  head: string | null;
  commits: string[];
  pushed: { commit: string; link: string; url: string } | null;
}

export interface StatusReport {
  path: string;
  base_commit: string;
  head: string;
  /** Local commits not pushed yet (0 when HEAD is the pushed commit or the base). */
  ahead: number;
  pushed: { commit: string; link: string; url: string } | null;
  clean: boolean;
  changes: Change[];
}

export interface CommitResult {
  commit: string;
  tree: string;
  parent: string;
  changes: Change[];
  message: string;
}

export interface VcsDeps {
  baseUrl: string;
  client: MegaClient;
  /** Default author. */
  author: { name: string; email: string };
  timeoutMs?: number;
  /** The LFS batch client a push uploads with (its token is the push's). Without it, a push with LFS objects fails. */
  lfs?: (token: string | undefined) => LfsClient;
  /** Test seam: the clock of new commits. */
  now?: () => Date;
}

const emptyState = (): VcsState => ({ head: null, commits: [], pushed: null });

/** The local-commit state of a mount's VCS directory (empty when it has none). */
export function readVcsState(vcsDir: string): VcsState {
  try {
    const j = JSON.parse(readFileSync(join(vcsDir, "state.json"), "utf8")) as Partial<VcsState>;
    return { head: j.head ?? null, commits: Array.isArray(j.commits) ? j.commits : [], pushed: j.pushed ?? null };
  } catch {
    return emptyState();
  }
}

export class MountRepo {
  readonly objects: ObjectStore;
  /** LFS objects of local commits, by sha-256. */
  readonly lfsObjects: LfsObjectDir;
  private readonly cache: ObjectStore;
  private readonly stateFile: string;
  private chain: Promise<unknown> = Promise.resolve();
  /** Attribute files above the mount (see `attrsAbove`). */
  private above: { key: string; value: Promise<{ prefix: string; stack: AttrStack }> } | null = null;

  constructor(
    private m: WritableMount,
    private readonly deps: VcsDeps,
  ) {
    mkdirSync(m.vcsDir, { recursive: true });
    this.objects = new ObjectStore(join(m.vcsDir, "objects"));
    this.cache = new ObjectStore(join(m.vcsDir, "base-objects"));
    this.lfsObjects = new LfsObjectDir(join(m.vcsDir, "lfs"));
    this.stateFile = join(m.vcsDir, "state.json");
  }

  /** The mount's layers may change (a CL layer built or cleared): callers pass the current ones. */
  update(m: WritableMount): this {
    this.m = m;
    return this;
  }

  /** Runs `fn` after every earlier operation on this mount. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }

  readState(): VcsState {
    return readVcsState(this.m.vcsDir);
  }

  private writeState(s: VcsState): void {
    writeFileAtomicSync(this.stateFile, JSON.stringify(s, null, 2) + "\n");
  }

  private base(): { commit: string; tree: string } {
    if (!this.m.baseCommit || !this.m.baseTree) {
      throw new VcsError("NO_BASE", `the mount of ${this.m.path} has no recorded base commit (Mega could not be asked when it was created); remount it to use status, commit and push`, 409);
    }
    return { commit: this.m.baseCommit, tree: this.m.baseTree };
  }

  private source(): MountTreeSource {
    return new MountTreeSource({ objects: this.objects, cache: this.cache, endpoint: { baseUrl: this.deps.baseUrl, timeoutMs: this.deps.timeoutMs }, client: this.deps.client, mountPath: this.m.path, rootCommit: this.m.path === "/" ? this.m.baseCommit : this.m.baseRootCommit });
  }

  private headOf(s: VcsState): { commit: string; tree: string } {
    const base = this.base();
    if (!s.head) return base;
    const obj = this.objects.read(s.head);
    if (!obj || obj.type !== "commit") throw new VcsError("CORRUPT", `the mount's HEAD commit ${s.head} is missing from ${this.objects.dir}`, 500);
    return { commit: s.head, tree: parseCommit(obj.body).tree };
  }

  /** Scans the mount; returns its tree, the tree source holding the new trees/blobs, and changes against HEAD. */
  private async scan(): Promise<{ tree: string; src: MountTreeSource; head: { commit: string; tree: string }; state: VcsState; changes: Change[] }> {
    const state = this.readState();
    const head = this.headOf(state);
    const src = this.source();
    const hashes = new HashCache(join(this.m.vcsDir, "hashes.json"));
    const base = this.base();
    // Files the local commits added are tracked too (an ignore pattern does not drop them).
    const tracked = new Set(head.tree === base.tree ? [] : (await diffTrees(src, base.tree, head.tree)).filter((c) => c.new !== null).map((c) => c.path));
    const attrsAbove = await this.attrsAbove(src);
    const tree = await new MountScanner({ upperDir: this.m.upperDir, clDir: this.m.clDir, baseTree: base.tree, source: src, hashes, tracked, attrsAbove }).scan();
    hashes.save();
    const raw = await diffTrees(src, head.tree, tree);
    const changes = await classify(raw, (oid) => src.readBlob(oid));
    return { tree, src, head, state, changes };
  }

  status(): Promise<StatusReport> {
    return this.serial(async () => {
      const { head, state, changes } = await this.scan();
      // Commits made since the last push (all of them when nothing was pushed or the pushed one was amended).
      const pushedAt = state.pushed ? state.commits.indexOf(state.pushed.commit) : -1;
      const ahead = state.commits.length - 1 - pushedAt;
      return { path: this.m.path, base_commit: this.base().commit, head: head.commit, ahead, pushed: state.pushed, clean: changes.length === 0, changes };
    });
  }

  diff(paths: readonly string[]): Promise<{ patches: FilePatch[]; text: string; stat: string }> {
    return this.serial(async () => {
      const { src, changes } = await this.scan();
      const wanted = changes.filter((c) => paths.length === 0 || paths.some((p) => under(c.path, p) || (c.old_path !== null && under(c.old_path, p))));
      const read = async (oid: string | null) => (oid === null ? null : src.readBlob(oid));
      const patches: FilePatch[] = [];
      for (const c of wanted) patches.push(filePatch(c, await read(c.old_oid), await read(c.new_oid)));
      return { patches, text: patches.map((p) => p.text).join(""), stat: statText(patches) };
    });
  }

  commit(opts: { message: string; author?: string | null; amend?: boolean }): Promise<CommitResult> {
    return this.serial(async () => {
      const message = cleanMessage(opts.message);
      if (message === "") throw new VcsError("EMPTY_MESSAGE", "aborting commit due to empty commit message", 400);
      const author = this.author(opts.author ?? null);
      const { tree, src, head, state, changes } = await this.scan();
      let parent = head.commit;
      let commits = state.commits;
      if (opts.amend) {
        if (!state.head || state.commits.length === 0) {
          throw new VcsError("NOTHING_TO_AMEND", "there is no local commit to amend", 400);
        }
        parent = parseCommit(this.objects.read(state.head)!.body).parents[0] ?? this.base().commit;
        commits = state.commits.slice(0, -1);
      } else if (changes.length === 0) {
        throw new VcsError("NOTHING_TO_COMMIT", "nothing to commit, working tree clean", 409);
      }
      await this.writeObjects(src, tree);
      const when = signatureNow(author.name, author.email, this.deps.now?.() ?? new Date());
      const id = this.objects.write("commit", encodeCommit({ tree, parents: [parent], author: when, committer: when, message }));
      this.writeState({ head: id, commits: [...commits, id], pushed: state.pushed });
      return { commit: id, tree, parent, changes, message };
    });
  }

  /** Squashes local commits onto the base if needed and pushes; records the CL. */
  push(opts: { token?: string }): Promise<PushResult & { commit: string; squashed: number; lfs: LfsPushReport }> {
    return this.serial(async () => {
      const state = this.readState();
      const base = this.base();
      if (!state.head) throw new VcsError("NOTHING_TO_PUSH", "nothing to push: no local commits (run 'scorpio commit' first)", 409);
      if (state.pushed && state.pushed.commit === state.head) {
        throw new VcsError("UP_TO_DATE", `everything up to date: ${state.head.slice(0, 7)} is already CL ${state.pushed.link} (${state.pushed.url})`, 409);
      }
      const tree = this.headOf(state).tree;
      this.checkPushable(tree);
      // LFS objects first: a pack whose pointers name objects the server lacks would be a broken CL.
      const lfs = await this.uploadLfs(tree, opts.token || undefined);
      const { commit, squashed } = this.squash(state, base.commit);
      let result: PushResult;
      try {
        result = await pushCommit({ baseUrl: this.deps.baseUrl, path: this.m.path, objectsDir: this.objects.dir, commit, token: opts.token || undefined, timeoutMs: this.deps.timeoutMs });
      } catch (err) {
        if (err instanceof PushError) throw new VcsError(`PUSH_${err.code.toUpperCase().replace(/-/g, "_")}`, `push failed: ${err.message}${err.serverReport ? `\n${err.serverReport.trim()}` : ""}`, pushStatus(err));
        throw err;
      }
      this.writeState({ head: commit, commits: [commit], pushed: { commit, link: result.link, url: result.url } });
      return { ...result, commit, squashed, lfs };
    });
  }

  /** One commit with HEAD's tree whose parent is the base (the commit itself when it already is). */
  private squash(state: VcsState, base: string): { commit: string; squashed: number } {
    const chain = state.commits.map((id) => ({ id, c: parseCommit(this.objects.read(id)!.body) }));
    const last = chain[chain.length - 1]!;
    if (chain.length === 1 && last.c.parents[0] === base) return { commit: last.id, squashed: 1 };
    const text = new TextDecoder().decode(this.objects.read(last.id)!.body);
    const sig = (role: string) => new RegExp(`^${role} (.*)$`, "m").exec(text)?.[1] ?? "";
    // Messages of the squashed commits, oldest first (git's squash message, without its comments).
    const messages = chain.map((x) => x.c.message.trim()).filter((m, i, all) => m !== "" && all.indexOf(m) === i);
    const body = `tree ${last.c.tree}\nparent ${base}\nauthor ${sig("author")}\ncommitter ${sig("committer")}\n\n${cleanMessage(messages.join("\n\n"))}`;
    const id = this.objects.write("commit", new TextEncoder().encode(body));
    return { commit: id, squashed: chain.length };
  }

  private author(raw: string | null): { name: string; email: string } {
    if (raw === null) return this.deps.author;
    const ident = parseIdent(raw);
    if (!ident) throw new VcsError("BAD_AUTHOR", `--author '${raw}' is not 'Name <email>'`, 400);
    return ident;
  }

  /**
   * Writes the new trees reachable from `tree` and the blobs they name that are not on the server; the
   * content of a file at an LFS path goes to the LFS object directory and its pointer becomes the blob.
   */
  private async writeObjects(src: MountTreeSource, tree: string): Promise<void> {
    const visit = async (id: string) => {
      const items = src.scratch.get(id);
      if (!items || this.objects.has(id)) return;
      for (const i of items) {
        if (isTreeMode(i.mode)) await visit(i.oid);
        else if (!this.objects.has(i.oid)) {
          const lfs = src.scratchLfs.get(i.oid);
          const blob = src.scratchBlobs.get(i.oid);
          if (lfs) this.objects.write("blob", await lfs.store(this.lfsObjects));
          else if (blob) this.objects.write("blob", blob());
        }
      }
      this.objects.write("tree", encodeTree(items));
    };
    await visit(tree);
  }

  /**
   * Uploads the LFS objects named by the pointer blobs of `tree`'s new files (objects the server has are
   * skipped). Any failure throws before anything else is sent; the commits and objects stay for a retry.
   */
  private async uploadLfs(tree: string, token: string | undefined): Promise<LfsPushReport> {
    const src = this.source();
    const wanted = await lfsObjectsOf(src, this.objects, tree, await this.attrsAbove(src));
    if (wanted.length === 0) return { uploaded: 0, skipped: 0 };
    const where = (oid: string) => wanted.find((w) => w.pointer.oid === oid)?.paths.join(", ") ?? oid;
    if (!this.deps.lfs) throw new VcsError("PUSH_LFS", "push failed: this daemon has no LFS client configured, and the commit has LFS files; nothing was pushed", 500);
    let report;
    try {
      report = await this.deps.lfs(token).upload(wanted.map((w) => ({ oid: w.pointer.oid, size: w.pointer.size, path: this.lfsObjects.pathFor(w.pointer.oid) })));
    } catch (err) {
      throw lfsPushError(err, `the LFS batch call failed`);
    }
    if (report.failed.length > 0) {
      const lines = report.failed.map((f) => `${where(f.oid)} (${f.oid.slice(0, 12)}…): ${f.error.message}`);
      throw lfsPushError(report.failed[0]!.error, `${report.failed.length} of ${wanted.length} LFS object(s) could not be uploaded:\n  ${lines.join("\n  ")}`);
    }
    return { uploaded: report.uploaded.length, skipped: report.skipped.length };
  }

  /**
   * The attribute files of the monorepo directories above a sub-path mount, as of its base (the root
   * commit read with it): their `filter=lfs` rules apply to the mount's files, as on the read path.
   * Read once per mount (the base does not change).
   */
  private attrsAbove(src: MountTreeSource): Promise<{ prefix: string; stack: AttrStack }> {
    const parts = this.m.path.split("/").filter((p) => p !== "");
    const key = `${this.m.path}@${this.m.baseRootCommit ?? ""}`;
    if (this.above?.key === key) return this.above.value;
    const value = (async () => {
      let stack = AttrStack.empty();
      for (let i = 0; i < parts.length; i++) {
        const dir = parts.slice(0, i).join("/");
        const body = await fetchTreeBody({ baseUrl: this.deps.baseUrl, timeoutMs: this.deps.timeoutMs }, "/" + dir, this.m.baseRootCommit ? { refs: this.m.baseRootCommit } : {});
        const items = body === null ? [] : treeItemsOf(body);
        stack = await stack.with(dir, async (name) => {
          const f = items.find((x) => x.name === name && !isTreeMode(x.mode) && x.mode !== "120000" && x.mode !== "160000");
          return f ? src.readBlob(f.oid) : null;
        });
      }
      return { prefix: parts.join("/"), stack };
    })();
    value.catch(() => {
      if (this.above?.value === value) this.above = null;
    });
    this.above = { key, value };
    return value;
  }

  /** Names Mega cannot store: not UTF-8, or a `.git` component. Reported before anything is sent. */
  private checkPushable(tree: string): void {
    const bad: string[] = [];
    const walk = (id: string, prefix: string) => {
      const obj = this.objects.read(id);
      if (!obj) return; // a base tree: already on the server
      for (const raw of treeItemsOf(obj.body)) {
        const path = prefix === "" ? raw.name : `${prefix}/${raw.name}`;
        let utf8 = true;
        try {
          new TextDecoder("utf-8", { fatal: true }).decode(encodeName(raw.name));
        } catch {
          utf8 = false;
        }
        if (!utf8) bad.push(`${JSON.stringify(path)}: name is not valid UTF-8`);
        else if (raw.name.toLowerCase() === ".git") bad.push(`${path}: '.git' is reserved`);
        if (isTreeMode(raw.mode)) walk(raw.oid, path);
      }
    };
    walk(tree, "");
    if (bad.length > 0) throw new VcsError("REFUSED_PATHS", `Mega would refuse these paths; rename them and commit again (nothing was pushed):\n  ${bad.join("\n  ")}`, 422);
  }
}

function under(path: string, prefix: string): boolean {
  const p = prefix.replace(/^\.\/+/, "").replace(/\/+$/, "");
  return p === "" || p === "." || path === p || path.startsWith(p + "/");
}

/** What a push did with LFS objects. */
export interface LfsPushReport {
  uploaded: number;
  /** Objects the server already had. */
  skipped: number;
}

function lfsPushError(err: unknown, what: string): VcsError {
  const status = err instanceof RemoteError ? err.status : undefined;
  const unauthorized = status === 401 || status === 403;
  const detail = err instanceof Error && !what.includes(err.message) ? `: ${err.message}` : "";
  return new VcsError(unauthorized ? "PUSH_UNAUTHORIZED" : "PUSH_LFS", `push failed: ${what}${detail}; nothing was pushed (the commit and its LFS objects are kept; run 'scorpio push' again)`, unauthorized ? 401 : 502);
}

function pushStatus(err: PushError): number {
  if (err.code === "unauthorized") return 401;
  if (err.code === "network") return 502;
  if (err.code === "non-fast-forward" || err.code === "rejected") return 409;
  if (err.code === "bad-input") return 400;
  return 502;
}
