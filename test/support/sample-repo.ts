/**
 * @module test/support/sample-repo — builds real git repositories with the git CLI for tests and benches:
 * a small repo with every awkward entry kind (exec bit, symlinks, empty and binary files, odd names,
 * a gitlink), helpers to mutate "upstream" main and to create CLs, and a large repo via fast-import.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Deterministic identity and no user/system config, so hashes do not depend on the machine. */
export const GIT_ENV: Record<string, string> = {
  GIT_AUTHOR_NAME: "Sample Author",
  GIT_AUTHOR_EMAIL: "author@example.com",
  GIT_COMMITTER_NAME: "Sample Committer",
  GIT_COMMITTER_EMAIL: "committer@example.com",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
};

export function git(cwd: string, args: string[], opts: { stdin?: string | Uint8Array; env?: Record<string, string> } = {}): string {
  const r = Bun.spawnSync(["git", ...args], {
    cwd,
    stdin: opts.stdin === undefined ? "ignore" : typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin,
    env: { ...process.env, ...GIT_ENV, ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

/**
 * Async git: use it for anything that talks to a server running in this process (clone, push, ls-remote),
 * since a synchronous spawn blocks the event loop the server needs.
 */
export async function gitAsync(cwd: string, args: string[], opts: { env?: Record<string, string> } = {}): Promise<string> {
  const p = Bun.spawn(["git", ...args], { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...GIT_ENV, ...opts.env } });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`git ${args.join(" ")} failed in ${cwd}: ${err}`);
  return out;
}

/** A CL change set: path → new content, or null to delete. Paths are relative to the CL's path. */
export type ClChanges = Record<string, string | Uint8Array | null>;

export interface SampleRepo {
  /** The repository (work tree) path; `.git` inside. Main is `refs/heads/main`. */
  path: string;
  /** Writes (creating parents) and commits one file on main; returns the new commit id. */
  commitFile(path: string, content: string | Uint8Array, message?: string): string;
  /** Removes a file (or directory) and commits; returns the new commit id. */
  removeFile(path: string, message?: string): string;
  /**
   * Creates CL `link` as Mega models it: `refs/cl/<link>` → a commit with the changes applied, whose
   * first parent is the base. For `clPath` "/" the base is main and paths are repo-relative; for a
   * sub-path the base is a parentless "path commit" whose tree is main's subtree at clPath, so files-list
   * paths are relative to clPath (Mega's behaviour). The path is recorded in git config `cl.<link>.path`.
   * Returns the CL commit id.
   */
  makeCl(link: string, changes: ClChanges, opts?: { clPath?: string; message?: string }): string;
  /** `git rev-parse <rev>`. */
  revParse(rev: string): string;
}

/** Paths in the sample repo, for tests to refer to. */
export const SAMPLE = {
  exec: "bin/run.sh",
  fileLink: "link-to-readme",
  dirLink: "link-to-src",
  empty: "empty.txt",
  binary: "assets/blob.bin",
  gitlink: "vendor/sub",
  weird: ["dir with space/a b.txt", "plus+dir/x+y.txt", "hash#dir/a#b.txt", "amp&dir/a&b=c.txt", "ünïcødé/日本.txt", "pct%dir/50%.txt"],
} as const;

/** Builds the sample repository in `dir` (created if needed). */
export function makeSampleRepo(dir: string): SampleRepo {
  mkdirSync(dir, { recursive: true });
  git(dir, ["init", "-q", "-b", "main"]);
  git(dir, ["config", "commit.gpgsign", "false"]);
  git(dir, ["config", "core.symlinks", "true"]);
  const w = (p: string, c: string | Uint8Array, mode?: number) => {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), c, mode ? { mode } : {});
  };
  w("README.md", "# Sample monorepo\n");
  w("src/main.rs", 'fn main() { println!("hi"); }\n');
  w("src/lib/mod.rs", "pub mod util;\n");
  w("src/lib/util.rs", "pub fn add(a: i32, b: i32) -> i32 { a + b }\n");
  w("project/foo/Cargo.toml", '[package]\nname = "foo"\n');
  w("project/foo/src/lib.rs", "// foo\n");
  w("project/bar/deep/a/b/c/leaf.txt", "leaf\n");
  w(SAMPLE.exec, "#!/bin/sh\necho run\n", 0o755);
  w(SAMPLE.empty, "");
  const bin = new Uint8Array(4096);
  for (let i = 0; i < bin.length; i++) bin[i] = (i * 131 + 7) & 0xff;
  bin[0] = 0; // make it unmistakably binary
  w(SAMPLE.binary, bin);
  for (const p of SAMPLE.weird) w(p, `content of ${p}\n`);
  symlinkSync("README.md", join(dir, SAMPLE.fileLink));
  symlinkSync("src", join(dir, SAMPLE.dirLink));
  git(dir, ["add", "-A"]);
  // A gitlink (submodule entry) pointing at some commit id; the object need not exist, as with real submodules.
  git(dir, ["update-index", "--add", "--cacheinfo", `160000,${"1234567890abcdef1234567890abcdef12345678"},${SAMPLE.gitlink}`]);
  git(dir, ["commit", "-q", "-m", "Initial sample monorepo\n\nWith a body line."], { env: dateEnv(0) });
  let tick = 1;
  const commitAll = (message: string) => {
    git(dir, ["commit", "-q", "-m", message], { env: dateEnv(tick++) });
    return git(dir, ["rev-parse", "HEAD"]).trim();
  };
  const repo: SampleRepo = {
    path: dir,
    commitFile(path, content, message) {
      w(path, content);
      git(dir, ["add", "--", path]);
      return commitAll(message ?? `update ${path}`);
    },
    removeFile(path, message) {
      git(dir, ["rm", "-r", "-q", "--", path]);
      rmSync(join(dir, path), { recursive: true, force: true });
      return commitAll(message ?? `remove ${path}`);
    },
    makeCl(link, changes, o = {}) {
      const clParts = (o.clPath ?? "/").split("/").filter(Boolean);
      const env = { ...dateEnv(tick++), GIT_INDEX_FILE: join(dir, ".git", `cl-index-${link}`) };
      let base = git(dir, ["rev-parse", "main"]).trim();
      let baseTree = `${base}^{tree}`;
      if (clParts.length > 0) {
        baseTree = git(dir, ["rev-parse", `main:${clParts.join("/")}`]).trim();
        base = git(dir, ["commit-tree", baseTree, "-m", "path commit"], { env }).trim();
      }
      git(dir, ["read-tree", baseTree], { env });
      for (const [p, content] of Object.entries(changes)) {
        if (content === null) git(dir, ["update-index", "--force-remove", "--", p], { env });
        else {
          const oid = git(dir, ["hash-object", "-w", "--stdin"], { stdin: content }).trim();
          git(dir, ["update-index", "--add", "--cacheinfo", `100644,${oid},${p}`], { env });
        }
      }
      const tree = git(dir, ["write-tree"], { env }).trim();
      const commit = git(dir, ["commit-tree", tree, "-p", base, "-m", o.message ?? `CL ${link}`], { env }).trim();
      git(dir, ["update-ref", `refs/cl/${link}`, commit]);
      git(dir, ["config", `cl.${link}.path`, "/" + clParts.join("/")]);
      rmSync(env.GIT_INDEX_FILE, { force: true });
      return commit;
    },
    revParse(rev) {
      return git(dir, ["rev-parse", rev]).trim();
    },
  };
  return repo;
}

/** Fixed, increasing commit dates so ids are reproducible and `latest-commit` ordering is unambiguous. */
function dateEnv(n: number): Record<string, string> {
  const d = `${1_700_000_000 + n * 60} +0000`;
  return { GIT_AUTHOR_DATE: d, GIT_COMMITTER_DATE: d };
}

export interface LargeRepoOptions {
  /** Number of files. Default 100 000. */
  files?: number;
  /** Files per leaf directory. Default 100. */
  filesPerDir?: number;
  /** Leaf directories per parent directory. Default 100. */
  dirsPerDir?: number;
  /** Bytes per file (content is varied so blobs are distinct). Default 64. */
  fileSize?: number;
}

/**
 * A large single-commit repository on main built with `git fast-import` (seconds for 100k files).
 * The repository is bare. Layout: `d<i>/d<j>/f<k>.txt`. Returns the repository path.
 */
export function makeLargeRepo(dir: string, opts: LargeRepoOptions = {}): string {
  const files = opts.files ?? 100_000;
  const perDir = opts.filesPerDir ?? 100;
  const dirsPerDir = opts.dirsPerDir ?? 100;
  const size = Math.max(16, opts.fileSize ?? 64);
  mkdirSync(dir, { recursive: true });
  git(dir, ["init", "-q", "--bare", "-b", "main"]);
  const chunks: string[] = [];
  // Blobs first as marks, then one commit referencing them: keeps the stream simple and linear.
  for (let i = 0; i < files; i++) {
    let body = `file ${i}\n`;
    while (body.length < size) body += `line ${i} ${body.length}\n`;
    body = body.slice(0, size - 1) + "\n";
    chunks.push(`blob\nmark :${i + 1}\ndata ${Buffer.byteLength(body)}\n${body}\n`);
  }
  chunks.push(`commit refs/heads/main\ncommitter Sample Committer <committer@example.com> 1700000000 +0000\ndata 13\nlarge sample\n`);
  for (let i = 0; i < files; i++) {
    const leaf = Math.floor(i / perDir);
    const p = `d${Math.floor(leaf / dirsPerDir)}/d${leaf % dirsPerDir}/f${i % perDir}.txt`;
    chunks.push(`M 100644 :${i + 1} ${p}\n`);
  }
  chunks.push("\n");
  git(dir, ["fast-import", "--quiet"], { stdin: chunks.join("") });
  return dir;
}
