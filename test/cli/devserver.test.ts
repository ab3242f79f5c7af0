/**
 * `scorpio devserver`: serves a git repository built here with the git CLI; a bad repo exits 1; `--token`
 * gates pushes; a malformed `--token` exits 2.
 */
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { makeSandbox, runCli, spawnCli } from "./harness.ts";

const sb = makeSandbox();
afterAll(() => sb.cleanup());

/** Starts the dev server CLI and returns it with the URL it printed. */
async function startCli(repo: string, extra: string[] = []) {
  const proc = spawnCli("scorpio", ["devserver", "--repo", repo, "--addr", "127.0.0.1:0", ...extra], { cwd: sb.dir, env: sb.env });
  const reader = proc.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 20_000;
  while (!/http:\/\/\S+\n/.test(text) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  return { proc, url: /(http:\/\/\S+)\n/.exec(text)?.[1] };
}

async function makeRepo(name: string): Promise<string> {
  const repo = join(sb.dir, name);
  await Bun.$`git init -q ${repo} && echo hello > ${repo}/a.txt && git -C ${repo} add . && git -C ${repo} -c user.email=t@t -c user.name=t commit -qm init`.quiet();
  return repo;
}

test("serves the repository's tree and stops on SIGTERM", async () => {
  const { proc, url } = await startCli(await makeRepo("repo"));
  try {
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

test("--token USER=TOKEN: pushes need that token; --no-require-auth lets anonymous pushes in", async () => {
  const repo = await makeRepo("repo-token");
  const refs = (url: string, auth?: string) =>
    fetch(`${url}/.git/info/refs?service=git-receive-pack`, { headers: auth ? { authorization: auth } : {}, signal: AbortSignal.timeout(5000) }).then((r) => r.status);
  const a = await startCli(repo, ["--token", "alice=s3cret"]);
  try {
    expect(await refs(a.url!)).toBe(401);
    expect(await refs(a.url!, "Bearer wrong")).toBe(401);
    expect(await refs(a.url!, "Bearer s3cret")).toBe(200);
  } finally {
    a.proc.kill("SIGTERM");
    await a.proc.exited;
  }
  const b = await startCli(repo, ["--token", "alice=s3cret", "--no-require-auth"]);
  try {
    expect(await refs(b.url!)).toBe(200);
    expect(await refs(b.url!, "Bearer wrong")).toBe(401);
  } finally {
    b.proc.kill("SIGTERM");
    await b.proc.exited;
  }
});

test("a malformed --token exits 2 without echoing the secret", async () => {
  const r = await runCli("scorpio", ["devserver", "--repo", sb.dir, "--token", "=hunter2"], { cwd: sb.dir, env: sb.env });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("--token expects USER=TOKEN");
  expect(r.stderr).not.toContain("hunter2");
});
