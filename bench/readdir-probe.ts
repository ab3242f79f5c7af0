/**
 * @module bench/readdir-probe — where the time of one 1,000-entry listing goes inside our process,
 * with no kernel round trips: opendir, the READDIRPLUS handler, direntplus encoding by the binding's
 * `Replier.dir`, the READDIR handler and plain dirent encoding. `fuse_reply_buf` is stubbed (the
 * encoders `fuse_add_direntry[_plus]` ignore `req` in libfuse 3.14), so nothing is mounted.
 *
 *   bun bench/readdir-probe.ts <directory-with-a-subdir-named-dir1000>
 */
import { loadLibfuse } from "../src/fuse/libfuse.ts";
import { Replier } from "../src/fuse/reply.ts";
import type { EntryReply } from "../src/fuse/types.ts";
import { PassthroughFs } from "./passthrough.ts";

const source = process.argv[2];
if (!source) {
  console.error("usage: bun bench/readdir-probe.ts <source-dir containing dir1000/>");
  process.exit(2);
}
const lib = loadLibfuse();
const rep = new Replier({ ...lib, fuse: { ...lib.fuse, fuse_reply_buf: () => 0 } } as unknown as typeof lib);
const reuse = !process.argv.includes("--no-snapshot-reuse");
const p = new PassthroughFs(source, { timeout: 1, cache: "auto", reuseSnapshots: reuse });
const dir = (p.lookup(1, "dir1000") as EntryReply).ino;
const t = { attr: 1, entry: 1 };
const SIZE = 32768; // what kernel 6.18 asks per READDIR[PLUS] for a 32 KiB getdents buffer
const noReq = 0 as unknown as Parameters<Replier["dir"]>[0];
for (let round = 0; round < 6; round++) {
  const acc = { opendir: 0, plusHandler: 0, plusEncode: 0, readdirHandler: 0, plainEncode: 0 };
  const N = 100;
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    const o = p.opendir(dir);
    const t1 = performance.now();
    const plus = p.readdirplus(dir, o.fh, 0, Math.ceil(SIZE / 152));
    const t2 = performance.now();
    const sent = rep.dir(noReq, SIZE, plus, true, t);
    const t3 = performance.now();
    for (let k = sent; k < plus.length; k++) if (plus[k]!.entry) p.forget(plus[k]!.entry!.ino, 1);
    const plain = p.readdir(dir, o.fh, sent, Math.ceil(SIZE / 32));
    const t4 = performance.now();
    rep.dir(noReq, SIZE, plain, false, t);
    const t5 = performance.now();
    p.releasedir(dir, o.fh);
    acc.opendir += t1 - t0; acc.plusHandler += t2 - t1; acc.plusEncode += t3 - t2; acc.readdirHandler += t4 - t3; acc.plainEncode += t5 - t4;
    if (i === 0 && round === 0) console.log(`direntplus entries ${plus.length} (sent ${sent}), plain entries ${plain.length}`);
  }
  console.log("µs per listing: " + Object.entries(acc).map(([k, v]) => `${k} ${((v / N) * 1000).toFixed(0)}`).join(", "));
}
