/**
 * `scorpio --version` start-up time next to a compiled hello-world, run side by side (interleaved) so the
 * shared machine's noise hits both alike. Reports medians and the ratio; times are wall-clock per process.
 *
 *   bun run build && bun bench/startup.ts [--runs 40]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1] ?? 40) || 40;
const root = new URL("..", import.meta.url).pathname;
const scorpio = join(root, "dist/scorpio");
const dir = mkdtempSync(join(tmpdir(), "scorpio-startup-"));
try {
  writeFileSync(join(dir, "hello.ts"), 'process.stdout.write("hello\\n");\n');
  const build = Bun.spawnSync(["bun", "build", "--compile", "--bytecode", join(dir, "hello.ts"), "--outfile", join(dir, "hello")], { stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`cannot build the hello-world: ${build.stderr}`);
  const targets: Array<[string, string[]]> = [
    ["hello-world", [join(dir, "hello")]],
    ["scorpio --version", [scorpio, "--version"]],
    ["scorpio help", [scorpio, "help"]],
  ];
  const times = new Map<string, number[]>(targets.map(([n]) => [n, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, argv] of targets) {
      const t0 = performance.now();
      const r = Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore" });
      const ms = performance.now() - t0;
      if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${r.exitCode}`);
      times.get(name)!.push(ms);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = median(times.get("hello-world")!);
  for (const [name] of targets) {
    const m = median(times.get(name)!);
    console.log(`${name.padEnd(20)} median ${m.toFixed(1)} ms  ratio to hello-world ${(m / base).toFixed(2)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
