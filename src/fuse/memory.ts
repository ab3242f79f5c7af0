/**
 * @module fuse/memory — buffers whose address can be handed to C.
 *
 * A small typed array created with `Buffer.alloc` lives inline in the JS heap; the first time its
 * `.buffer` is read, JSC moves the bytes into a fresh ArrayBuffer, and any pointer taken before
 * that now points at stale memory. Allocating the ArrayBuffer first gives a stable address from
 * the start. Every buffer whose pointer is stored or passed to libfuse comes from here.
 */
import { ptr, type Pointer } from "bun:ffi";

export interface NativeBuffer {
  readonly bytes: Buffer;
  readonly view: DataView;
  readonly ptr: Pointer;
}

export function nativeBuffer(size: number): NativeBuffer {
  const ab = new ArrayBuffer(size);
  const bytes = Buffer.from(ab);
  return { bytes, view: new DataView(ab), ptr: ptr(bytes) };
}

/** A NUL-terminated copy of `s` at a stable address. */
export function nativeCString(s: string): NativeBuffer {
  const encoded = Buffer.from(s, "utf8");
  const nb = nativeBuffer(encoded.length + 1);
  encoded.copy(nb.bytes);
  return nb;
}
