/**
 * Native-semantics differential tests (shared by test/overlay and test/antares): each rule of
 * fs-rules.py runs in a native checkout of the rule's directory and in the same directory seen
 * through a mount whose lower layer holds it; the transcripts are compared line for line.
 */
import * as fs from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { git } from "./sample-repo.ts";

const SCRIPT = join(import.meta.dir, "fs-rules.py");
export const RULES = ["hardlink", "rename", "xattr", "tmpfile", "mmap", "locks", "append", "truncate", "sparse", "fallocate", "utimens", "readdir", "rename-open", "statfs"] as const;
export type Rule = (typeof RULES)[number];

/** Commits `rules/<rule>/` for every rule to the repository at `repoPath`: files (one executable), nested directories, 300 names for readdir. */
export function commitRuleTrees(repoPath: string): void {
  for (const rule of RULES) {
    const root = join(repoPath, "rules", rule);
    const w = (p: string, c: string | Uint8Array, mode = 0o644) => {
      fs.mkdirSync(join(root, p, ".."), { recursive: true });
      fs.writeFileSync(join(root, p), c, { mode });
    };
    w("f", "lower f\n");
    w("x.sh", "#!/bin/sh\necho x\n", 0o755);
    const big = new Uint8Array(65536);
    for (let i = 0; i < big.length; i++) big[i] = 97 + (i % 26);
    w("big", big);
    w("d/a", "lower a\n");
    w("d/sub/b", "lower b\n");
    w("e/c", "lower c\n");
    w("h/z", "lower z\n");
    if (rule === "readdir") for (let i = 0; i < 300; i++) w(`many/${String(i).padStart(3, "0")}`, "");
  }
  git(repoPath, ["add", "-A"]);
  git(repoPath, ["commit", "-q", "-m", "rule trees"]);
}

/** A native checkout of `rules/` at `dest` (created), as git checks it out. */
export function checkoutRuleTrees(repoPath: string, dest: string): void {
  fs.mkdirSync(dest);
  const archive = spawnSync("sh", ["-c", `git -C '${repoPath}' -c tar.umask=0022 archive HEAD rules | tar -x -C '${dest}'`], { encoding: "utf8" });
  if (archive.status !== 0) throw new Error(archive.stderr);
}

/** The rule's transcript under `root` (which holds `rules/`), as "label: value" lines. */
function transcript(rule: Rule, root: string): string[] {
  // Through a file, so that what a run printed before it hung survives the timeout.
  const outFile = join(fs.mkdtempSync(join(tmpdir(), "fs-rules-")), "out");
  const fd = fs.openSync(outFile, "w");
  const r = spawnSync("python3", [SCRIPT, rule, join(root, "rules", rule)], { stdio: ["ignore", fd, "pipe"], encoding: "utf8", timeout: 60_000 });
  fs.closeSync(fd);
  const stdout = fs.readFileSync(outFile, "utf8");
  fs.rmSync(join(outFile, ".."), { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`fs-rules.py ${rule} in ${root} exited ${r.status ?? r.signal}:\n${r.stderr}\n${stdout}`);
  return stdout.trimEnd().split("\n");
}

export interface RuleRun {
  /** Lines that must be equal: natively, and through the mount. */
  native: string[];
  mount: string[];
  /** Lines labelled "~" (documented differences, free-space counts), label → value, for the caller to judge. */
  judgedNative: Map<string, string>;
  judgedMount: Map<string, string>;
}

/** Free counts move with whatever else writes to the disk meanwhile: compared with a tolerance. */
export const FREE_COUNTS = ["bavail", "bfree", "ffree"];

/** The "~" lines the FUSE overlay answers differently from a native directory (docs/overlay.md). */
export type KnownDifferences = Record<string, string | ((native: string) => string)>;

export const FUSE_OVERLAY_DIFFERENCES: KnownDifferences = { O_TMPFILE: "EOPNOTSUPP", RENAME_WHITEOUT: "EINVAL", COLLAPSE_RANGE: "EOPNOTSUPP", INSERT_RANGE: "EOPNOTSUPP" };

/**
 * Checks a run: the exact lines equal; each "~" line equal to the native one unless `known` gives the
 * mount's expected value; free counts within 1% of the size.
 */
export function expectNative(run: RuleRun, known: KnownDifferences, expect: (v: unknown) => { toEqual(v: unknown): void; toBeLessThanOrEqual(n: number): void }, rule: string): void {
  expect({ rule, lines: run.mount }).toEqual({ rule, lines: run.native });
  for (const [label, value] of run.judgedNative) {
    const got = run.judgedMount.get(label);
    if (FREE_COUNTS.includes(label)) {
      const [a, b] = [Number(value), Number(got)];
      expect(Math.abs(a - b)).toBeLessThanOrEqual(Math.max(a, b) / 100 + 16);
    } else {
      const k = known[label];
      expect({ rule, label, value: got }).toEqual({ rule, label, value: k === undefined ? value : typeof k === "string" ? k : k(value) });
    }
  }
}

/** Runs `rule` in the native checkout `nativeRoot`, then through the mount at `mountRoot`. */
export function runRule(rule: Rule, nativeRoot: string, mountRoot: string): RuleRun {
  const want = transcript(rule, nativeRoot);
  const got = transcript(rule, mountRoot);
  const exact = (lines: string[]) => lines.filter((l) => !l.startsWith("~"));
  const judged = (lines: string[]) => new Map(lines.filter((l) => l.startsWith("~")).map((l) => [l.slice(1, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]));
  return { native: exact(want), mount: exact(got), judgedNative: judged(want), judgedMount: judged(got) };
}
