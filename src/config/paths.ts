/**
 * @module config/paths — where the built-in defaults live, and how path values are normalised.
 *
 * The original put every default under `/tmp/megadir-{user}` (world-writable parent, wiped at reboot, name
 * guessable by other users) and the runtime state file in the process's CWD. We follow the XDG base directory
 * spec instead: data under `$XDG_DATA_HOME/scorpio` (default `~/.local/share/scorpio`), state files under
 * `$XDG_STATE_HOME/scorpio` (default `~/.local/state/scorpio`). Pure functions of the env passed in.
 */
import { homedir, userInfo } from "node:os";
import { isAbsolute, join, resolve } from "node:path";

export type Env = Record<string, string | undefined>;

export interface DefaultDirs {
  /** Base of large data: mount points, store, Antares layers. */
  data: string;
  /** Base of small state files that must survive restarts. */
  state: string;
}

function home(env: Env): string {
  const h = env.HOME?.trim();
  if (h && isAbsolute(h)) return h;
  try {
    const d = homedir();
    if (d && isAbsolute(d)) return d;
  } catch {
    // No passwd entry (e.g. an arbitrary uid in a container): fall through.
  }
  // Last resort keeps a per-user name so two users never share it.
  let user = "unknown";
  try { user = userInfo().username; } catch { user = String(process.getuid?.() ?? "unknown"); }
  return join("/tmp", `scorpio-${user}`);
}

/** The XDG spec says relative values must be ignored. */
function xdg(env: Env, name: string, fallback: string[]): string {
  const v = env[name]?.trim();
  if (v && isAbsolute(v)) return v;
  return join(home(env), ...fallback);
}

/** `$XDG_CONFIG_HOME/scorpio` (default `~/.config/scorpio`): where a per-user config file is looked for. */
export function userConfigDir(env: Env): string {
  return join(xdg(env, "XDG_CONFIG_HOME", [".config"]), "scorpio");
}

export function defaultDirs(env: Env): DefaultDirs {
  return {
    data: join(xdg(env, "XDG_DATA_HOME", [".local", "share"]), "scorpio"),
    state: join(xdg(env, "XDG_STATE_HOME", [".local", "state"]), "scorpio"),
  };
}

/**
 * Expands a leading `~` / `~/` to the home directory and makes the path absolute against the process CWD.
 * Relative paths keep the original's meaning (relative to CWD) but are pinned at load time, so a later
 * `chdir` or a daemon started from another directory cannot silently point somewhere else.
 */
export function normalizePath(value: string, env: Env, cwd: string = process.cwd()): string {
  let v = value;
  if (v === "~") v = home(env);
  else if (v.startsWith("~/")) v = join(home(env), v.slice(2));
  return resolve(cwd, v);
}
