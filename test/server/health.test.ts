/**
 * The /health checks: store disk, failed job mounts, a mount that ended, and the registry's handling of
 * checks that throw or are replaced.
 */
import { describe, expect, test } from "bun:test";
import { tmpdir } from "node:os";
import { HealthRegistry, countByState, jobMountsCheck, mountAliveCheck, storeDiskCheck } from "../../src/server/health.ts";

describe("health checks", () => {
  test("store disk: healthy with room, a problem below the minimum", () => {
    expect(storeDiskCheck(tmpdir(), 1)()).toBeUndefined();
    expect(storeDiskCheck(tmpdir(), Number.MAX_SAFE_INTEGER)()).toStartWith("store disk full: ");
  });

  test("job mounts: Failed ones are listed with their reasons", () => {
    const list = [
      { mount_id: "a", job_id: "j1", state: "Ready" as const },
      { mount_id: "b", job_id: null, state: { Failed: { reason: "recovery failed: ENOENT" } } },
    ];
    expect(jobMountsCheck(() => [list[0]!])()).toBeUndefined();
    expect(jobMountsCheck(() => list)()).toBe("1 job mount(s) failed: b: recovery failed: ENOENT");
    expect(countByState(list)).toEqual({ Ready: 1, Failed: 1 });
  });

  test("a mount that ends is a problem, unless the daemon is stopping", async () => {
    let end!: () => void;
    const closed = new Promise<void>((r) => (end = r));
    let stopping = false;
    const check = mountAliveCheck("the workspace mount", closed, () => stopping);
    expect(check()).toBeUndefined();
    end();
    await closed;
    expect(check()).toContain("no longer mounted");
    stopping = true;
    expect(check()).toBeUndefined();
  });

  test("registry: unregister removes only its own check", () => {
    const h = new HealthRegistry();
    const off = h.register("x", () => "first");
    h.register("x", () => "second");
    off();
    expect(h.evaluate()).toEqual([{ check: "x", message: "second" }]);
  });
});
