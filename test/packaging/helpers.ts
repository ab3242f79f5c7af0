/**
 * Shared helpers for the packaging tests: running scripts with a deadline, building one release per test run
 * (memoised: bun test runs every file in one process), and serving a directory over HTTP on 127.0.0.1.
 */
import { createHash } from "node:crypto";
import { cpSync, symlinkSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const VERSION: string = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).version;

export function target(): string {
  const m = process.arch;
  if (m === "x64") return "x86_64-unknown-linux-gnu";
  if (m === "arm64") return "aarch64-unknown-linux-gnu";
  throw new Error(`unsupported test architecture ${m}`);
}
export const PKG = `scorpiofs-${VERSION}-${target()}`;
export const TARBALL = `${PKG}.tar.gz`;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command asynchronously (so an in-process HTTP server keeps answering) with a hard deadline. */
export async function run(
  cmd: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number; stdinFile?: string } = {},
): Promise<RunResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...opts.env })) if (v !== undefined) env[k] = v;
  const proc = Bun.spawn(cmd, {
    cwd: opts.cwd ?? REPO,
    env,
    stdin: opts.stdinFile ? Bun.file(opts.stdinFile) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: opts.timeoutMs ?? 120_000,
    killSignal: "SIGKILL",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** Temporary directories with one owner: a test file makes its own and removes them in afterAll. */
export class TempDirs {
  private dirs: string[] = [];
  make(prefix = "scorpio-pkg-"): string {
    const d = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }
  cleanup(): void {
    while (this.dirs.length) rmSync(this.dirs.pop()!, { recursive: true, force: true });
  }
}

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

let built: Promise<void> | undefined;
/** Runs `bun run build` once if dist/ has no binaries yet (the full test run builds first anyway). */
export function ensureBuilt(): Promise<void> {
  built ??= (async () => {
    if (existsSync(join(REPO, "dist/scorpio")) && existsSync(join(REPO, "dist/antares"))) return;
    const r = await run(["bun", "run", "build"], { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`bun run build failed: ${r.stderr}`);
  })();
  return built;
}

/** Whether a binary already implements `completions <shell>` (the CLI may still be a placeholder). */
export async function supportsCompletions(bin: string): Promise<boolean> {
  const r = await run([bin, "completions", "bash"], { timeoutMs: 30_000 });
  return r.code === 0 && r.stdout.includes("complete ") && r.stdout.includes("scorpio");
}

/**
 * A tree to run scripts/release from: the repository's release inputs copied into a temporary directory,
 * with a snapshot of dist/ (other work in the same checkout may rebuild dist/ while the tests run) and
 * placeholders, said aloud, for the files other parts of the project have not written yet.
 */
export async function releaseSourceRoot(temps: TempDirs): Promise<string> {
  await ensureBuilt();
  const root = temps.make("scorpio-src-");
  mkdirSync(join(root, "scripts"));
  cpSync(join(REPO, "scripts/release"), join(root, "scripts/release"));
  cpSync(join(REPO, "deploy"), join(root, "deploy"), { recursive: true });
  for (const f of ["install.sh", "package.json", "LICENSE", "README.md", "scorpio.toml.example"]) {
    if (existsSync(join(REPO, f))) cpSync(join(REPO, f), join(root, f));
    else {
      console.log(`packaging tests: ${f} is not in the repository yet; releasing with a placeholder`);
      writeFileSync(join(root, f), `# placeholder ${f} written by test/packaging\n`);
    }
  }
  mkdirSync(join(root, "dist"));
  cpSync(join(REPO, "dist", "scorpio"), join(root, "dist", "scorpio"));
  symlinkSync("scorpio", join(root, "dist", "antares"));
  return root;
}

/** Completion files for --completions-dir when the binary cannot produce them yet. */
export function placeholderCompletions(temps: TempDirs): string {
  const d = temps.make("scorpio-comp-");
  writeFileSync(join(d, "scorpio.bash"), "_scorpio() { COMPREPLY=(); }\ncomplete -F _scorpio scorpio\n");
  writeFileSync(join(d, "_scorpio"), "#compdef scorpio\n_arguments '1: :(serve mount umount list)'\n");
  writeFileSync(join(d, "scorpio.fish"), "complete -c scorpio -f -a 'serve mount umount list'\n");
  return d;
}

export interface Release {
  /** The release directory (tarball, SHA256SUMS, install.sh, LATEST). */
  out: string;
  /** The source tree it was built from; its dist/ holds the exact binaries that were packed. */
  srcRoot: string;
  /** Whether the completions came from the binary (false: placeholders, the CLI is not there yet). */
  realCompletions: boolean;
}

/**
 * Builds a release (scripts/release --no-build --out <tmp>) in directories owned by the caller's TempDirs.
 * Each test file builds its own: bun test gives no hook after the last file, so nothing shared could be removed.
 */
export async function buildRelease(temps: TempDirs): Promise<Release> {
  const srcRoot = await releaseSourceRoot(temps);
  const realCompletions = await supportsCompletions(join(srcRoot, "dist/scorpio"));
  const out = temps.make("scorpio-release-");
  const args = [join(srcRoot, "scripts/release"), "--no-build", "--out", out];
  if (!realCompletions) {
    console.log("packaging tests: dist/scorpio does not implement `completions` yet; using placeholder completions");
    args.push("--completions-dir", placeholderCompletions(temps));
  }
  const r = await run(args, { env: { SOURCE_DATE_EPOCH: "1700000000" }, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`scripts/release failed (${r.code}): ${r.stderr}`);
  return { out, srcRoot, realCompletions };
}

/** Serves files from named roots: GET /<name>/<file> → <roots[name]>/<file>; anything else is a 404. */
export function serveDirs(roots: Record<string, string>) {
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const [, name, ...rest] = new URL(req.url).pathname.split("/");
      const root = roots[name ?? ""];
      const file = rest.join("/");
      if (!root || !file || file.includes("..")) return new Response("not found\n", { status: 404 });
      const f = Bun.file(join(root, file));
      if (!(await f.exists())) return new Response("not found\n", { status: 404 });
      return new Response(f);
    },
  });
}

/** Every path under dir (relative), with size and mtime, to prove a run changed nothing. */
export async function snapshot(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const r = await run(["find", dir, "-mindepth", "1", "-printf", "%P %y %s %T@ %m\\n"], { timeoutMs: 30_000 });
  return r.stdout.split("\n").filter(Boolean).sort();
}
