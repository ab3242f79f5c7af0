/**
 * @module devserver/git-run — running one-shot git commands against the served repository.
 */

export interface GitResult {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

export async function runGit(gitDir: string, args: string[], opts: { stdin?: Uint8Array; env?: Record<string, string> } = {}): Promise<GitResult> {
  const proc = Bun.spawn(["git", "--git-dir", gitDir, ...args], {
    stdin: opts.stdin ?? "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, GIT_TERMINAL_PROMPT: "0", ...opts.env },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).arrayBuffer(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout: new Uint8Array(stdout), stderr };
}

/** Runs git and returns trimmed stdout text; throws with git's stderr on failure. */
export async function gitText(gitDir: string, args: string[], opts?: { env?: Record<string, string> }): Promise<string> {
  const r = await runGit(gitDir, args, opts);
  if (r.code !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return new TextDecoder().decode(r.stdout).trim();
}

/** The absolute git dir of a repository (bare or with a work tree). */
export async function resolveGitDir(repo: string): Promise<string> {
  const proc = Bun.spawn(["git", "-C", repo, "rev-parse", "--absolute-git-dir"], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`not a git repository: ${repo}: ${err.trim()}`);
  return out.trim();
}
