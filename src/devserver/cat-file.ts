/**
 * @module devserver/cat-file — a long-lived `git cat-file --batch` (or `--batch-check`) process answering
 * object lookups one at a time. Names are any git revision expression (`<commit>:<path>`, `HEAD^{commit}`);
 * git re-reads refs for every line, so commits made after start are visible. Respawns if the child dies.
 */
import type { Subprocess } from "bun";
import { ByteReader } from "./byte-reader.ts";

export type ObjectType = "blob" | "tree" | "commit" | "tag";

export interface ObjectHeader {
  oid: string;
  type: ObjectType;
  size: number;
}

export interface GitObject extends ObjectHeader {
  data: Uint8Array;
}

const HEADER = /^([0-9a-f]{40}) (blob|tree|commit|tag) (\d+)$/;

export class CatFile {
  private proc: Subprocess<"pipe", "pipe", "ignore"> | null = null;
  private reader: ByteReader | null = null;
  /** Serialises requests: the batch protocol answers in order, one object at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly gitDir: string,
    private readonly mode: "--batch" | "--batch-check",
  ) {}

  /** Looks up `name`; null when git says missing/ambiguous or the name cannot be sent (newline, NUL). */
  lookup(name: string): Promise<GitObject | null> {
    if (name.includes("\n") || name.includes("\0") || name.length === 0) return Promise.resolve(null);
    const run = this.queue.then(() => this.exchange(name));
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.closed = true;
    this.proc?.kill();
    this.proc = null;
    this.reader = null;
  }

  private start(): { proc: Subprocess<"pipe", "pipe", "ignore">; reader: ByteReader } {
    if (this.closed) throw new Error("cat-file closed");
    if (!this.proc || !this.reader || this.proc.exitCode !== null || this.proc.signalCode !== null) {
      this.proc = Bun.spawn(["git", "--git-dir", this.gitDir, "cat-file", this.mode], {
        stdin: "pipe",
        stdout: "pipe",
        stderr: "ignore",
        env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
      });
      this.reader = new ByteReader(this.proc.stdout.getReader() as ReadableStreamDefaultReader<Uint8Array>);
    }
    return { proc: this.proc, reader: this.reader };
  }

  private async exchange(name: string): Promise<GitObject | null> {
    const { proc, reader } = this.start();
    try {
      proc.stdin.write(name + "\n");
      await proc.stdin.flush();
      const line = await reader.readLine();
      if (line === null) throw new Error("git cat-file exited");
      const m = HEADER.exec(line);
      if (!m) return null; // "<name> missing" / "<name> ambiguous"
      const header = { oid: m[1]!, type: m[2] as ObjectType, size: Number(m[3]) };
      if (this.mode === "--batch-check") return { ...header, data: new Uint8Array(0) };
      const data = await reader.readExact(header.size + 1); // content + LF
      return { ...header, data: data.subarray(0, header.size) };
    } catch (err) {
      // The stream is out of step now; drop the process so the next lookup starts clean.
      proc.kill();
      this.proc = null;
      this.reader = null;
      throw err;
    }
  }
}
