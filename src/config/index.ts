/**
 * @module config — public face of the configuration layer: load/validate `scorpio.toml` (+ `SCORPIO_*` env +
 * CLI overrides + defaults), `config show`/`config init` text, log filter resolution and the runtime state
 * file. Other folders import only from here.
 */
export type {
  ScorpioConfig, ConfigOverrides, LoadOptions, LoadResult, RuntimeState, WorkDir, DaemonRecord, StatMode, LogFormat,
} from "./types.ts";
export { ConfigError } from "./errors.ts";
export { loadConfig, initConfig, validateConfigFile, validateConfig, ensureRuntimePaths } from "./load.ts";
export { renderConfigShow, renderConfigValue, isConfigKey, redactConfig, REDACTED } from "./show.ts";
export { CONFIG_TEMPLATE, renderExample, renderKeyReference } from "./template.ts";
export { resolveLogFilter, initLogging } from "./logging.ts";
export { readRuntimeState, writeRuntimeState, EMPTY_RUNTIME_STATE_TEXT } from "./runtime-state.ts";
export { KEYS, KEY_NAMES, envName, isSecretKey, type KeyName } from "./keys.ts";
export { defaultDirs, userConfigDir } from "./paths.ts";
export { discoverConfig, configSearchPath, ConfigNotFoundError, SYSTEM_CONFIG_PATH, type DiscoveredConfig } from "./discovery.ts";
export { mountSettings, type MountSettings } from "./mount-settings.ts";
