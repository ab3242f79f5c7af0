/**
 * @module fuse/libfuse — loads the system libfuse3.so.3 and libc through bun:ffi and checks the
 * version. The only file that names C symbols; everything above it calls these typed functions.
 */
import { dlopen, FFIType, type Pointer } from "bun:ffi";
import { FsError, Errno } from "../util/errno.ts";

const LIBFUSE_NAMES = ["libfuse3.so.3", "/usr/lib/x86_64-linux-gnu/libfuse3.so.3", "/usr/lib/aarch64-linux-gnu/libfuse3.so.3", "/usr/lib64/libfuse3.so.3", "/usr/lib/libfuse3.so.3"];

import { MIN_FUSE_VERSION, formatFuseVersion } from "./version.ts";

export { MIN_FUSE_VERSION, formatFuseVersion };

const P = FFIType.ptr;
const i32 = FFIType.i32;
const u64 = FFIType.u64;
const i64 = FFIType.i64;
const f64 = FFIType.f64;
const VOID = FFIType.void;

const fuseSymbols = {
  fuse_version: { args: [], returns: i32 },
  fuse_session_new: { args: [P, P, u64, P], returns: P },
  fuse_session_mount: { args: [P, P], returns: i32 },
  fuse_session_fd: { args: [P], returns: i32 },
  fuse_session_receive_buf: { args: [P, P], returns: i32 },
  fuse_session_process_buf: { args: [P, P], returns: VOID },
  fuse_session_exit: { args: [P], returns: VOID },
  fuse_session_exited: { args: [P], returns: i32 },
  fuse_session_unmount: { args: [P], returns: VOID },
  fuse_session_destroy: { args: [P], returns: VOID },
  fuse_reply_err: { args: [P, i32], returns: i32 },
  fuse_reply_none: { args: [P], returns: VOID },
  fuse_reply_entry: { args: [P, P], returns: i32 },
  fuse_reply_create: { args: [P, P, P], returns: i32 },
  fuse_reply_attr: { args: [P, P, f64], returns: i32 },
  fuse_reply_readlink: { args: [P, P], returns: i32 },
  fuse_reply_open: { args: [P, P], returns: i32 },
  fuse_reply_write: { args: [P, u64], returns: i32 },
  fuse_reply_buf: { args: [P, P, u64], returns: i32 },
  fuse_reply_data: { args: [P, P, i32], returns: i32 },
  fuse_reply_statfs: { args: [P, P], returns: i32 },
  fuse_reply_xattr: { args: [P, u64], returns: i32 },
  fuse_reply_lseek: { args: [P, i64], returns: i32 },
  fuse_add_direntry: { args: [P, P, u64, P, P, i64], returns: u64 },
  fuse_add_direntry_plus: { args: [P, P, u64, P, P, i64], returns: u64 },
  fuse_req_ctx: { args: [P], returns: P },
  fuse_req_getgroups: { args: [P, i32, P], returns: i32 },
  fuse_lowlevel_notify_inval_inode: { args: [P, u64, i64, i64], returns: i32 },
  fuse_lowlevel_notify_inval_entry: { args: [P, u64, P, u64], returns: i32 },
  fuse_lowlevel_notify_delete: { args: [P, u64, u64, P, u64], returns: i32 },
} as const;

type FuseLib = ReturnType<typeof dlopen<typeof fuseSymbols>>["symbols"];
export type NewVersionedFn = (args: Pointer, ops: Pointer, opSize: number, version: Pointer, userdata: Pointer | null) => Pointer | null;

export interface Libfuse {
  readonly fuse: FuseLib;
  /** fuse_version(): 314 for 3.14. */
  readonly version: number;
  readonly path: string;
  /** fuse_session_new_versioned when the library has it (>= 3.17), else null. */
  readonly sessionNewVersioned: NewVersionedFn | null;
}

let loaded: Libfuse | undefined;

/** Loads libfuse3 once. Throws FsError(ENOSYS) with an actionable message when it is missing or too old. */
export function loadLibfuse(): Libfuse {
  if (loaded) return loaded;
  let lib: ReturnType<typeof dlopen<typeof fuseSymbols>> | undefined;
  let path = "";
  const failures: string[] = [];
  for (const name of LIBFUSE_NAMES) {
    try {
      lib = dlopen(name, fuseSymbols);
      path = name;
      break;
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  if (!lib) {
    throw new FsError(
      Errno.ENOSYS,
      `cannot load libfuse3 (libfuse3.so.3): install it with 'apt-get install fuse3 libfuse3-3' (${failures[0] ?? "not found"})`,
    );
  }
  const version = lib.symbols.fuse_version();
  if (version < MIN_FUSE_VERSION) {
    throw new FsError(Errno.ENOSYS, `libfuse ${formatFuseVersion(version)} is too old: scorpio needs libfuse >= ${formatFuseVersion(MIN_FUSE_VERSION)}`);
  }
  let sessionNewVersioned: NewVersionedFn | null = null;
  if (version >= 317) {
    try {
      const v = dlopen(path, { fuse_session_new_versioned: { args: [P, P, u64, P, P], returns: P } });
      sessionNewVersioned = v.symbols.fuse_session_new_versioned as unknown as NewVersionedFn;
    } catch {
      // Fall back to the 3.0 ABI symbol, which 3.17 keeps for old binaries.
    }
  }
  loaded = { fuse: lib.symbols, version, path, sessionNewVersioned };
  return loaded;
}

