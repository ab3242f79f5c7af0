/**
 * @module cli/commands/vcs — `status`, `diff`, `commit` and `push` on a writable mount (a job mount or a
 * legacy checkout), through the daemon's HTTP API. `status` outside any writable mount (and without
 * `--mount`) prints the daemon summary as before (`scorpio info`).
 */
import { Command, Option } from "clipanion";
import type { ScorpioConfig } from "../../config/index.ts";
import { ClientCommand } from "../client-command.ts";
import { errorText, isObject, type DaemonClient, type DaemonResponse } from "../daemon-client.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { findVcsTarget, mountRelative, requireVcsTarget, type VcsTarget } from "../vcs-target.ts";
import { porcelainLine, type Change } from "../../vcs/changes.ts";
import { InfoCommand } from "./status.ts";

/** Scans and pushes of large trees take a while: one generous deadline for every VCS request. */
const VCS_DEADLINE_MS = 600_000;

function fail(what: string, res: DaemonResponse): never {
  const code = isObject(res.json) && typeof res.json.code === "string" ? ` [${res.json.code}]` : "";
  throw new CliError(`${what}: ${errorText(res)}${code}`, ExitCode.INTERNAL);
}

const short = (oid: unknown) => (typeof oid === "string" ? oid.slice(0, 7) : "?");

export class StatusCommand extends InfoCommand {
  static override paths = [["status"]];
  static override usage = Command.Usage({
    category: "Version control",
    description: "show what changed in a writable mount (or the daemon summary outside of one)",
    details: `
      Inside a job mount or checkout (or with \`--mount\`), lists what changed against the mount's HEAD
      (its last local commit, or the commit it was created from) as git's porcelain lines: \`A\`dded,
      \`M\`odified (content or exec bit), \`D\`eleted, \`R\`enamed (\`old -> new\`), \`T\`ype changed
      (file/symlink). The first line (\`## …\`) names the mount, its base and HEAD, local commits not
      pushed yet and the CL it was pushed to. Outside any writable mount it prints the daemon summary
      (same as \`scorpio info\`).
    `,
    examples: [
      ["Changes of the mount the shell is in", "$0 status"],
      ["Of a job mount, as JSON", "$0 status --mount job-42 --json"],
    ],
  });

  mount = Option.String("--mount", { description: "The mount: a directory inside it, its mount id or job id" });

  override async run(): Promise<number> {
    const client = this.connect();
    const target = await findVcsTarget(client, this.mount);
    if (!target) return this.printInfo();
    const res = await client.request("GET", `${target.route}/status`, { timeoutMs: VCS_DEADLINE_MS });
    if (!res.ok || !isObject(res.json)) fail("status failed", res);
    const s = res.json;
    if (this.json) {
      this.out(JSON.stringify(s, null, 2));
      return ExitCode.SUCCESS;
    }
    const parts = [`## ${target.label}`, `base ${short(s.base_commit)}`];
    if (s.head !== s.base_commit) parts.push(`HEAD ${short(s.head)}`);
    if (typeof s.ahead === "number" && s.ahead > 0) parts.push(`[${s.ahead} local commit${s.ahead === 1 ? "" : "s"} not pushed]`);
    const pushed = isObject(s.pushed) ? s.pushed : null;
    if (pushed) parts.push(`[CL ${String(pushed.link)} ${String(pushed.url)}]`);
    else if (typeof s.cl_link === "string") parts.push(`[CL ${s.cl_link}]`);
    if (s.clean === true) parts.push("clean");
    this.out(parts.join(" "));
    for (const c of (Array.isArray(s.changes) ? s.changes : []) as Change[]) this.out(porcelainLine(c));
    return ExitCode.SUCCESS;
  }
}

abstract class VcsCommand extends ClientCommand {
  mount = Option.String("--mount", { description: "The mount: a directory inside it, its mount id or job id (default: the one the current directory is in)" });

  protected async target(): Promise<{ client: DaemonClient; target: VcsTarget }> {
    const client = this.connect();
    return { client, target: await requireVcsTarget(client, this.mount) };
  }

  /** POSTs to one of the mount's VCS routes; the JSON answer, or a CliError with the daemon's words. */
  protected async post(client: DaemonClient, target: VcsTarget, op: "commit" | "push", body: unknown): Promise<{ res: DaemonResponse; json: Record<string, unknown> | null }> {
    const res = await client.request("POST", `${target.route}/${op}`, { body, timeoutMs: VCS_DEADLINE_MS });
    return { res, json: res.ok && isObject(res.json) ? res.json : null };
  }

  /** Prints `json` when `--json` was given; returns whether it did. */
  protected printedJson(json: unknown, asked: boolean): boolean {
    if (asked) this.out(JSON.stringify(json, null, 2));
    return asked;
  }
}

export class DiffCommand extends VcsCommand {
  static override paths = [["diff"]];
  static override usage = Command.Usage({
    category: "Version control",
    description: "show the changes of a writable mount as a unified diff",
    details: `
      Prints what \`status\` lists as a git diff (\`git apply\` accepts it): rename and mode headers,
      3 lines of context, "Binary files … differ" for binary content. \`--stat\` prints a diffstat
      instead, \`--json\` the patch and per-file counts. Paths limit the output to those files or
      directories.
    `,
    examples: [
      ["Everything", "$0 diff"],
      ["One directory, as a diffstat", "$0 diff --stat src/"],
    ],
  });

  stat = Option.Boolean("--stat", false, { description: "Print a diffstat instead of the patch" });
  json = Option.Boolean("--json", false, { description: "Print JSON (patch, stat, files)" });
  files = Option.Rest({ name: "path" });

  async run(): Promise<number> {
    const { client, target } = await this.target();
    const q = new URLSearchParams();
    for (const p of this.files) q.append("path", mountRelative(target, p));
    q.set("format", this.json ? "json" : this.stat ? "stat" : "patch");
    const url = `${client.baseUrl}${target.route}/diff?${q}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: client.headers(), signal: AbortSignal.timeout(VCS_DEADLINE_MS) });
    } catch (err) {
      throw new CliError(`cannot reach the scorpio daemon at ${client.baseUrl}: ${(err as Error).message}`, ExitCode.INTERNAL);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (!res.ok) {
      const text = new TextDecoder().decode(bytes);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      fail("diff failed", { status: res.status, ok: false, text, json });
    }
    process.stdout.write(bytes);
    return ExitCode.SUCCESS;
  }
}

export class CommitCommand extends VcsCommand {
  static override paths = [["commit"]];
  static override usage = Command.Usage({
    category: "Version control",
    description: "commit the changes of a writable mount locally",
    details: `
      Records everything \`status\` lists as one git commit whose parent is the mount's HEAD (its last
      local commit, or the base commit). Objects are byte-identical to git's and kept in the mount's
      own object store until \`push\`. Author and committer come from \`git_author\`/\`git_email\` or
      \`--author\`. Exit code 1 with "nothing to commit" when there is nothing to commit (as git).
    `,
    examples: [
      ["Commit", '$0 commit -m "Fix the build"'],
      ["Reword the last local commit, taking the current changes in", '$0 commit --amend -m "Fix the build (take 2)"'],
    ],
  });

  message = Option.String("-m,--message", { required: true, description: "Commit message" });
  author = Option.String("--author", { description: 'Author, "Name <email>"' });
  amend = Option.Boolean("--amend", false, { description: "Replace the last local commit" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  async run(): Promise<number> {
    const { client, target } = await this.target();
    const { res, json: c } = await this.post(client, target, "commit", { message: this.message, author: this.author ?? null, amend: this.amend });
    if (!res.ok && isObject(res.json) && res.json.code === "NOTHING_TO_COMMIT") {
      this.out("nothing to commit, working tree clean");
      return ExitCode.INTERNAL;
    }
    if (!c) fail("commit failed", res);
    if (this.printedJson(c, this.json)) return ExitCode.SUCCESS;
    const changes = (Array.isArray(c.changes) ? c.changes : []) as Change[];
    this.out(`[${target.label} ${short(c.commit)}] ${String(c.message).split("\n")[0]}`);
    this.out(` ${changes.length} file${changes.length === 1 ? "" : "s"} changed`);
    for (const ch of changes) this.out(` ${porcelainLine(ch)}`);
    return ExitCode.SUCCESS;
  }
}

export class PushCommand extends VcsCommand {
  static override paths = [["push"]];
  static override usage = Command.Usage({
    category: "Version control",
    description: "push the local commits of a writable mount to a Mega change list (CL)",
    details: `
      Squashes the mount's local commits into one on the base commit (Mega takes one commit per push)
      and sends it with git's smart HTTP protocol. Mega opens a CL for it (or updates the mount's CL on
      a later push); its link and URL are printed and stored on the mount. The access token comes from
      \`--token\`, \`SCORPIO_MEGA_TOKEN\` or the \`mega_token\` key (of this command's config, else the
      daemon's); it is never printed. On failure nothing is lost: the commits stay, push again.
    `,
    examples: [["Push", "$0 push"]],
  });

  token = Option.String("--token", { description: "Mega access token (prefer SCORPIO_MEGA_TOKEN)" });
  json = Option.Boolean("--json", false, { description: "Print JSON" });

  private localToken(): string | undefined {
    if (this.token) return this.token;
    if (process.env.SCORPIO_MEGA_TOKEN) return process.env.SCORPIO_MEGA_TOKEN;
    if (this.endpoint) return undefined;
    try {
      const config: ScorpioConfig = this.loadConfiguration({ init: false });
      return config.mega_token || undefined;
    } catch {
      return undefined;
    }
  }

  async run(): Promise<number> {
    const { client, target } = await this.target();
    const token = this.localToken();
    const { res, json: p } = await this.post(client, target, "push", token ? { token } : {});
    if (!p) fail("push failed", res);
    if (this.printedJson(p, this.json)) return ExitCode.SUCCESS;
    const squashed = typeof p.squashed === "number" && p.squashed > 1 ? ` (${p.squashed} local commits squashed)` : "";
    this.out(`pushed ${short(p.commit)}${squashed} to ${target.label}`);
    const up = Number(p.lfs_uploaded ?? 0);
    const had = Number(p.lfs_skipped ?? 0);
    if (up + had > 0) this.out(`LFS: ${up} object(s) uploaded, ${had} already on the server`);
    this.out(`CL ${String(p.link)}: ${String(p.url)}`);
    return ExitCode.SUCCESS;
  }
}
