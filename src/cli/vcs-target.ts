/**
 * @module cli/vcs-target — which writable mount a version-control command is about: the one named by
 * `--mount` (a directory inside it, a mount id or a job id), else the one the current directory is in.
 * Antares job mounts come from `{antares}/mounts`, legacy checkouts from `/vcs/checkouts` (only on
 * `scorpio serve`). Paths given on the command line are made relative to the mount root.
 */
import { realpathSync } from "node:fs";
import { relative, resolve, sep } from "node:path";
import type { DaemonClient } from "./daemon-client.ts";
import { errorText, isObject } from "./daemon-client.ts";
import { CliError, ExitCode } from "./exit-codes.ts";

export interface VcsTarget {
  /** URL prefix of the mount's VCS routes, e.g. `/antares/mounts/<id>`. */
  route: string;
  mountpoint: string;
  label: string;
}

interface Candidate {
  route: string;
  mountpoint: string;
  ids: string[];
  label: string;
}

async function jobMounts(client: DaemonClient): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const base = await client.antaresBase();
  const res = await client.request("GET", `${base}/mounts`);
  if (!res.ok || !isObject(res.json) || !Array.isArray(res.json.mounts)) throw new CliError(`failed to list mounts: ${errorText(res)}`, ExitCode.INTERNAL);
  for (const m of res.json.mounts) {
    if (!isObject(m) || typeof m.mount_id !== "string" || typeof m.mountpoint !== "string") continue;
    const ids = [m.mount_id, ...(typeof m.job_id === "string" ? [m.job_id] : [])];
    out.push({ route: `${base}/mounts/${m.mount_id}`, mountpoint: m.mountpoint, ids, label: `job mount ${typeof m.job_id === "string" ? m.job_id : m.mount_id} (${String(m.path)})` });
  }
  return out;
}

/** Legacy checkouts (only `scorpio serve` has them; elsewhere the route is missing and the list empty). */
async function checkouts(client: DaemonClient): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const co = await client.request("GET", "/vcs/checkouts");
  if (co.ok && isObject(co.json) && Array.isArray(co.json.mounts)) {
    for (const m of co.json.mounts) {
      if (!isObject(m) || typeof m.id !== "string" || typeof m.mountpoint !== "string") continue;
      out.push({ route: `/vcs/checkouts/${m.id}`, mountpoint: m.mountpoint, ids: [m.id], label: `checkout ${String(m.path)}` });
    }
  }
  return out;
}

function real(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

const inside = (dir: string, mountpoint: string) => dir === mountpoint || dir.startsWith(mountpoint.endsWith(sep) ? mountpoint : mountpoint + sep);

function pick(all: readonly Candidate[], mount: string | undefined, cwd: string): Candidate | undefined {
  if (mount !== undefined) {
    const dir = resolve(cwd, mount);
    return all.find((c) => c.ids.includes(mount)) ?? all.find((c) => inside(dir, c.mountpoint) || inside(real(dir), real(c.mountpoint)));
  }
  const here = resolve(cwd);
  return all.find((c) => inside(here, c.mountpoint)) ?? all.find((c) => inside(real(here), real(c.mountpoint)));
}

/** The mount `--mount` names or `cwd` is in (job mounts first, then checkouts); null when neither (and no `--mount`). */
export async function findVcsTarget(client: DaemonClient, mount: string | undefined, cwd = process.cwd()): Promise<VcsTarget | null> {
  const hit = pick(await jobMounts(client), mount, cwd) ?? pick(await checkouts(client), mount, cwd);
  if (!hit && mount !== undefined) throw new CliError(`--mount ${mount}: no writable mount (job mount or checkout) has that id, job id or directory`, ExitCode.CONFIG);
  return hit ?? null;
}

export async function requireVcsTarget(client: DaemonClient, mount: string | undefined): Promise<VcsTarget> {
  const t = await findVcsTarget(client, mount);
  if (!t) throw new CliError("not inside a writable mount (job mount or checkout); cd into one or pass --mount <dir|mount-id|job-id>", ExitCode.CONFIG);
  return t;
}

/** A command-line path as a mount-relative path (paths outside the mount are refused). */
export function mountRelative(target: VcsTarget, p: string, cwd = process.cwd()): string {
  const abs = resolve(cwd, p);
  const rel = relative(target.mountpoint, abs);
  if (rel.startsWith("..")) throw new CliError(`${p} is outside the mount ${target.mountpoint}`, ExitCode.CONFIG);
  return rel.split(sep).join("/");
}
