/**
 * @module cli/exit-codes — the process exit codes every `scorpio`/`antares` command returns.
 * They are a published contract (scripts and systemd units test them), so a value is never reused.
 */

export const ExitCode = {
  /** Success; doctor with no critical failure. */
  SUCCESS: 0,
  /** Internal error, transport failure, doctor with a critical failure, no daemon for a client command. */
  INTERNAL: 1,
  /** Configuration or command-line usage error. */
  CONFIG: 2,
  /** A mount/unmount failed (workspace mount, job mount, http-mount non-2xx). */
  MOUNT: 3,
  /** The HTTP address could not be bound. */
  BIND: 4,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error a command raises to stop with a given exit code and a message for stderr.
 * Commands throw it instead of calling `process.exit`, so the runner stays the one place that exits.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.INTERNAL,
  ) {
    super(message);
    this.name = "CliError";
  }
}
