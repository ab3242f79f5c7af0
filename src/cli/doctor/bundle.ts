/**
 * @module cli/doctor/bundle — `scorpio doctor --bundle out.tar.gz`: one archive a user can attach to a bug
 * report (like `eden rage`): the doctor report, the effective config with secrets redacted, versions, the
 * FUSE mounts, and from the running daemon its health, metrics, mounts, FUSE statistics and recent log lines
 * (plus the systemd journal when there is one). Every file is scrubbed of secret values before it is written.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { isSecretKey, KEY_NAMES, redactConfig, REDACTED, type ScorpioConfig } from "../../config/index.ts";
import { VERSION } from "../../version.ts";
import { DaemonClient, locateDaemon } from "../daemon-client.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CheckResult } from "./checks.ts";
import { formatFuseVersion, probeLibfuse } from "./libfuse.ts";

export interface BundleOptions {
  config: ScorpioConfig;
  configPath: string;
  checks: CheckResult[];
  output: string;
}

export interface BundleResult {
  path: string;
  files: string[];
  /** What could not be collected, and why (the archive says so too, in NOTES.txt). */
  missing: string[];
}

function run(argv: string[], timeoutMs = 10_000): string | undefined {
  try {
    const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", timeout: timeoutMs });
    return r.exitCode === 0 ? r.stdout.toString() : undefined;
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Every secret value of the config, to scrub from collected text (logs may quote a request). */
function secretValues(config: ScorpioConfig): string[] {
  return KEY_NAMES.filter((k) => isSecretKey(k))
    .map((k) => String(config[k] ?? ""))
    .filter((v) => v.length >= 4);
}

function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join(REDACTED);
  return out;
}

/** Writes the bundle; never throws for a part that cannot be collected (it is listed in `missing`). */
export async function writeBundle(opts: BundleOptions): Promise<BundleResult> {
  const { config } = opts;
  const secrets = secretValues(config);
  const work = mkdtempSync(join(tmpdir(), "scorpio-bundle-"));
  const name = basename(opts.output).replace(/\.(tar\.gz|tgz)$/, "") || "scorpio-bundle";
  const dir = join(work, name);
  mkdirSync(join(dir, "daemon"), { recursive: true });
  const files: string[] = [];
  const missing: string[] = [];
  const put = (file: string, text: string) => {
    writeFileSync(join(dir, file), scrub(text, secrets));
    files.push(file);
  };
  const json = (v: unknown) => JSON.stringify(v, null, 2) + "\n";

  try {
    put("doctor.json", json({ checks: opts.checks }));
    put("config.json", json({ path: opts.configPath || null, effective: redactConfig(config) }));
    const libfuse = probeLibfuse();
    put(
      "versions.json",
      json({
        scorpio: VERSION,
        bun: Bun.version,
        libfuse: libfuse.ok ? formatFuseVersion(libfuse.version) : `not loadable: ${libfuse.error}`,
        kernel: run(["uname", "-srvm"])?.trim() ?? null,
        os_release: readText("/etc/os-release") ?? null,
        fusermount3: run(["fusermount3", "--version"])?.trim() ?? null,
      }),
    );
    const mountinfo = readText("/proc/self/mountinfo");
    if (mountinfo !== undefined) put("mounts.txt", mountinfo.split("\n").filter((l) => / - fuse/.test(l)).join("\n") + "\n");
    else missing.push("mounts.txt: /proc/self/mountinfo is not readable");

    await collectDaemon(config, put, missing);

    const journal = run(["journalctl", "--no-pager", "-o", "short-iso", "-n", "2000", "-u", "scorpiofs", "-u", "scorpiofs-antares"], 15_000);
    if (journal && journal.trim() && !journal.startsWith("-- No entries --")) put("journal.txt", journal);
    else missing.push("journal.txt: no systemd journal for scorpiofs (not run as a service, or journalctl unavailable)");

    put("NOTES.txt", `scorpio ${VERSION} diagnostic bundle, ${new Date().toISOString()}\nSecrets (${KEY_NAMES.filter((k) => isSecretKey(k)).join(", ")}) are redacted.\n${missing.length ? `\nNot collected:\n${missing.map((m) => `- ${m}`).join("\n")}\n` : ""}`);

    const output = resolve(opts.output);
    const tar = Bun.spawnSync(["tar", "-czf", output, "-C", work, name], { stdout: "pipe", stderr: "pipe" });
    if (tar.exitCode !== 0) {
      throw new BundleError(`cannot write ${output}: ${tar.stderr.toString().trim() || `tar exited ${tar.exitCode}`}`);
    }
    return { path: output, files, missing };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export class BundleError extends Error {
  readonly exitCode = ExitCode.INTERNAL;
}

/** The running daemon's view: health, metrics, mounts, FUSE statistics, recent logs. */
async function collectDaemon(config: ScorpioConfig, put: (file: string, text: string) => void, missing: string[]): Promise<void> {
  let client: DaemonClient;
  try {
    client = new DaemonClient(locateDaemon({ stateFile: config.config_file }), ExitCode.INTERNAL, config.http_token);
  } catch (err) {
    missing.push(`daemon/*: ${(err as Error).message}`);
    return;
  }
  const routes: Array<[file: string, path: string]> = [
    ["daemon/health.json", "/health"],
    ["daemon/metrics.txt", "/metrics"],
    ["daemon/fuse.json", "/api/v1/fuse"],
    ["daemon/cache.json", "/api/v1/cache"],
    ["daemon/logs.json", "/api/v1/logs?lines=2000"],
  ];
  try {
    routes.push(["daemon/mounts.json", `${await client.antaresBase()}/mounts`]);
  } catch (err) {
    missing.push(`daemon/mounts.json: ${(err as Error).message}`);
  }
  for (const [file, path] of routes) {
    try {
      const res = await client.request("GET", path);
      if (res.ok) put(file, res.text.endsWith("\n") ? res.text : res.text + "\n");
      else missing.push(`${file}: GET ${client.baseUrl}${path} answered HTTP ${res.status}`);
    } catch (err) {
      missing.push(`${file}: ${(err as Error).message}`);
    }
  }
}
