/**
 * runDevServer as the CLI uses it: prints the URL, serves, exits 0 on SIGTERM.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeSampleRepo } from "../support/sample-repo.ts";

const tmp = mkdtempSync(join(tmpdir(), "scorpio-devserver-run-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test("runDevServer prints its URL and stops on SIGTERM", async () => {
  const repo = makeSampleRepo(join(tmp, "repo"));
  const script = join(tmp, "run.ts");
  await Bun.write(
    script,
    `import { runDevServer } from ${JSON.stringify(join(import.meta.dir, "../../src/devserver/index.ts"))};\n` +
      `process.exit(await runDevServer({ repo: ${JSON.stringify(repo.path)}, addr: "127.0.0.1:0" }));\n`,
  );
  const child = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "inherit" });
  try {
    const reader = child.stdout.getReader();
    let out = "";
    while (!out.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    const url = out.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(url + "/api/v1/status")).json()).toBe("http ready");
    child.kill("SIGTERM");
    expect(await child.exited).toBe(0);
  } finally {
    child.kill();
  }
}, 20_000);
