/**
 * @module config/errors — `ConfigError`, the one error the config layer throws. The CLI maps it to exit code 2
 * and prints its message; `key` names the offending flat key when there is one.
 */

/** One finding: the message users see, and the flat key it is about (absent for file-level problems). */
export interface Problem {
  message: string;
  key?: string;
}

export class ConfigError extends Error {
  /** Flat key of the first problem, if it concerns a key. */
  readonly key?: string;
  /** Every problem found, first one = `message`. */
  readonly problems: string[];

  constructor(problems: Problem[] | string, options?: { key?: string; cause?: unknown }) {
    const list: Problem[] = typeof problems === "string" ? [{ message: problems, key: options?.key }] : problems;
    super(list[0]?.message ?? "invalid configuration", options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ConfigError";
    this.key = list[0]?.key;
    this.problems = list.map((p) => p.message);
  }
}
