/**
 * @module store/database — opens the store's one SQLite database with the pragmas the store relies
 * on and brings its schema up to date. Knows nothing of the tables' meaning.
 */
import { Database } from "bun:sqlite";
import { migrate } from "./migrations.ts";
import { FsError } from "../util/errno.ts";

export function openDatabase(file: string): Database {
  const db = new Database(file, { create: true, strict: true });
  try {
    // EXCLUSIVE before WAL: the wal-index then lives in heap memory (no -shm file) and, once the first
    // write below has run, SQLite holds its file lock until close — a kernel-enforced "one process
    // owns this store" that also holds if the LOCK file was broken by mistake.
    db.run("PRAGMA locking_mode = EXCLUSIVE");
    db.run("PRAGMA journal_mode = WAL");
    // NORMAL in WAL mode: a crash can lose the last transactions but never corrupts the database;
    // the store tolerates such losses (a lost blob row is an orphan file that verify() cleans).
    db.run("PRAGMA synchronous = NORMAL");
    db.run("PRAGMA busy_timeout = 1000");
    db.run("PRAGMA foreign_keys = OFF");
    // Up to 64 MiB of pages in SQLite's own cache (the default 2 MiB holds a fraction of a 100k-file
    // tree): a walk then reads each page from disk once, not once per query. Allocated as used.
    db.run("PRAGMA cache_size = -65536");
    migrate(db);
    // A deliberate write: in EXCLUSIVE mode it is what makes SQLite take (and keep) its exclusive lock now,
    // so a second process fails here at open rather than at its first write.
    db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('opened_by_pid', ?)", [String(process.pid)]);
  } catch (err) {
    db.close();
    if (err instanceof Error && /database is locked|SQLITE_BUSY/i.test(err.message)) {
      throw FsError.of("EBUSY", `store database ${file} is locked by another process`, { cause: err });
    }
    throw err;
  }
  return db;
}
