import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { migrate, MIGRATIONS, type Migration } from "../../src/store/migrations.ts";
import { openLocalStore } from "../../src/store/index.ts";
import { useTempDirs } from "./helpers.ts";

const tempDir = useTempDirs();

describe("migrations", () => {
  test("are applied once, in order, and recorded", () => {
    const db = new Database(join(tempDir(), "m.db"));
    const extra: Migration[] = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: "test column", sql: "ALTER TABLE meta ADD COLUMN note TEXT" }];
    expect(migrate(db, MIGRATIONS)).toBe(MIGRATIONS.length);
    expect(migrate(db, extra)).toBe(extra.length);
    expect(migrate(db, extra)).toBe(extra.length); // idempotent: the ALTER would fail if re-run
    const versions = db.query<{ version: number }, []>("SELECT version FROM schema_version ORDER BY version").all();
    expect(versions.map((v) => v.version)).toEqual(extra.map((m) => m.version));
    db.close();
  });

  test("a failing migration leaves the schema at the previous version", () => {
    const db = new Database(join(tempDir(), "m.db"));
    const broken: Migration[] = [...MIGRATIONS, { version: 99, name: "broken", sql: "CREATE TABLE x (a); SELECT * FROM no_such_table" }];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.query<{ v: number }, []>("SELECT MAX(version) AS v FROM schema_version").get()!.v).toBe(MIGRATIONS.length);
    expect(db.query("SELECT name FROM sqlite_master WHERE name = 'x'").get()).toBeNull();
    db.close();
  });

  test("a store written by a newer program refuses to open", async () => {
    const path = tempDir();
    (await openLocalStore({ path })).close();
    const db = new Database(join(path, "store.db"));
    db.run("INSERT INTO schema_version (version, name, applied_at) VALUES (1000, 'future', 0)");
    db.close();
    await expect(openLocalStore({ path })).rejects.toMatchObject({ errno: 22, message: expect.stringContaining("newer") });
    // The failed open released its lock.
    const db2 = new Database(join(path, "store.db"));
    db2.run("DELETE FROM schema_version WHERE version = 1000");
    db2.close();
    (await openLocalStore({ path })).close();
  });
});
