/**
 * Checks that a file in a mount reads back as `expected`: whole, then at read sizes from 1 byte to
 * 1 MiB at unaligned offsets, ending with a short read at the end of the file (each size reaches
 * the filesystem as a differently sized READ).
 */
import { expect } from "bun:test";
import * as fs from "node:fs";

export function expectReadsBack(path: string, expected: Buffer): void {
  expect(Buffer.compare(fs.readFileSync(path), expected)).toBe(0);
  const ranges: Array<[size: number, offset: number]> = [[1, 0], [4097, 3], [65_536, 65_535], [131_072, 65_537], [1 << 20, 777], [1 << 20, expected.length - 10]];
  const fd = fs.openSync(path, "r");
  try {
    for (const [size, offset] of ranges) {
      const buf = Buffer.alloc(size);
      const n = fs.readSync(fd, buf, 0, size, offset);
      expect(n).toBe(Math.min(size, expected.length - offset));
      expect(Buffer.compare(buf.subarray(0, n), expected.subarray(offset, offset + n))).toBe(0);
    }
  } finally {
    fs.closeSync(fd);
  }
}
