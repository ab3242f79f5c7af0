/**
 * `scorpio devserver`: serves a git repository built here with the git CLI; a bad repo exits 1.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { makeSandbox, runCli, spawnCli } from "./harness.ts";

const sb = makeSandbox();
afterAll(() => sb.cleanup());

test("serves the repository's tree and stops on SIGTERM", async () => {
  const repo = join(sb.dir, "repo");
  await Bun.$`git init -q ${repo} && echo hello > ${repo}/a.txt && git -C ${repo} add . && git -C ${repo} -c user.email=t@t -c user.name=t commit -qm init`.quiet();
  const proc = spawnCli("scorpio", ["devserver", "--repo", repo, "--addr", "127.0.0.1:0"], { cwd: sb.dir, env: sb.env });
  try {
    const reader = proc.stdout.getReader();
    let text = "";
    const deadline = Date.now() + 20_000;
    while (!/http:\/\/\S+\n/.test(text) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    const url = /(http:\/\/\S+)\n/.exec(text)?.[1];
    expect(url).toBeDefined();
    const res = await fetch(`${url}/api/v1/tree/content-hash?path=/`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { req_result: boolean; data: Array<{ name: string }> };
    expect(body.req_result).toBe(true);
    expect(body.data.map((d) => d.name)).toEqual(["a.txt"]);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill("SIGKILL");
  }
});

test("a path that is not a git repository: clear error, exit 1", async () => {
  const r = await runCli("scorpio", ["devserver", "--repo", join(sb.dir, "nope")], { cwd: sb.dir, env: sb.env });
  expect(r.code).toBe(1);
  expect(r.stderr).toStartWith("devserver: ");
});
