/**
 * @module store/inode-table — the persistent tree: inode rows keyed by (parent, name), children in
 * server order, directory sync state, and path ↔ inode helpers.
 *
 * Invariants (kept by every write here, each write being one SQLite transaction):
 * - Root is ino 1 (parent 0, name ""). Inode numbers come from meta.next_ino and are NEVER reused, even
 *   after a row is deleted or the same path reappears with another kind (the original reused a stale
 *   inode there, QUIRK §5.2.5). A number the kernel still remembers therefore never names another object.
 * - A directory's children have dense positions 0..n-1 in server order.
 * Knows nothing of blobs, Mega or FUSE.
 */
import type { Database } from "bun:sqlite";
import {
  GitMode,
  ROOT_INO,
  type DirEntryInput,
  type DirState,
  type GitModeValue,
  type Ino,
  type InodeKind,
  type InodeRecord,
  type Oid,
  type RemovedInode,
  type ReplaceDirectoryOptions,
  type ReplaceDirectoryResult,
} from "./types.ts";
import { isOid } from "../remote/index.ts";
import { FsError } from "../util/errno.ts";

const COLUMNS = "ino, parent, name, kind, mode, oid, size, mtime, target, generation, position";

const DEFAULT_MODE: Record<InodeKind, GitModeValue> = {
  file: GitMode.BLOB,
  dir: GitMode.TREE,
  symlink: GitMode.LINK,
  gitlink: GitMode.COMMIT,
};

/** The kind a git mode stands for; undefined for modes the store does not keep. */
export function kindOfMode(mode: number): InodeKind | undefined {
  switch (mode) {
    case GitMode.BLOB:
    case GitMode.BLOB_EXECUTABLE:
      return "file";
    case GitMode.TREE:
      return "dir";
    case GitMode.LINK:
      return "symlink";
    case GitMode.COMMIT:
      return "gitlink";
  }
  return undefined;
}

interface DirStateRow {
  ino: number;
  dir_oid: string | null;
  synced_at: number | null;
  loaded: number;
}

/** A listing entry after validation and defaulting. */
interface Normalized {
  name: string;
  kind: InodeKind;
  mode: GitModeValue;
  oid: Oid | null;
  size: number | null | undefined;
  target: string | null;
  mtime: number | undefined;
}

function validName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
}

function normalize(entry: DirEntryInput): Normalized {
  const bad = (why: string) => FsError.of("EINVAL", `bad directory entry ${JSON.stringify(entry.name)}: ${why}`);
  if (!validName(entry.name)) throw bad("invalid name");
  const mode = entry.mode ?? DEFAULT_MODE[entry.kind];
  if (kindOfMode(mode) !== entry.kind) throw bad(`mode ${mode.toString(8)} is not a ${entry.kind}`);
  if (entry.oid !== null && !isOid(entry.oid)) throw bad("invalid oid");
  if (entry.size != null && !(Number.isSafeInteger(entry.size) && entry.size >= 0)) throw bad("invalid size");
  return {
    name: entry.name,
    kind: entry.kind,
    mode,
    oid: entry.oid,
    size: entry.size,
    target: entry.target ?? null,
    mtime: entry.mtime,
  };
}

export class InodeTable {
  readonly #db: Database;
  readonly #now: () => number;
  /** Mirror of meta.next_ino; written back inside every transaction that allocates. */
  #nextIno: number;
  // Statements of the per-entry loops, held so a 100k-entry listing does not look them up per row.
  // Made with `query` (cached by the Database), never `prepare`: close() finalizes cached statements,
  // while a live prepared one would keep the database — and its exclusive lock — open.
  readonly #insertRow;
  readonly #deleteRow;
  readonly #deleteState;
  /** Mirror of COUNT(*) (statfs asks for it on every `find`; the scan costs ~0.1 s at 100k rows); null = unknown. */
  #rowCount: number | null = null;

  constructor(db: Database, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
    this.#insertRow = db.query<null, [number, number, string, string, number, string | null, number | null, number, string | null, number]>(
      `INSERT INTO inodes (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
    );
    this.#deleteRow = db.query<null, [number]>("DELETE FROM inodes WHERE ino = ?");
    this.#deleteState = db.query<null, [number]>("DELETE FROM dir_state WHERE ino = ?");
    const row = db.query<{ value: string }, [string]>("SELECT value FROM meta WHERE key = ?").get("next_ino");
    this.#nextIno = Number(row?.value ?? 2);
  }

  getInode(ino: Ino): InodeRecord | null {
    return this.#db.query<InodeRecord, [number]>(`SELECT ${COLUMNS} FROM inodes WHERE ino = ?`).get(ino);
  }

  lookupChild(parent: Ino, name: string): InodeRecord | null {
    return this.#db
      .query<InodeRecord, [number, string]>(`SELECT ${COLUMNS} FROM inodes WHERE parent = ? AND name = ?`)
      .get(parent, name);
  }

  /**
   * Children in server order. `offset` is a position (0-based), so readdir can resume at entry
   * `offset` without reading the ones before it.
   */
  listChildren(parent: Ino, opts: { offset?: number; limit?: number } = {}): InodeRecord[] {
    return this.#db
      .query<InodeRecord, [number, number, number]>(
        `SELECT ${COLUMNS} FROM inodes WHERE parent = ? AND position >= ? ORDER BY position LIMIT ?`,
      )
      .all(parent, opts.offset ?? 0, opts.limit ?? -1);
  }

  /**
   * Sub-directories of `parent` at positions [`from`, `to`), in server order, at most `limit`: a walk
   * looks for them without reading every file row into JS.
   */
  listChildDirs(parent: Ino, from: number, to: number, limit: number): InodeRecord[] {
    return this.#db
      .query<InodeRecord, [number, number, number, number]>(
        `SELECT ${COLUMNS} FROM inodes WHERE parent = ? AND position >= ? AND position < ? AND kind = 'dir' ORDER BY position LIMIT ?`,
      )
      .all(parent, from, to, limit);
  }

  childCount(parent: Ino): number {
    return this.#db.query<{ n: number }, [number]>("SELECT COUNT(*) AS n FROM inodes WHERE parent = ?").get(parent)?.n ?? 0;
  }

  /** Number of inode rows, root included. */
  count(): number {
    this.#rowCount ??= this.#db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM inodes").get()?.n ?? 0;
    return this.#rowCount;
  }

  /**
   * Applies a fresh server listing of directory `parent` in one transaction: entries whose (name,
   * kind) is unchanged keep their inode (their oid, mode, size, target, mtime and position are
   * updated); new entries get fresh inode numbers; vanished entries are removed with their whole
   * subtree. An entry whose kind changed is a different object: the old inode goes, a new one comes.
   * All entries are validated first; on any error nothing is applied.
   */
  replaceDirectory(parent: Ino, entries: readonly DirEntryInput[], opts: ReplaceDirectoryOptions = {}): ReplaceDirectoryResult {
    const listing = entries.map(normalize);
    const seen = new Set<string>();
    for (const e of listing) {
      if (seen.has(e.name)) throw FsError.of("EINVAL", `duplicate directory entry ${JSON.stringify(e.name)}`);
      seen.add(e.name);
    }
    const syncedAt = opts.syncedAt ?? this.#now();
    const syncSecs = Math.floor(syncedAt / 1000);
    return this.#transaction((): ReplaceDirectoryResult => {
      this.#requireDir(parent);
      const existing = new Map<string, InodeRecord>();
      for (const row of this.#db.query<InodeRecord, [number]>(`SELECT ${COLUMNS} FROM inodes WHERE parent = ?`).iterate(parent)) {
        existing.set(row.name, row);
      }
      const added: InodeRecord[] = [];
      const changed: InodeRecord[] = [];
      const removed: RemovedInode[] = [];
      let moved = 0;
      // Remove first: vanished names and names whose kind changed, so their (parent, name) is free.
      const byName = new Map(listing.map((e) => [e.name, e] as const));
      for (const [name, row] of existing) {
        const e = byName.get(name);
        if (!e || e.kind !== row.kind) {
          removed.push(...this.#removeSubtree(row));
          existing.delete(name);
        }
      }
      const update = this.#db.query<null, [number, string | null, number | null, string | null, number, number, number]>(
        "UPDATE inodes SET mode = ?, oid = ?, size = ?, target = ?, mtime = ?, position = ? WHERE ino = ?",
      );
      const setPosition = this.#db.query<null, [number, number]>("UPDATE inodes SET position = ? WHERE ino = ?");
      listing.forEach((e, position) => {
        const old = existing.get(e.name);
        if (!old) {
          added.push(this.#insert(parent, e, position, e.mtime ?? syncSecs));
          return;
        }
        const sameOid = old.oid === e.oid;
        const size = e.size !== undefined ? e.size : sameOid ? old.size : null;
        const contentChanged = !sameOid || old.mode !== e.mode || old.target !== e.target || old.size !== size;
        const mtime = e.mtime ?? (contentChanged ? syncSecs : old.mtime);
        if (contentChanged || mtime !== old.mtime) {
          update.run(e.mode, e.oid, size, e.target, mtime, position, old.ino);
          changed.push({ ...old, mode: e.mode, oid: e.oid, size, target: e.target, mtime, position });
        } else if (old.position !== position) {
          setPosition.run(position, old.ino);
          moved++;
        }
      });
      this.#writeDirState(parent, opts.dirOid ?? null, syncedAt, true);
      this.#saveNextIno();
      return { added, changed, removed, moved };
    });
  }

  /**
   * Appends one entry to a directory (a local mount point or a placeholder, like the original's
   * `add_temp_point`). EEXIST if the name is taken. A later `replaceDirectory` of the parent treats
   * it like any other entry (kept only if the server lists it).
   */
  addChild(parent: Ino, entry: DirEntryInput): InodeRecord {
    const e = normalize(entry);
    return this.#transaction((): InodeRecord => {
      this.#requireDir(parent);
      if (this.lookupChild(parent, e.name)) throw FsError.of("EEXIST", `${JSON.stringify(e.name)} exists in directory ${parent}`);
      const record = this.#insert(parent, e, this.childCount(parent), e.mtime ?? Math.floor(this.#now() / 1000));
      this.#saveNextIno();
      return record;
    });
  }

  /** Records a size learned later (HEAD request, downloaded content). */
  setSize(ino: Ino, size: number): void {
    this.#db.run("UPDATE inodes SET size = ? WHERE ino = ?", [size, ino]);
  }

  getDirState(ino: Ino): DirState | null {
    const row = this.#db
      .query<DirStateRow, [number]>("SELECT ino, dir_oid, synced_at, loaded FROM dir_state WHERE ino = ?")
      .get(ino);
    if (!row) return null;
    return { ino: row.ino as Ino, dirOid: row.dir_oid as Oid | null, syncedAt: row.synced_at, loaded: row.loaded !== 0 };
  }

  /**
   * Records a check that found the directory unchanged (e.g. its dir-hash equals `dirOid`), without
   * touching its children. `loaded` stays as it was unless given.
   */
  markSynced(ino: Ino, opts: { dirOid?: Oid | null; syncedAt?: number; loaded?: boolean } = {}): void {
    const old = this.getDirState(ino);
    const dirOid = opts.dirOid !== undefined ? opts.dirOid : (old?.dirOid ?? null);
    this.#writeDirState(ino, dirOid, opts.syncedAt ?? this.#now(), opts.loaded ?? old?.loaded ?? false);
  }

  /** Forgets that a directory was listed, so the next access lists it again. Children are kept. */
  markUnloaded(ino: Ino): void {
    this.#db.run("UPDATE dir_state SET loaded = 0 WHERE ino = ?", [ino]);
  }

  /** A small persisted value of this tree (e.g. the commit a view's listings were taken at). */
  getMeta(key: string): string | null {
    return this.#db.query<{ value: string }, [string]>("SELECT value FROM meta WHERE key = ?").get(key)?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.#db.run("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value]);
  }

  loadedDirCount(): number {
    return this.#db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM dir_state WHERE loaded = 1").get()?.n ?? 0;
  }

  /** "/a/b" for an inode, "/" for the root, null if the inode (or an ancestor) does not exist. */
  pathOf(ino: Ino): string | null {
    const names: string[] = [];
    let cur = ino as number;
    const get = this.#db.query<{ parent: number; name: string }, [number]>("SELECT parent, name FROM inodes WHERE ino = ?");
    for (let depth = 0; cur !== ROOT_INO; depth++) {
      const row = get.get(cur);
      if (!row || depth > 4096) return null;
      names.push(row.name);
      cur = row.parent;
    }
    return "/" + names.reverse().join("/");
  }

  /** The inode at "/a/b" (or "a/b"; empty components ignored), null if any component is missing. */
  resolvePath(path: string): Ino | null {
    let cur: Ino = ROOT_INO;
    const get = this.#db.query<{ ino: number }, [number, string]>("SELECT ino FROM inodes WHERE parent = ? AND name = ?");
    for (const part of path.split("/")) {
      if (part === "") continue;
      if (part === "." || part === "..") return null;
      const row = get.get(cur, part);
      if (!row) return null;
      cur = row.ino as Ino;
    }
    return cur;
  }

  #requireDir(ino: Ino): void {
    const row = this.#db.query<{ kind: string }, [number]>("SELECT kind FROM inodes WHERE ino = ?").get(ino);
    if (!row) throw FsError.of("ENOENT", `no inode ${ino}`);
    if (row.kind !== "dir") throw FsError.of("ENOTDIR", `inode ${ino} is not a directory`);
  }

  /** Runs `fn` in one transaction; a rollback also forgets the row-count mirror (recounted on demand). */
  #transaction<T>(fn: () => T): T {
    try {
      return this.#db.transaction(fn)();
    } catch (err) {
      this.#rowCount = null;
      throw err;
    }
  }

  #insert(parent: Ino, e: Normalized, position: number, mtime: number): InodeRecord {
    const ino = this.#nextIno++ as Ino;
    const size = e.size ?? null;
    this.#insertRow.run(ino, parent, e.name, e.kind, e.mode, e.oid, size, mtime, e.target, position);
    if (this.#rowCount !== null) this.#rowCount++;
    return { ino, parent, name: e.name, kind: e.kind, mode: e.mode, oid: e.oid, size, mtime, target: e.target, generation: 0, position };
  }

  /** Deletes `row` and everything below it; returns them, `row` first. Caller holds the transaction. */
  #removeSubtree(row: InodeRecord): RemovedInode[] {
    const out: RemovedInode[] = [{ ino: row.ino, parent: row.parent, name: row.name, kind: row.kind }];
    if (row.kind === "dir") {
      const below = this.#db
        .query<RemovedInode, [number, number]>(
          `WITH RECURSIVE sub(ino) AS (SELECT ? UNION ALL SELECT i.ino FROM inodes i JOIN sub ON i.parent = sub.ino)
           SELECT i.ino, i.parent, i.name, i.kind FROM inodes i JOIN sub ON i.ino = sub.ino WHERE i.ino != ?`,
        )
        .all(row.ino, row.ino);
      out.push(...below);
    }
    for (const r of out) {
      this.#deleteRow.run(r.ino);
      if (r.kind === "dir") this.#deleteState.run(r.ino);
    }
    if (this.#rowCount !== null) this.#rowCount -= out.length;
    return out;
  }

  #writeDirState(ino: Ino, dirOid: Oid | null, syncedAt: number, loaded: boolean): void {
    this.#db.run(
      `INSERT INTO dir_state (ino, dir_oid, synced_at, loaded) VALUES (?, ?, ?, ?)
       ON CONFLICT (ino) DO UPDATE SET dir_oid = excluded.dir_oid, synced_at = excluded.synced_at, loaded = excluded.loaded`,
      [ino, dirOid, syncedAt, loaded ? 1 : 0],
    );
  }

  #saveNextIno(): void {
    this.#db.run("UPDATE meta SET value = ? WHERE key = 'next_ino'", [String(this.#nextIno)]);
  }
}
