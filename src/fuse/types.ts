/**
 * @module fuse/types — the typed face of the binding: what a filesystem implements (`LowLevelFs`)
 * and the plain values it receives and returns. No pointers, no `fuse_req_t`: arguments are copied
 * out of C memory before a handler runs, so handlers may await freely.
 */

export type Ino = number;
export type MaybePromise<T> = T | Promise<T>;

/** Attributes of an inode, as `struct stat` carries them. Times are split into seconds and nanoseconds. */
export interface Attr {
  ino: Ino;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev?: number;
  size: number;
  blocks?: number;
  blksize?: number;
  atimeSec: number;
  atimeNsec?: number;
  mtimeSec: number;
  mtimeNsec?: number;
  ctimeSec: number;
  ctimeNsec?: number;
}

/**
 * A `struct stat` exactly as the C library fills it (e.g. `fstatat` through bun:ffi into an
 * ArrayBuffer-backed array): `STAT.size` bytes, sent without conversion, as passthrough_ll does.
 * The binding reads it when it replies, so keep it unchanged until the handler's promise settles.
 */
export type NativeStat = Uint8Array;

/** Attributes as an object, or as the native `struct stat` a passthrough filesystem already has. */
export type AttrSource = Attr | NativeStat;

export interface AttrReply {
  attr: AttrSource;
  /** Seconds the kernel may cache the attributes; default from the session options. */
  attrTimeout?: number;
}

/** A reply that hands the kernel an inode and so adds one to its lookup count. */
export interface EntryReply {
  ino: Ino;
  generation?: number;
  attr: AttrSource;
  attrTimeout?: number;
  entryTimeout?: number;
}

/** A negative entry: the kernel caches "no such name" for `entryTimeout` seconds without a lookup count. */
export interface NegativeEntryReply {
  ino: 0;
  entryTimeout: number;
}

/** Flags and handle of an open file, copied from `struct fuse_file_info`. */
export interface FileInfo {
  flags: number;
  fh: number;
}

export interface OpenReply {
  fh: number;
  /** Keep the page cache across opens: right for immutable content. */
  keepCache?: boolean;
  directIo?: boolean;
  nonseekable?: boolean;
  /** For opendir: let the kernel cache the listing. */
  cacheReaddir?: boolean;
}

export interface CreateReply extends EntryReply {
  fh: number;
  keepCache?: boolean;
  directIo?: boolean;
}

/**
 * Read data: bytes from JS memory, or a range of an open file descriptor, which the binding preads
 * into one reused buffer and sends from there (or, with `MountOptions.splice`, libfuse splices).
 * A range past the end of the file gives a short read.
 */
export type ReadReply = Uint8Array | { fd: number; offset: number; length: number };

export interface DirEntry {
  name: string;
  ino: Ino;
  /** File type bits (S_IFDIR etc.); permission bits are ignored by readdir. */
  mode: number;
  /** Offset of the *next* entry: what the kernel passes back to continue after this one. */
  nextOffset: number;
}

export interface DirEntryPlus extends DirEntry {
  /** Full entry for readdirplus; for "." and ".." leave it out (no lookup count is taken for them). */
  entry?: EntryReply;
}

export interface SetattrChanges {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  /** "now" means UTIME_NOW. */
  atime?: { sec: number; nsec: number } | "now";
  mtime?: { sec: number; nsec: number } | "now";
  ctime?: { sec: number; nsec: number };
}

export interface StatfsReply {
  bsize: number;
  frsize?: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  favail?: number;
  namemax: number;
}

/** Caller identity, read lazily from `fuse_req_ctx`. */
export interface RequestContext {
  readonly uid: number;
  readonly gid: number;
  readonly pid: number;
  readonly umask: number;
  /**
   * The caller's supplementary groups (`fuse_req_getgroups`, read from /proc when first asked);
   * empty when the kernel gives none (the caller already exited). Left out by contexts made
   * outside the binding (tests): treat as none.
   */
  readonly groups?: readonly number[];
}

/** `getxattr`/`listxattr` answer: with size 0 the kernel asks only for the length. */
export type XattrReply = { size: number } | Uint8Array;

export interface ConnectionInfo {
  protoMajor: number;
  protoMinor: number;
  capable: number;
  want: number;
  maxWrite: number;
  maxReadahead: number;
}

/**
 * What a filesystem implements. One optional method per lowlevel op, named as in
 * `fuse_lowlevel_ops`. A missing method makes libfuse answer ENOSYS (or its documented default).
 * A thrown `FsError` becomes its errno; anything else becomes EIO and is logged.
 *
 * Lookup counts: `lookup`, `create`, `mknod`, `mkdir`, `symlink`, `link` and each non-dot entry of
 * `readdirplus` hand the kernel one reference to the returned inode. `forget` gives them back.
 * For readdirplus the filesystem takes the reference for every entry it returns; the binding
 * calls `forget(ino, 1)` for entries that did not fit in the kernel's buffer.
 */
export interface LowLevelFs {
  init?(conn: ConnectionInfo): void;
  destroy?(): void;
  /** Called as each request arrives, before its handler: lets background work know the mount is in use. */
  onRequest?(): void;
  lookup?(parent: Ino, name: string, ctx: RequestContext): MaybePromise<EntryReply | NegativeEntryReply>;
  /** Must not do I/O that can fail: there is no way to report an error. */
  forget?(ino: Ino, nlookup: number): void;
  getattr?(ino: Ino, fh: number | undefined, ctx: RequestContext): MaybePromise<AttrReply>;
  setattr?(ino: Ino, changes: SetattrChanges, fh: number | undefined, ctx: RequestContext): MaybePromise<AttrReply>;
  readlink?(ino: Ino, ctx: RequestContext): MaybePromise<string | Uint8Array>;
  mknod?(parent: Ino, name: string, mode: number, rdev: number, ctx: RequestContext): MaybePromise<EntryReply>;
  mkdir?(parent: Ino, name: string, mode: number, ctx: RequestContext): MaybePromise<EntryReply>;
  unlink?(parent: Ino, name: string, ctx: RequestContext): MaybePromise<void>;
  rmdir?(parent: Ino, name: string, ctx: RequestContext): MaybePromise<void>;
  symlink?(target: string, parent: Ino, name: string, ctx: RequestContext): MaybePromise<EntryReply>;
  rename?(parent: Ino, name: string, newParent: Ino, newName: string, flags: number, ctx: RequestContext): MaybePromise<void>;
  link?(ino: Ino, newParent: Ino, newName: string, ctx: RequestContext): MaybePromise<EntryReply>;
  open?(ino: Ino, flags: number, ctx: RequestContext): MaybePromise<OpenReply>;
  read?(ino: Ino, size: number, offset: number, fh: number, ctx: RequestContext): MaybePromise<ReadReply>;
  /** `data` is a copy owned by the handler. Returns the number of bytes written. */
  write?(ino: Ino, data: Uint8Array, offset: number, fi: FileInfo, ctx: RequestContext): MaybePromise<number>;
  flush?(ino: Ino, fh: number, ctx: RequestContext): MaybePromise<void>;
  release?(ino: Ino, fi: FileInfo): MaybePromise<void>;
  fsync?(ino: Ino, datasync: boolean, fh: number): MaybePromise<void>;
  opendir?(ino: Ino, flags: number, ctx: RequestContext): MaybePromise<OpenReply>;
  /** Entries starting after `offset` (0 = from the start). Return at most `maxEntries`; fewer is fine; [] = end. */
  readdir?(ino: Ino, fh: number, offset: number, maxEntries: number, ctx: RequestContext): MaybePromise<DirEntry[]>;
  readdirplus?(ino: Ino, fh: number, offset: number, maxEntries: number, ctx: RequestContext): MaybePromise<DirEntryPlus[]>;
  releasedir?(ino: Ino, fh: number): MaybePromise<void>;
  fsyncdir?(ino: Ino, datasync: boolean, fh: number): MaybePromise<void>;
  statfs?(ino: Ino): MaybePromise<StatfsReply>;
  setxattr?(ino: Ino, name: string, value: Uint8Array, flags: number, ctx: RequestContext): MaybePromise<void>;
  getxattr?(ino: Ino, name: string, size: number, ctx: RequestContext): MaybePromise<XattrReply>;
  /** Returns the names; the binding encodes them NUL-separated and handles the size-0 probe. */
  listxattr?(ino: Ino, ctx: RequestContext): MaybePromise<string[]>;
  removexattr?(ino: Ino, name: string, ctx: RequestContext): MaybePromise<void>;
  access?(ino: Ino, mask: number, ctx: RequestContext): MaybePromise<void>;
  create?(parent: Ino, name: string, mode: number, flags: number, ctx: RequestContext): MaybePromise<CreateReply>;
  fallocate?(ino: Ino, mode: number, offset: number, length: number, fh: number): MaybePromise<void>;
  copyFileRange?(inoIn: Ino, offIn: number, fhIn: number, inoOut: Ino, offOut: number, fhOut: number, length: number, flags: number): MaybePromise<number>;
  lseek?(ino: Ino, offset: number, whence: number, fh: number): MaybePromise<number>;
}

export type LowLevelOpName = keyof LowLevelFs;
