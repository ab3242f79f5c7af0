/**
 * `completions <shell>`: scripts for every shell, syntax-checked by the real shell where installed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { renderCompletions, SHELLS } from "../../src/cli/completions.ts";
import { makeSandbox, runCli } from "./harness.ts";

const sb = makeSandbox();
afterAll(() => sb.cleanup());

function which(cmd: string): string | null {
  return Bun.which(cmd);
}

describe("completions", () => {
  test("the command prints the same script as renderCompletions, without needing a config", async () => {
    const r = await runCli("scorpio", ["-c", join(sb.dir, "missing.toml"), "completions", "bash"], { cwd: sb.dir, env: sb.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(renderCompletions("bash", "scorpio"));
  });

  for (const shell of SHELLS) {
    test(`${shell}: lists subcommands, nested commands and options`, () => {
      const script = renderCompletions(shell, "scorpio");
      for (const raw of ["serve", "mount", "umount", "http-mount", "doctor", "validate", "--config-path", "--http-addr", "--cl", "--json", "powershell"]) {
        // fish spells long options `-l name`
        const word = shell === "fish" && raw.startsWith("--") ? `-l ${raw.slice(2)}` : raw;
        expect({ shell, word, found: script.includes(word) }).toEqual({ shell, word, found: true });
      }
      const antares = renderCompletions(shell, "antares");
      expect(antares).toContain("antares");
      expect(antares).not.toContain("doctor");
      expect(antares).not.toContain("http-addr");
    });
  }

  const checkers: Array<[string, string[]]> = [
    ["bash", ["bash", "-n"]],
    ["zsh", ["zsh", "-n"]],
    ["fish", ["fish", "-n"]],
  ];
  for (const [shell, argv] of checkers) {
    test(`${shell} accepts the script (${argv.join(" ")})`, () => {
      if (!which(argv[0]!)) {
        console.log(`skipped: ${argv[0]} is not installed`);
        return;
      }
      for (const bin of ["scorpio", "antares"] as const) {
        const file = join(sb.dir, `${bin}.${shell}`);
        writeFileSync(file, renderCompletions(shell as "bash" | "zsh" | "fish", bin));
        const r = Bun.spawnSync([...argv, file], { stderr: "pipe" });
        expect({ shell, bin, code: r.exitCode, err: r.stderr.toString() }).toEqual({ shell, bin, code: 0, err: "" });
      }
    });
  }

  test("bash completion actually completes subcommands and option values", () => {
    if (!which("bash")) {
      console.log("skipped: bash is not installed");
      return;
    }
    const file = join(sb.dir, "complete-probe.bash");
    writeFileSync(
      file,
      renderCompletions("bash", "scorpio") +
        `
probe() { COMP_WORDS=("$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _scorpio; echo "\${COMPREPLY[*]}"; }
probe scorpio mo
probe scorpio config v
probe scorpio completions z
probe scorpio -c x.toml mount job1 --c
`,
    );
    const r = Bun.spawnSync(["bash", file], { stdout: "pipe", stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    expect(r.stdout.toString().split("\n").slice(0, 4)).toEqual(["mount", "validate", "zsh", "--cl --config-path --cl-root"]);
  });
});
