/**
 * @module devserver/byte-reader — line and exact-length reads over a byte stream (a child's stdout).
 * Keeps received chunks in a list so reading a large object copies each byte once.
 */

export class ByteReader {
  private chunks: Uint8Array[] = [];
  private length = 0;
  /** Bytes of the buffered data already searched for a newline. */
  private scanned = 0;

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  private async pull(): Promise<boolean> {
    const { value, done } = await this.reader.read();
    if (done) return false;
    if (value.length > 0) {
      this.chunks.push(value);
      this.length += value.length;
    }
    return true;
  }

  /** The next `\n`-terminated line without its terminator, or null at end of stream. */
  async readLine(): Promise<string | null> {
    for (;;) {
      const at = this.findNewline();
      if (at >= 0) {
        const line = this.take(at + 1);
        this.scanned = 0;
        return new TextDecoder().decode(line.subarray(0, at));
      }
      this.scanned = this.length;
      if (!(await this.pull())) return null;
    }
  }

  /** Exactly `n` bytes; throws if the stream ends first. */
  async readExact(n: number): Promise<Uint8Array> {
    while (this.length < n) {
      if (!(await this.pull())) throw new Error(`stream ended ${n - this.length} bytes early`);
    }
    this.scanned = 0;
    return this.take(n);
  }

  private findNewline(): number {
    let base = 0;
    for (const c of this.chunks) {
      if (base + c.length > this.scanned) {
        const from = Math.max(0, this.scanned - base);
        const i = c.indexOf(0x0a, from);
        if (i >= 0) return base + i;
      }
      base += c.length;
    }
    return -1;
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first && first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.length -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      out.set(c.subarray(0, k), off);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.length -= n;
    return out;
  }
}
