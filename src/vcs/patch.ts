/**
 * @module vcs/patch — `git diff` output for a list of changes: `diff --git` headers (new/deleted file
 * mode, old/new mode, similarity index + rename from/to, index line), unified hunks with 3 lines of
 * context (jsdiff's line diff) that `git apply` accepts, "\ No newline at end of file", and
 * "Binary files a/x and b/y differ" for content with a NUL in its first 8000 bytes (git's test).
 * Content is handled as bytes (latin1 strings), so any encoding survives; `--stat` sums lines.
 */
import { structuredPatch } from "diff";
import { quotePath, type Change } from "./changes.ts";

const ZERO = "0000000";
const short = (oid: string | null) => (oid ? oid.slice(0, 7) : ZERO);

export function isBinary(data: Uint8Array): boolean {
  return data.subarray(0, 8000).includes(0);
}

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");

function prefixed(prefix: string, path: string): string {
  const q = quotePath(path);
  return q.startsWith('"') ? `"${prefix}${q.slice(1)}` : `${prefix}${q}`;
}

export interface FilePatch {
  change: Change;
  /** The patch text as bytes (latin1 string). */
  text: string;
  added: number;
  removed: number;
  binary: boolean;
}

export function filePatch(c: Change, oldBytes: Uint8Array | null, newBytes: Uint8Array | null): FilePatch {
  const oldPath = c.old_path ?? c.path;
  const a = prefixed("a/", oldPath);
  const b = prefixed("b/", c.path);
  let text = `diff --git ${a} ${b}\n`;
  if (c.status === "added") text += `new file mode ${c.new_mode}\n`;
  else if (c.status === "deleted") text += `deleted file mode ${c.old_mode}\n`;
  else if (c.old_mode !== c.new_mode && c.status !== "typechange") text += `old mode ${c.old_mode}\nnew mode ${c.new_mode}\n`;
  if (c.status === "renamed") text += `similarity index ${c.similarity}%\nrename from ${quotePath(oldPath)}\nrename to ${quotePath(c.path)}\n`;
  if (c.status === "typechange") {
    // git shows a type change as a deletion plus an addition.
    const del = filePatch({ ...c, status: "deleted", new_mode: null, new_oid: null }, oldBytes, null);
    const add = filePatch({ ...c, status: "added", old_mode: null, old_oid: null }, null, newBytes);
    return { change: c, text: del.text + add.text, added: add.added, removed: del.removed, binary: del.binary || add.binary };
  }
  const o = oldBytes ?? new Uint8Array(0);
  const n = newBytes ?? new Uint8Array(0);
  if (c.old_oid === c.new_oid) return { change: c, text, added: 0, removed: 0, binary: false };
  const modeSuffix = c.status === "added" || c.status === "deleted" || c.old_mode !== c.new_mode ? "" : ` ${c.new_mode}`;
  text += `index ${short(c.old_oid)}..${short(c.new_oid)}${modeSuffix}\n`;
  const from = c.status === "added" ? "/dev/null" : a;
  const to = c.status === "deleted" ? "/dev/null" : b;
  if (isBinary(o) || isBinary(n)) {
    text += `Binary files ${from} and ${to} differ\n`;
    return { change: c, text, added: 0, removed: 0, binary: true };
  }
  text += `--- ${from}\n+++ ${to}\n`;
  const p = structuredPatch("a", "b", latin1(o), latin1(n), undefined, undefined, { context: 3 });
  let added = 0;
  let removed = 0;
  for (const h of p.hunks) {
    const os = h.oldLines === 0 ? h.oldStart - 1 : h.oldStart;
    const ns = h.newLines === 0 ? h.newStart - 1 : h.newStart;
    text += `@@ -${os}${h.oldLines === 1 ? "" : `,${h.oldLines}`} +${ns}${h.newLines === 1 ? "" : `,${h.newLines}`} @@\n`;
    for (const line of h.lines) {
      text += line + "\n";
      if (line[0] === "+") added++;
      else if (line[0] === "-") removed++;
    }
  }
  return { change: c, text, added, removed, binary: false };
}

/** `git diff --stat`-like summary lines. */
export function statText(patches: readonly FilePatch[]): string {
  if (patches.length === 0) return "";
  const names = patches.map((p) => (p.change.status === "renamed" ? `${quotePath(p.change.old_path!)} => ${quotePath(p.change.path)}` : quotePath(p.change.path)));
  const width = Math.max(...names.map((n) => n.length));
  let out = "";
  let ins = 0;
  let del = 0;
  patches.forEach((p, i) => {
    ins += p.added;
    del += p.removed;
    const count = p.binary ? "Bin" : String(p.added + p.removed);
    out += ` ${names[i]!.padEnd(width)} | ${count.padStart(4)} ${p.binary ? "" : "+".repeat(Math.min(p.added, 40)) + "-".repeat(Math.min(p.removed, 40))}`.trimEnd() + "\n";
  });
  const files = `${patches.length} file${patches.length === 1 ? "" : "s"} changed`;
  out += ` ${files}${ins ? `, ${ins} insertion${ins === 1 ? "" : "s"}(+)` : ""}${del ? `, ${del} deletion${del === 1 ? "" : "s"}(-)` : ""}\n`;
  return out;
}
