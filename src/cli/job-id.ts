/**
 * @module cli/job-id — the CLI's job id check: what the API would refuse (control characters, lone
 * surrogates) plus the empty id, which the API reads as "no job" and which `umount` could then never name.
 */
import { jobIdProblem } from "../antares/paths.ts";
import { CliError, ExitCode } from "./exit-codes.ts";

/** Returns the id, or throws a usage error (exit 2). */
export function checkJobId(id: string): string {
  if (id.trim() === "") throw new CliError("invalid JOB_ID: it must not be empty", ExitCode.CONFIG);
  const problem = jobIdProblem(id.trim());
  if (problem) throw new CliError(`invalid JOB_ID: ${problem}`, ExitCode.CONFIG);
  return id;
}
