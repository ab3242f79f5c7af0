/**
 * @module overlay/layer-roots — keeps the host directories that hold an overlay's upper and CL
 * directories private to the daemon. The overlay checks every caller's permissions; the same files
 * must not be reachable by their host paths, where a file refused a setuid bit through the mount (or
 * one made setuid by root inside it) could be run by anyone, and root's 0600 files read.
 */
import { chmodSync, lchownSync, lstatSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Creates the parents of `upperDir` and `clDir` mode 0700, owned by the daemon's user, and
 * tightens (and, as root, takes back) existing ones. Call before creating or mounting the layers.
 */
export function protectLayerRoots(layers: { upperDir: string; clDir?: string | null }): void {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  for (const root of new Set([dirname(layers.upperDir), ...(layers.clDir ? [dirname(layers.clDir)] : [])])) {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const st = lstatSync(root);
    if (uid === 0 && (st.uid !== uid || st.gid !== gid)) lchownSync(root, uid, gid);
    if ((st.mode & 0o7777) !== 0o700) chmodSync(root, 0o700);
  }
}
