/**
 * @module fuse/notify — kernel cache notifications sent from a Worker thread: invalidation
 * (`fuse_lowlevel_notify_inval_inode`, `..._inval_entry`, `..._delete`) and content pushed into the
 * page cache (`fuse_lowlevel_notify_store`, read from a file by the worker).
 *
 * Why a thread: an entry invalidation takes the parent directory's lock in the kernel. If a lookup
 * in that directory is waiting for our reply while the JS thread blocks inside the notify call, the
 * two wait on each other forever. Sending from another thread keeps the JS thread free to answer (a
 * store likewise waits for a page lock that a READ in flight holds until the JS thread replies). One
 * worker sends everything in order, so an invalidation always lands after a store queued before it.
 */
import { Errno } from "../util/errno.ts";
import { WorkerCalls } from "../util/worker-calls.ts";
import { loadLibfuse } from "./libfuse.ts";

const WORKER_SOURCE = (libPath: string) => `
import { dlopen, FFIType, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";
const P = FFIType.ptr, u64 = FFIType.u64, i64 = FFIType.i64, i32 = FFIType.i32;
const lib = dlopen(${JSON.stringify(libPath)}, {
  fuse_lowlevel_notify_inval_inode: { args: [P, u64, i64, i64], returns: i32 },
  fuse_lowlevel_notify_inval_entry: { args: [P, u64, FFIType.ptr, u64], returns: i32 },
  fuse_lowlevel_notify_delete: { args: [P, u64, u64, FFIType.ptr, u64], returns: i32 },
  fuse_lowlevel_notify_store: { args: [P, u64, i64, P, i32], returns: i32 },
}).symbols;
// struct fuse_bufvec { size_t count, idx, off; struct fuse_buf { size_t size; int flags; void *mem; int fd; off_t pos; } buf[1]; }
const vec = new BigUint64Array(8);
function storeOne(se, ino, path, size) {
  let bytes;
  try { bytes = readFileSync(path); } catch { return -2; } // gone (evicted): nothing to push
  if (bytes.length !== size) return -2; // not what the inode holds (a damaged cache file): leave it to READ
  if (size === 0) return 0;
  vec[0] = 1n; vec[1] = 0n; vec[2] = 0n;
  vec[3] = BigInt(bytes.length); vec[4] = 0n; vec[5] = BigInt(ptr(bytes)); vec[6] = 0n; vec[7] = 0n;
  return lib.fuse_lowlevel_notify_store(se, ino, 0, ptr(vec), 0);
}
// Every file of the batch is tried; the result is the first failure other than ENOENT (not cached
// by the kernel, or evicted from the store: nothing to do), else 0.
function store(m) {
  let rc = 0;
  for (const f of m.files) {
    const r = storeOne(m.se, f.ino, f.path, f.size);
    if (r !== 0 && r !== -2 && rc === 0) rc = r;
  }
  return rc;
}
self.onmessage = (ev) => {
  const m = ev.data;
  let rc;
  try {
    if (m.kind === "inode") rc = lib.fuse_lowlevel_notify_inval_inode(m.se, m.ino, m.off, m.len);
    else if (m.kind === "store") rc = store(m);
    else {
      const name = Buffer.from(m.name + "\\0");
      rc = m.kind === "entry"
        ? lib.fuse_lowlevel_notify_inval_entry(m.se, m.parent, name, name.length - 1)
        : lib.fuse_lowlevel_notify_delete(m.se, m.parent, m.child, name, name.length - 1);
    }
  } catch (e) { rc = -5; }
  postMessage({ id: m.id, rc });
};
`;

/** A file whose content (`size` bytes, from offset 0) goes into the page cache of inode `ino`. */
export interface StoreFile {
  readonly ino: number;
  readonly path: string;
  readonly size: number;
}

type Message =
  | { kind: "inode"; se: number; ino: number; off: number; len: number }
  | { kind: "store"; se: number; files: ReadonlyArray<StoreFile> }
  | { kind: "entry"; se: number; parent: number; name: string }
  | { kind: "delete"; se: number; parent: number; child: number; name: string };

let notifier: WorkerCalls<Message, { id: number; rc: number }> | undefined;

/**
 * Sends one notification for session `se`. Resolves to libfuse's return code: 0, or -errno
 * (-ENOENT when the kernel had nothing cached, which callers may ignore; -EIO when the notify thread
 * failed, as when the call itself throws in it).
 */
export async function sendNotification(msg: Message): Promise<number> {
  if (!notifier || notifier.failed) {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE(loadLibfuse().path)], { type: "application/javascript" }));
    notifier = new WorkerCalls(new Worker(url), "FUSE notify");
  }
  return notifier.call(msg).then(
    (r) => r.rc,
    () => -Errno.EIO,
  );
}
