/**
 * @module remote/cl-path — interpreting CL files-list paths. Mega sends them relative to the CL's path
 * (absolute-looking only for CLs at `/`); the original assumed absolute and silently dropped entries of
 * sub-path CLs. Pure functions.
 */
import type { ClFile } from "./types.ts";

/**
 * The absolute monorepo path of a files-list entry, given the CL's path (from the mount request or
 * /cl/{link}/detail). Rule recommended by the API notes and used by Orion: an entry already starting with
 * the CL path is taken as absolute, anything else as relative to the CL path.
 * Returns null for entries that would escape (`..`, empty).
 */
export function clEntryRepoPath(entryPath: string, clPath: string): string | null {
  const entry = entryPath.split("/").filter((p) => p.length > 0);
  const base = clPath.split("/").filter((p) => p.length > 0);
  if (entry.length === 0 || entry.some((p) => p === "." || p === "..")) return null;
  const alreadyAbsolute = base.length > 0 && base.length < entry.length && base.every((p, i) => entry[i] === p);
  const parts = alreadyAbsolute || base.length === 0 ? entry : [...base, ...entry];
  return "/" + parts.join("/");
}

/** Splits renames into deleted(old) + new(path) for consumers that only materialise files and whiteouts. */
export function expandRenames(files: ClFile[]): ClFile[] {
  const out: ClFile[] = [];
  for (const f of files) {
    if (f.action === "renamed" && f.oldPath !== undefined) {
      // The old blob id is not in the entry; a whiteout does not need it.
      out.push({ path: f.oldPath, sha: "", action: "deleted" });
      out.push({ path: f.path, sha: f.sha, action: "new" });
    } else out.push(f);
  }
  return out;
}
