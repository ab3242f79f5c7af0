/**
 * @module antares/errors — the Antares service errors with their HTTP status and stable `code`
 * (the original's `ErrorBody` mapping, §3.2). They are `HttpError`s, so the app's one error handler
 * renders them as `{error, code}`.
 */
import { HttpError } from "../server/http-error.ts";

export class AntaresError extends HttpError {
  override name = "AntaresError";
}

export const invalidRequest = (msg: string) => new AntaresError(400, "INVALID_REQUEST", msg);
export const mountNotFound = (id: string) => new AntaresError(404, "NOT_FOUND", `mount ${id} not found`);
export const taskNotFound = (id: string) => new AntaresError(404, "NOT_FOUND", `mount for task ${id} not found`);
export const fuseFailure = (msg: string) => new AntaresError(500, "FUSE_ERROR", msg);
export const internalError = (msg: string) => new AntaresError(500, "INTERNAL_ERROR", msg);
export const localCommits = (msg: string) => new AntaresError(409, "LOCAL_COMMITS", msg);
export const insufficientStorage = (msg: string) => new AntaresError(507, "INSUFFICIENT_STORAGE", msg);
export const shuttingDown = () => new AntaresError(503, "SHUTDOWN", "server is shutting down");

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
