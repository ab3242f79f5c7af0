/**
 * @module cli/registry — which commands each executable registers, and the clipanion `Cli` for it.
 * `antares` gets a subset (plus its own `serve`) under its own binary name.
 */
import { Cli, type CommandClass } from "clipanion";
import { VERSION } from "../version.ts";
import { withPlaceholders } from "./help-text.ts";
import type { BinaryName, CliContext } from "./base-command.ts";
import { AntaresServeCommand } from "./commands/antares/serve.ts";
import { CompletionsCommand } from "./commands/completions.ts";
import { ConfigGroupCommand } from "./commands/config/group.ts";
import { ConfigInitCommand } from "./commands/config/init.ts";
import { ConfigShowCommand } from "./commands/config/show.ts";
import { ConfigValidateCommand } from "./commands/config/validate.ts";
import { DefaultCommand } from "./commands/default.ts";
import { DevserverCommand } from "./commands/devserver.ts";
import { DoctorCommand } from "./commands/doctor.ts";
import { DuCommand } from "./commands/du.ts";
import { GcCommand } from "./commands/gc.ts";
import { HelpCommand } from "./commands/help.ts";
import { HttpMountCommand } from "./commands/http-mount.ts";
import { ListCommand } from "./commands/list.ts";
import { MountCommand } from "./commands/mount.ts";
import { PrefetchCommand } from "./commands/prefetch.ts";
import { RefreshCommand } from "./commands/refresh.ts";
import { ServeCommand } from "./commands/serve.ts";
import { InfoCommand } from "./commands/status.ts";
import { CommitCommand, DiffCommand, PushCommand, StatusCommand } from "./commands/vcs.ts";
import { StatsCommand } from "./commands/stats.ts";
import { UmountCommand } from "./commands/umount.ts";
import { VersionCommand } from "./commands/version.ts";

export function commandsFor(binary: BinaryName): Array<CommandClass<CliContext>> {
  if (binary === "antares") {
    return [AntaresServeCommand, MountCommand, UmountCommand, ListCommand, HttpMountCommand, HelpCommand, VersionCommand];
  }
  return [
    DefaultCommand,
    ServeCommand,
    MountCommand,
    UmountCommand,
    ListCommand,
    HttpMountCommand,
    StatusCommand,
    InfoCommand,
    DiffCommand,
    CommitCommand,
    PushCommand,
    RefreshCommand,
    StatsCommand,
    PrefetchCommand,
    DuCommand,
    GcCommand,
    ConfigInitCommand,
    ConfigValidateCommand,
    ConfigShowCommand,
    ConfigGroupCommand,
    DoctorCommand,
    CompletionsCommand,
    DevserverCommand,
    HelpCommand,
    VersionCommand,
  ];
}

/** clipanion's Cli with named option placeholders in every help and error text (cli/help-text). */
class ScorpioCli extends Cli<CliContext> {
  override usage(...args: Parameters<Cli<CliContext>["usage"]>): string {
    return withPlaceholders(super.usage(...args));
  }
  override error(...args: Parameters<Cli<CliContext>["error"]>): string {
    return withPlaceholders(super.error(...args));
  }
  override definitions(...args: Parameters<Cli<CliContext>["definitions"]>): ReturnType<Cli<CliContext>["definitions"]> {
    return super.definitions(...args).map((d) => ({ ...d, usage: withPlaceholders(d.usage) }));
  }
}

/** The first word of every command path of `binary` (for "did you mean"). */
export function commandWords(binary: BinaryName): string[] {
  const words = new Set<string>();
  for (const c of commandsFor(binary)) for (const p of c.paths ?? []) if (p[0] && !p[0].startsWith("-")) words.add(p[0]);
  return [...words];
}

/** Commands that read the whole command table (`this.cli`): they always get every command. */
const NEEDS_ALL_COMMANDS = new Set(["help", "completions"]);

/**
 * The Cli of `binary`. With `firstWord` (the command word of this run), only the commands whose paths
 * start with it are registered when there are any: clipanion builds its parser over every registered
 * command on each run, which cost ~8 ms of every invocation (and of the daemon's start) for all of
 * them. Help, completions, options-only and unknown words get the whole table.
 */
export function buildCli(binary: BinaryName, firstWord?: string): Cli<CliContext> {
  const cli = new ScorpioCli({
    binaryLabel: binary === "antares" ? "Antares (deprecated alias of scorpio)" : "Scorpio — mount a Mega monorepo on demand",
    binaryName: binary,
    binaryVersion: VERSION,
    enableColors: false,
  });
  const all = commandsFor(binary);
  const named = firstWord && !firstWord.startsWith("-") && !NEEDS_ALL_COMMANDS.has(firstWord) ? all.filter((c) => (c.paths ?? []).some((p) => p[0] === firstWord)) : [];
  for (const command of named.length > 0 ? named : all) cli.register(command);
  return cli;
}
