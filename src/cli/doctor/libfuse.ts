/**
 * @module cli/doctor/libfuse — checks that the system libfuse3 can be loaded through bun:ffi (the
 * FUSE binding needs it) and reads its version: `fuse_version()` returns 314 for 3.14.
 */
import { dlopen, FFIType } from "bun:ffi";
export { MIN_FUSE_VERSION, formatFuseVersion } from "../../fuse/version.ts";

export const LIBFUSE_SONAME = "libfuse3.so.3";

export function probeLibfuse(soname: string = LIBFUSE_SONAME): { ok: true; version: number } | { ok: false; error: string } {
  try {
    const lib = dlopen(soname, { fuse_version: { args: [], returns: FFIType.i32 } });
    try {
      return { ok: true, version: lib.symbols.fuse_version() };
    } finally {
      lib.close();
    }
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

