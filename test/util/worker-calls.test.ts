/**
 * Request/reply calls to a worker thread (the helper behind the notify, file-writer and pack threads):
 * replies find their callers by id, and a thread that fails rejects every call out and every later one.
 */
import { describe, expect, test } from "bun:test";
import { WorkerCalls } from "../../src/util/worker-calls.ts";

const worker = (source: string) => new Worker(URL.createObjectURL(new Blob([source], { type: "application/javascript" })));

describe("worker calls", () => {
  test("replies reach their own callers, in any order", async () => {
    // Answers the even ids at once and the odd ones a little later: out of order.
    const calls = new WorkerCalls<{ n: number }, { id: number; doubled: number }>(
      worker(`self.onmessage = (ev) => { const r = { id: ev.data.id, doubled: ev.data.n * 2 }; ev.data.id % 2 ? setTimeout(() => postMessage(r), 20) : postMessage(r); };`),
      "doubler",
    );
    const replies = await Promise.all([1, 2, 3, 4, 5].map((n) => calls.call({ n })));
    expect(replies.map((r) => r.doubled)).toEqual([2, 4, 6, 8, 10]);
    expect(calls.failed).toBe(false);
  });

  test("a thread that fails rejects the calls out and every later one, naming itself", async () => {
    const calls = new WorkerCalls<{ n: number }, { id: number }>(worker(`self.onmessage = () => { throw new Error("boom"); };`), "broken");
    const err = await calls.call({ n: 1 }).then(() => null, (e: unknown) => e as Error);
    expect(err?.message).toStartWith("broken thread failed");
    expect(calls.failed).toBe(true);
    const later = await calls.call({ n: 2 }).then(() => null, (e: unknown) => e as Error);
    expect(later?.message).toStartWith("broken thread failed");
  });
});
