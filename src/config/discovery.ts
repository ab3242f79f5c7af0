/**
 * @module config/discovery — which config file a command reads when `-c/--config-path` is not given:
 * `$SCORPIO_CONFIG`, then `./scorpio.toml`, then `$XDG_CONFIG_HOME/scorpio/scorpio.toml`, then
 * `/etc/scorpio/scorpio.toml` (what install.sh writes). The first that exists wins; when none does, the
 * error names every place looked at and how to create one.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { userConfigDir, type Env } from "./paths.ts";

export const CONFIG_FILE_NAME = "scorpio.toml";
export const SYSTEM_CONFIG_PATH = "/etc/scorpio/scorpio.toml";

export type ConfigSource = "flag" | "env" | "cwd" | "user" | "system";

export interface DiscoveredConfig {
  path: string;
  source: ConfigSource;
}

/** The places searched without `-c`, in order (SCORPIO_CONFIG, when set, is used as is). */
export function configSearchPath(env: Env, cwd: string = process.cwd()): DiscoveredConfig[] {
  return [
    { path: resolve(cwd, CONFIG_FILE_NAME), source: "cwd" },
    { path: join(userConfigDir(env), CONFIG_FILE_NAME), source: "user" },
    { path: SYSTEM_CONFIG_PATH, source: "system" },
  ];
}

export class ConfigNotFoundError extends Error {
  constructor(readonly searched: string[]) {
    super(
      `no config file found; looked for ${searched.map((p) => `'${p}'`).join(", ")} ` +
        `(and neither -c/--config-path nor SCORPIO_CONFIG is set); create one with 'scorpio config init' ` +
        `(or 'scorpio config init ${join("~/.config/scorpio", CONFIG_FILE_NAME)}')`,
    );
    this.name = "ConfigNotFoundError";
  }
}

/**
 * The config file to read. An explicit path (flag or SCORPIO_CONFIG) is returned even if it does not
 * exist, so the loader reports that exact path; otherwise the first existing file of the search path.
 */
export function discoverConfig(flag: string | undefined, env: Env, cwd: string = process.cwd()): DiscoveredConfig {
  if (flag !== undefined && flag !== "") return { path: flag, source: "flag" };
  const fromEnv = env.SCORPIO_CONFIG?.trim();
  if (fromEnv) return { path: fromEnv, source: "env" };
  const candidates = configSearchPath(env, cwd);
  const found = candidates.find((c) => existsSync(c.path));
  if (found) return found;
  throw new ConfigNotFoundError(candidates.map((c) => c.path));
}
