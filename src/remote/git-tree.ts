/**
 * @module remote/git-tree — parser (and encoder) for raw git tree payloads: `<mode> <name>\0<20-byte sha>`*.
 * This is what /api/v1/file/tree returns and the only place Mega exposes modes (exec bit, symlink, gitlink).
 * Pure; knows nothing of HTTP.
 */
import { FsError } from "../util/errno.ts";
import { hexOf, type Oid } from "./oid.ts";

export type TreeEntryKind = "blob" | "tree" | "commit";

export interface TreeEntry {
  /** Entry name (UTF-8 decoded; invalid bytes become U+FFFD). */
  name: string;
  /** The name's raw bytes, for byte-exact comparison or re-encoding. */
  nameBytes: Uint8Array;
  oid: Oid;
  /** Numeric mode: 0o40000, 0o100644, 0o100755, 0o120000, 0o160000 (and legacy 0o100664/0o100640). */
  mode: number;
  kind: TreeEntryKind;
}

/** Modes git can store. Legacy group-writable blob modes are accepted as the original did. */
const KIND_BY_MODE = new Map<number, TreeEntryKind>([
  [0o40000, "tree"],
  [0o100644, "blob"],
  [0o100664, "blob"],
  [0o100640, "blob"],
  [0o100755, "blob"],
  [0o120000, "blob"],
  [0o160000, "commit"],
]);

const decoder = new TextDecoder("utf-8", { fatal: false });

/** Parses a raw tree body. Throws FsError(EIO) naming the offset on malformed input. */
export function parseGitTree(body: Uint8Array): TreeEntry[] {
  const out: TreeEntry[] = [];
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp < 0 || sp === i || sp - i > 7) throw malformed(i, "bad mode");
    let mode = 0;
    for (let j = i; j < sp; j++) {
      const c = body[j]!;
      if (c < 0x30 || c > 0x37) throw malformed(i, "mode is not octal");
      mode = mode * 8 + (c - 0x30);
    }
    const kind = KIND_BY_MODE.get(mode);
    if (!kind) throw malformed(i, `unsupported mode ${mode.toString(8)}`);
    const nul = body.indexOf(0, sp + 1);
    if (nul < 0 || nul === sp + 1) throw malformed(i, "bad name");
    if (nul + 21 > body.length) throw malformed(i, "truncated object id");
    const nameBytes = body.slice(sp + 1, nul);
    out.push({ name: decoder.decode(nameBytes), nameBytes, oid: hexOf(body.subarray(nul + 1, nul + 21)) as Oid, mode, kind });
    i = nul + 21;
  }
  return out;
}

function malformed(offset: number, why: string): FsError {
  return FsError.of("EIO", `malformed git tree at byte ${offset}: ${why}`);
}
