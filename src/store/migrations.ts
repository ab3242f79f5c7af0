/**
 * @module store/migrations — the store's SQLite schema as an ordered list of migrations, and the
 * runner that applies the missing ones. Append new migrations; never edit or reorder applied ones
 * (a store on disk records the versions it has). Knows nothing of how the tables are used.
 */
import type { Database } from "bun:sqlite";
import { FsError } from "../util/errno.ts";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "inodes, directory state, blob table",
    sql: `
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;

      -- Inode numbers are allocated from meta.next_ino and never reused (see inode-table.ts).
      CREATE TABLE inodes (
        ino        INTEGER PRIMARY KEY,
        parent     INTEGER NOT NULL,
        name       TEXT    NOT NULL,
        kind       TEXT    NOT NULL CHECK (kind IN ('file', 'dir', 'symlink', 'gitlink')),
        mode       INTEGER NOT NULL,
        oid        TEXT,
        size       INTEGER,
        mtime      INTEGER NOT NULL DEFAULT 0,
        target     TEXT,
        generation INTEGER NOT NULL DEFAULT 0,
        position   INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX inodes_by_name ON inodes (parent, name);
      CREATE INDEX inodes_by_position ON inodes (parent, position);

      CREATE TABLE dir_state (
        ino       INTEGER PRIMARY KEY,
        dir_oid   TEXT,
        synced_at INTEGER,
        loaded    INTEGER NOT NULL DEFAULT 0
      );

      -- stored = 1: content is in objects/ab/cdef...; stored = 0: only the size is known (HEAD, eviction).
      CREATE TABLE blobs (
        oid         TEXT    PRIMARY KEY,
        size        INTEGER NOT NULL,
        stored      INTEGER NOT NULL,
        last_access INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
      CREATE INDEX blobs_lru ON blobs (stored, last_access);

      INSERT INTO meta (key, value) VALUES ('next_ino', '2');
      INSERT INTO inodes (ino, parent, name, kind, mode, oid, size, mtime, target, generation, position)
        VALUES (1, 0, '', 'dir', ${0o040000}, NULL, NULL, 0, NULL, 0, 0);
    `,
  },
  {
    version: 2,
    name: "raw trees by id",
    sql: `
      -- Raw git tree bodies keyed by their tree id: a listing is content-addressed, so a tree seen once
      -- (any view, any commit, a prefetched pack) never needs fetching again.
      CREATE TABLE trees (
        oid  TEXT PRIMARY KEY,
        body BLOB NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: "LFS objects by sha-256",
    sql: `
      -- Which cached blob holds an LFS object: its content is stored in the blob cache under its git blob
      -- id (so budget, eviction, pins and verification are a blob's), found again by the pointer's oid.
      CREATE TABLE lfs_objects (
        sha256 TEXT PRIMARY KEY,
        oid    TEXT NOT NULL,
        size   INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX lfs_objects_by_oid ON lfs_objects (oid);
    `,
  },
];

/** Applies every migration newer than the store's version, each in its own transaction. */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): number {
  db.run(`CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const row = db.query<{ v: number | null }, []>("SELECT MAX(version) AS v FROM schema_version").get();
  const current = row?.v ?? 0;
  const latest = migrations.at(-1)?.version ?? 0;
  if (current > latest) {
    throw FsError.of("EINVAL", `store schema version ${current} is newer than this program supports (${latest})`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.run(m.sql);
      db.run("INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)", [m.version, m.name, Date.now()]);
    })();
  }
  return latest;
}
