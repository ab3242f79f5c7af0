/**
 * @module util/errno — Linux errno numbers and the one error type that carries them across layers.
 * Filesystem layers throw `FsError`; the FUSE binding turns it into `fuse_reply_err`, the HTTP layer
 * into a status code. Knows nothing of FUSE or HTTP.
 */

export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  ETIME: 62,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  EOPNOTSUPP: 95,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  ESTALE: 116,
} as const;

export type ErrnoName = keyof typeof Errno;

const NAMES = new Map<number, string>();
for (const [name, value] of Object.entries(Errno)) if (!NAMES.has(value)) NAMES.set(value, name);

export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `errno ${errno}`;
}

/** An error with a positive Linux errno. The message is for logs and users; the errno is the contract. */
export class FsError extends Error {
  readonly errno: number;
  constructor(errno: number, message?: string, options?: { cause?: unknown }) {
    super(message ?? errnoName(errno), options);
    this.name = "FsError";
    this.errno = errno;
  }
  static of(name: ErrnoName, message?: string, options?: { cause?: unknown }): FsError {
    return new FsError(Errno[name], message ?? name, options);
  }
}

const NODE_CODES: Record<string, number> = Errno as unknown as Record<string, number>;

/**
 * The errno an arbitrary thrown value stands for: FsError's own, a Node system error's `code`
 * (e.g. ENOENT from node:fs), otherwise undefined (callers map that to EIO).
 */
/** The errno a store failure means to a reader: a full disk is ENOSPC, anything else EIO. */
export function sqliteErrno(code: string): number {
  return code === "SQLITE_FULL" ? Errno.ENOSPC : Errno.EIO;
}

export function errnoOf(err: unknown): number | undefined {
  if (err instanceof FsError) return err.errno;
  if (err && typeof err === "object") {
    const code = (err as { code?: unknown }).code;
    // SQLite's result codes are not errnos (SQLITE_FULL is 13, which would read as EACCES): map them.
    if (typeof code === "string" && code.startsWith("SQLITE_")) return sqliteErrno(code);
    if (typeof code === "string" && code in NODE_CODES) return NODE_CODES[code];
    const errno = (err as { errno?: unknown }).errno;
    if (typeof errno === "number" && errno !== 0) return Math.abs(errno);
  }
  return undefined;
}
