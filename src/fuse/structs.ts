/**
 * @module fuse/structs — every C struct layout, constant and flag the binding uses, in one place
 * (x86_64 glibc, libfuse 3.14 ABI; the structs that grew in 3.17 are sized for the larger form).
 * test/fuse/structs.test.ts compiles a C program against the installed headers and checks every
 * number here. Nothing else in the project may hard-code an offset.
 */

export const STAT = {
  size: 144,
  dev: 0,
  ino: 8,
  nlink: 16,
  mode: 24,
  uid: 28,
  gid: 32,
  rdev: 40,
  size_: 48,
  blksize: 56,
  blocks: 64,
  atimeSec: 72,
  atimeNsec: 80,
  mtimeSec: 88,
  mtimeNsec: 96,
  ctimeSec: 104,
  ctimeNsec: 112,
} as const;

export const ENTRY_PARAM = {
  size: 176,
  ino: 0,
  generation: 8,
  attr: 16,
  attrTimeout: 160,
  entryTimeout: 168,
} as const;

/** `struct fuse_file_info`: 40 bytes in 3.14, 64 in 3.17. Replies always pass a zeroed buffer of ALLOC bytes. */
export const FILE_INFO = {
  size314: 40,
  alloc: 128,
  flags: 0,
  bits: 4,
  fh: 16,
  lockOwner: 24,
  pollEvents: 32,
} as const;

/** Bits of the bitfield word at FILE_INFO.bits (little-endian bit order as gcc lays them out). */
export const FI_BIT = {
  writepage: 1 << 0,
  directIo: 1 << 1,
  keepCache: 1 << 2,
  flush: 1 << 3,
  nonseekable: 1 << 4,
  flockRelease: 1 << 5,
  cacheReaddir: 1 << 6,
  noflush: 1 << 7,
} as const;

export const FUSE_BUF = { size: 40, alloc: 64, size_: 0, flags: 8, mem: 16, fd: 24, pos: 32 } as const;
export const FUSE_BUFVEC = { size: 64, count: 0, idx: 8, off: 16, buf0: 24 } as const;
export const FUSE_ARGS = { size: 24, argc: 0, argv: 8, allocated: 16 } as const;
export const FUSE_CTX = { size: 16, uid: 0, gid: 4, pid: 8, umask: 12 } as const;
export const FORGET_DATA = { size: 16, ino: 0, nlookup: 8 } as const;

export const CONN_INFO = {
  protoMajor: 0,
  protoMinor: 4,
  maxWrite: 8,
  maxRead: 12,
  maxReadahead: 16,
  capable: 20,
  want: 24,
  maxBackground: 28,
  congestionThreshold: 32,
  timeGran: 36,
} as const;

export const STATVFS = {
  size: 112,
  bsize: 0,
  frsize: 8,
  blocks: 16,
  bfree: 24,
  bavail: 32,
  files: 40,
  ffree: 48,
  favail: 56,
  fsid: 64,
  flag: 72,
  namemax: 80,
} as const;

/** `struct libfuse_version` passed to fuse_session_new_versioned (libfuse >= 3.17). */
export const LIBFUSE_VERSION = { size: 16, major: 0, minor: 4, hotfix: 8, padding: 12 } as const;

export const FUSE_BUF_FLAG = { isFd: 1 << 1, fdSeek: 1 << 2, fdRetry: 1 << 3 } as const;
export const FUSE_BUF_COPY = { noSplice: 1 << 1, forceSplice: 1 << 2, spliceMove: 1 << 3, spliceNonblock: 1 << 4 } as const;

export const CAP = {
  ASYNC_READ: 1 << 0,
  POSIX_LOCKS: 1 << 1,
  ATOMIC_O_TRUNC: 1 << 3,
  EXPORT_SUPPORT: 1 << 4,
  DONT_MASK: 1 << 6,
  SPLICE_WRITE: 1 << 7,
  SPLICE_MOVE: 1 << 8,
  SPLICE_READ: 1 << 9,
  FLOCK_LOCKS: 1 << 10,
  IOCTL_DIR: 1 << 11,
  AUTO_INVAL_DATA: 1 << 12,
  READDIRPLUS: 1 << 13,
  READDIRPLUS_AUTO: 1 << 14,
  ASYNC_DIO: 1 << 15,
  WRITEBACK_CACHE: 1 << 16,
  NO_OPEN_SUPPORT: 1 << 17,
  PARALLEL_DIROPS: 1 << 18,
  POSIX_ACL: 1 << 19,
  HANDLE_KILLPRIV: 1 << 20,
  CACHE_SYMLINKS: 1 << 23,
  NO_OPENDIR_SUPPORT: 1 << 24,
  EXPLICIT_INVAL_DATA: 1 << 25,
} as const;

/** FUSE_SET_ATTR_* bits of setattr's `to_set`. */
export const SET_ATTR = {
  MODE: 1 << 0,
  UID: 1 << 1,
  GID: 1 << 2,
  SIZE: 1 << 3,
  ATIME: 1 << 4,
  MTIME: 1 << 5,
  ATIME_NOW: 1 << 7,
  MTIME_NOW: 1 << 8,
  CTIME: 1 << 10,
} as const;

/** Slot index (× 8 bytes) of each op in `struct fuse_lowlevel_ops` (3.14: 44 slots, 352 bytes). */
export const OPS_SLOTS = 44;
export const OPS_SIZE = OPS_SLOTS * 8;

/** File type bits of st_mode. */
export const S_IF = {
  MT: 0o170000,
  SOCK: 0o140000,
  LNK: 0o120000,
  REG: 0o100000,
  BLK: 0o060000,
  DIR: 0o040000,
  CHR: 0o020000,
  FIFO: 0o010000,
} as const;

/** open(2) flags (x86_64). */
export const O = {
  ACCMODE: 0o3,
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  CREAT: 0o100,
  EXCL: 0o200,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  CLOEXEC: 0o2000000,
} as const;

export const RENAME = { NOREPLACE: 1, EXCHANGE: 2, WHITEOUT: 4 } as const;
export const XATTR = { CREATE: 1, REPLACE: 2 } as const;

/** Kernel wire format of directory entries (include/uapi/linux/fuse.h), encoded by dirents.ts. */
export const FUSE_DIRENT = { nameOffset: 24, ino: 0, off: 8, namelen: 16, type: 20, align: 8 } as const;
export const FUSE_ATTR = {
  size: 88, ino: 0, size_: 8, blocks: 16, atime: 24, mtime: 32, ctime: 40, atimensec: 48, mtimensec: 52, ctimensec: 56,
  mode: 60, nlink: 64, uid: 68, gid: 72, rdev: 76, blksize: 80, flags: 84,
} as const;
export const FUSE_ENTRY_OUT = { size: 128, nodeid: 0, generation: 8, entryValid: 16, attrValid: 24, entryValidNsec: 32, attrValidNsec: 36, attr: 40 } as const;
