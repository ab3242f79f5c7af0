import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openLocalStore, ROOT_INO } from "../../src/store/index.ts";
import { useTempDirs } from "./helpers.ts";

const tempDir = useTempDirs();
const storeModule = join(import.meta.dir, "../../src/store/index.ts");

/** Runs a second process that tries to open the store and prints "opened" or the error's errno and message. */
function openFromChild(path: string): { out: string; code: number } {
  const script = `
    const { openLocalStore } = await import(${JSON.stringify(storeModule)});
    try {
      const s = await openLocalStore({ path: ${JSON.stringify(path)} });
      console.log("opened");
      s.close();
    } catch (e) {
      console.log("error", e.errno, e.message);
    }`;
  const r = Bun.spawnSync([process.execPath, "-e", script], { stderr: "pipe" });
  return { out: r.stdout.toString().trim(), code: r.exitCode };
}

describe("store lock", () => {
  test("a second open in the same process fails with EBUSY naming the owner", async () => {
    const path = tempDir();
    const store = await openLocalStore({ path });
    expect(readFileSync(join(path, "LOCK"), "utf8").split("\n")[0]).toBe(String(process.pid));
    await expect(openLocalStore({ path })).rejects.toMatchObject({ name: "FsError", errno: 16, message: expect.stringContaining("this process") });
    // The failed attempt must not have broken the owner's lock or store.
    expect(existsSync(join(path, "LOCK"))).toBe(true);
    expect(store.inodes.getInode(ROOT_INO)).not.toBeNull();
    store.close();
    expect(existsSync(join(path, "LOCK"))).toBe(false);
    const again = await openLocalStore({ path });
    again.close();
  });

  test("another process gets a clear EBUSY while the store is open, and can open it after close", async () => {
    const path = tempDir();
    const store = await openLocalStore({ path });
    const busy = openFromChild(path);
    expect(busy.out).toStartWith("error 16 ");
    expect(busy.out).toContain(`process ${process.pid}`);
    store.close();
    expect(openFromChild(path).out).toBe("opened");
  });

  test("SQLite's exclusive lock still guards the database if the LOCK file is removed", async () => {
    const path = tempDir();
    const store = await openLocalStore({ path });
    // Someone deletes LOCK by hand: the database lock must still refuse a second process.
    require("node:fs").unlinkSync(join(path, "LOCK"));
    const busy = openFromChild(path);
    expect(busy.out).toStartWith("error 16 ");
    expect(busy.out).toContain("locked");
    store.close();
  });

  test("a stale lock left by a dead process is taken over", async () => {
    const path = tempDir();
    (await openLocalStore({ path })).close();
    const dead = Bun.spawnSync([process.execPath, "-e", "process.pid"]);
    writeFileSync(join(path, "LOCK"), `${dead.pid}\n12345\n`);
    const store = await openLocalStore({ path });
    expect(readFileSync(join(path, "LOCK"), "utf8").split("\n")[0]).toBe(String(process.pid));
    store.close();
  });

  test("a lock whose pid now belongs to another process (different start time) is stale", async () => {
    const path = tempDir();
    // Our own pid, but a start time that is not ours: the pid was reused after the owner died.
    writeFileSync(join(path, "LOCK"), `${process.pid}\n1\n`);
    const store = await openLocalStore({ path });
    store.close();
  });

  test("an unreadable lock file counts as stale", async () => {
    const path = tempDir();
    writeFileSync(join(path, "LOCK"), "");
    const store = await openLocalStore({ path });
    store.close();
  });
});
