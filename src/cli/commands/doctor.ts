/**
 * @module cli/commands/doctor — `doctor [--fix] [--json]`: environment diagnostics. Output format and
 * exit codes are the original's (`[ OK ]`/`[WARN]`/`[FAIL]` lines, footer, exit 1 on a critical
 * failure); `--fix` unmounts stale FUSE mounts and clears a dead daemon's record.
 */
import { Command, Option } from "clipanion";
import { BaseCommand } from "../base-command.ts";
import { renderCheck, runDoctorChecks } from "../doctor/checks.ts";
import { ExitCode } from "../exit-codes.ts";

export class DoctorCommand extends BaseCommand {
  static override paths = [["doctor"]];
  static override usage = Command.Usage({
    category: "Diagnostics",
    description: "check that this machine can run scorpio",
    details: `
      Checks the FUSE device (\`SCORPIO_FUSE_DEVICE\` overrides /dev/fuse), kernel support,
      libfuse3, fusermount3, /etc/fuse.conf, stale FUSE mounts under the workspace and the Antares
      mount root, that the configured directories are writable, free disk space, the Mega server
      (\`/api/v1/status\`, 2 s deadline) and the running daemon's \`/health\`.

      Without any config file it runs on the defaults (with a warning). Exit code 1 if a critical check
      fails, 2 if the config cannot be loaded. \`--fix\` lazily
      unmounts stale mounts (\`fusermount3 -uz\`, then \`umount -l\`). \`--bundle <path>\` also writes a
      .tar.gz with the report, the effective config (secrets redacted), versions, FUSE mounts, and from the
      running daemon its /health, /metrics, mounts, FUSE statistics and recent log lines (and the systemd
      journal when there is one).
    `,
    examples: [
      ["Check the environment", "$0 doctor"],
      ["Check and unmount stale mounts", "$0 doctor --fix"],
      ["Machine-readable report", "$0 doctor --json"],
      ["Write a diagnostic archive for a bug report", "$0 doctor --bundle scorpio-bundle.tar.gz"],
    ],
  });

  fix = Option.Boolean("--fix", false, { description: "Repair what can be repaired (stale mounts, dead daemon record)" });
  json = Option.Boolean("--json", false, { description: "Print JSON instead of text" });
  bundle = Option.String("--bundle", {
    description: "Also write a diagnostic archive (.tar.gz) for a bug report: report, redacted config, versions, mounts, the daemon's metrics and recent logs",
  });

  /** The config file in use, or "" when doctor runs on the defaults. */
  private discoveredConfigPath(): string {
    try {
      return this.configPath;
    } catch {
      return "";
    }
  }

  async run(): Promise<number> {
    const config = this.loadConfiguration({ init: true, allowMissing: true });
    this.setupLogging(config);
    const results = await runDoctorChecks({ config, env: this.context.env, fix: this.fix });
    const failed = results.filter((r) => r.status === "fail" && r.critical).length;
    if (this.bundle !== undefined) {
      // Loaded on demand: only this option needs the daemon client and tar.
      const { writeBundle } = await import("../doctor/bundle.ts");
      try {
        const b = await writeBundle({ config, configPath: this.discoveredConfigPath(), checks: results, output: this.bundle });
        this.err(`wrote diagnostic bundle ${b.path} (${b.files.length} files${b.missing.length ? `; not collected: ${b.missing.length}, see NOTES.txt` : ""})`);
      } catch (err) {
        return this.fail(`doctor --bundle: ${(err as Error).message}`, ExitCode.INTERNAL);
      }
    }
    if (this.json) {
      this.out(JSON.stringify({ checks: results, failed, ok: failed === 0 }, null, 2));
    } else {
      this.out("scorpio doctor — environment diagnostics");
      this.out("");
      for (const r of results) this.out(renderCheck(r));
      this.out("");
      this.out(failed === 0 ? "All critical checks passed." : `${failed} critical check(s) failed.`);
    }
    return failed === 0 ? ExitCode.SUCCESS : ExitCode.INTERNAL;
  }
}
