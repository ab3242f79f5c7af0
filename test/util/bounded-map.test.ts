import { describe, expect, test } from "bun:test";
import { setBounded } from "../../src/util/bounded-map.ts";

describe("setBounded", () => {
  test("keeps at most max entries, dropping the oldest; setting a key again makes it the newest", () => {
    const m = new Map<string, number>();
    for (const [k, v] of [["a", 1], ["b", 2], ["c", 3]] as const) setBounded(m, k, v, 3);
    setBounded(m, "a", 10, 3); // a moves to the newest end, nothing dropped
    expect([...m]).toEqual([["b", 2], ["c", 3], ["a", 10]]);
    setBounded(m, "d", 4, 3); // b, now the oldest, goes
    expect([...m]).toEqual([["c", 3], ["a", 10], ["d", 4]]);
  });
});
