import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/index.ts";
import { startDevServer, type DevServer } from "../../src/devserver/index.ts";
import { lfsClientFor } from "../../src/lfs/index.ts";
import { TempDir } from "../config/helpers.ts";
import { makeSampleRepo } from "../support/sample-repo.ts";

const cfg = new TempDir();
let tmp: string;
let server: DevServer;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "lfs-from-config-"));
  server = await startDevServer({ repo: makeSampleRepo(join(tmp, "repo")).path });
});
afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
  cfg.cleanup();
});

test("a daemon's LFS client talks to {base_url}/info/lfs when lfs_url is unset", async () => {
  const { config } = loadConfig({ configPath: cfg.file(`base_url = "${server.url}/"\n`), env: { HOME: tmp } });
  const client = lfsClientFor(config);
  expect(client.lfsUrl).toBe(`${server.url}/info/lfs`);
  expect((await client.probe()).ok).toBe(true);
});
