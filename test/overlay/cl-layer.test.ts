/**
 * The CL layer: a host directory of files and whiteouts between upper and lower. Files in it shadow
 * lower ones, its whiteouts hide lower names, upper still wins, and `setClDir` swaps it live.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { WHITEOUT } from "../../src/overlay/index.ts";
import { serveOverlays, startEnv, type OverlayEnv, type ServedOverlays } from "./helpers.ts";

let env: OverlayEnv;
let ov: ServedOverlays;
let cl1: string;
let cl2: string;

beforeAll(async () => {
  env = await startEnv("ovcl");
  cl1 = join(env.dir, "cl1");
  fs.mkdirSync(join(cl1, "src"), { recursive: true });
  fs.writeFileSync(join(cl1, "src/main.rs"), "fn main() { /* from CL */ }\n");
  fs.writeFileSync(join(cl1, "src/added.rs"), "// added by CL\n");
  WHITEOUT.makeWhiteout(cl1, "README.md");
  WHITEOUT.makeWhiteout(cl1, "project/foo");
  cl2 = join(env.dir, "cl2");
  fs.mkdirSync(cl2);
  fs.writeFileSync(join(cl2, "README.md"), "# README from CL 2\n");
  ov = await serveOverlays(env, "cl", [{ name: "m", clDir: cl1 }]);
}, 120_000);

afterAll(async () => {
  await ov?.stop();
  await env?.close();
}, 60_000);

const m = (p: string) => join(ov.mounts[0]!.mountpoint, p);

test("CL files shadow lower ones and its whiteouts hide lower names", () => {
  expect(fs.readFileSync(m("src/main.rs"), "utf8")).toBe("fn main() { /* from CL */ }\n");
  expect(fs.readFileSync(m("src/added.rs"), "utf8")).toBe("// added by CL\n");
  expect(fs.existsSync(m("README.md"))).toBe(false);
  expect(fs.existsSync(m("project/foo"))).toBe(false);
  expect(fs.readdirSync(m("project"))).toEqual(["bar"]);
  expect(fs.readdirSync(m("src")).sort()).toEqual(["added.rs", "lib", "main.rs"]);
});

test("writing a CL file copies it up; the CL directory is never written", () => {
  fs.appendFileSync(m("src/added.rs"), "// local\n");
  expect(fs.readFileSync(m("src/added.rs"), "utf8")).toBe("// added by CL\n// local\n");
  expect(fs.readFileSync(join(cl1, "src/added.rs"), "utf8")).toBe("// added by CL\n");
  fs.unlinkSync(m("src/main.rs"));
  expect(fs.existsSync(m("src/main.rs"))).toBe(false);
  expect(fs.existsSync(join(cl1, "src/main.rs"))).toBe(true);
});

test("setClDir swaps the layer and the kernel sees it", async () => {
  // Warm the kernel caches with the old layer's view first.
  expect(fs.existsSync(m("README.md"))).toBe(false);
  fs.statSync(m("src/added.rs"));
  await ov.setClDir(0, cl2);
  expect(fs.readFileSync(m("README.md"), "utf8")).toBe("# README from CL 2\n");
  expect(fs.existsSync(m("project/foo/Cargo.toml"))).toBe(true);
  // Upper still wins over the new layer: the local edit and the deletion stay.
  expect(fs.readFileSync(m("src/added.rs"), "utf8")).toBe("// added by CL\n// local\n");
  expect(fs.existsSync(m("src/main.rs"))).toBe(false);
  await ov.setClDir(0, null);
  expect(fs.readFileSync(m("README.md"), "utf8")).toBe("# Sample monorepo\n");
});
