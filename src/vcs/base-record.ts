/**
 * @module vcs/base-record — the base of a legacy checkout, kept beside its upper layer as
 * `{store_path}/{sha1(P)}/base.json` `{base_commit, base_tree}` (the runtime state file's `works` list
 * stays byte-compatible with the original, so the base cannot live there). Written atomically once, when
 * the checkout is first made; a remount over the same upper layer keeps it.
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../util/atomic-write.ts";
import type { MountBase } from "./mega-base.ts";

const HEX40 = /^[0-9a-f]{40}$/;

export function readBaseRecord(file: string): MountBase | null {
  try {
    const j = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    if (typeof j.base_commit === "string" && HEX40.test(j.base_commit) && typeof j.base_tree === "string" && HEX40.test(j.base_tree)) {
      const base: MountBase = { base_commit: j.base_commit, base_tree: j.base_tree };
      if (typeof j.base_root_commit === "string" && HEX40.test(j.base_root_commit)) base.base_root_commit = j.base_root_commit;
      return base;
    }
  } catch {
    // missing or unreadable: no recorded base
  }
  return null;
}

export function writeBaseRecord(file: string, base: MountBase): Promise<void> {
  return writeFileAtomic(file, JSON.stringify(base, null, 2) + "\n");
}
