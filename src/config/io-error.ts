/**
 * @module config/io-error — renders a Node file-system error the way Rust's `std::io::Error` displays
 * (`No such file or directory (os error 2)`), because the original's config messages embed that text.
 */
import { errnoOf } from "../util/errno.ts";

const STRERROR: Record<number, string> = {
  1: "Operation not permitted",
  2: "No such file or directory",
  5: "Input/output error",
  13: "Permission denied",
  17: "File exists",
  20: "Not a directory",
  21: "Is a directory",
  28: "No space left on device",
  30: "Read-only file system",
  36: "File name too long",
  40: "Too many levels of symbolic links",
  107: "Transport endpoint is not connected",
  122: "Disk quota exceeded",
};

export function ioErrorText(err: unknown): string {
  const errno = errnoOf(err);
  if (errno !== undefined && STRERROR[errno]) return `${STRERROR[errno]} (os error ${errno})`;
  return err instanceof Error ? err.message : String(err);
}
