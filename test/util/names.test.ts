/**
 * Names survive every round trip between bytes and strings: valid UTF-8 decodes as text, anything
 * else is escaped byte by byte and restored exactly.
 */
import { describe, expect, test } from "bun:test";
import { decodeName, encodeName, hasEscapes, nameByteLength } from "../../src/util/names.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("names", () => {
  test("valid UTF-8 decodes as text and carries no escapes", () => {
    for (const s of ["plain.txt", "ünïcödé-文件", "emoji-😀", "\uFFFD-literal", "\uFEFFbom-first", "a".repeat(255)]) {
      const bytes = Buffer.from(s, "utf8");
      expect(decodeName(bytes)).toBe(s);
      expect(hasEscapes(s)).toBe(false);
      expect(hex(encodeName(s))).toBe(hex(bytes));
      expect(nameByteLength(s)).toBe(bytes.length);
    }
  });

  test("invalid sequences round-trip byte for byte", () => {
    const cases = [
      [0x66, 0xe9, 0x6f], // Latin-1 é
      [0xff, 0xfe],
      [0xc3], // truncated 2-byte sequence
      [0xe2, 0x82], // truncated 3-byte sequence
      [0xc0, 0xaf], // overlong
      [0xed, 0xa0, 0x80], // an encoded surrogate
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0x61, 0xc3, 0xa9, 0x80, 0x62, 0xf0, 0x9f, 0x98, 0x80, 0xf8], // valid é and 😀 between stray bytes
      [0xff, 0xef, 0xbb, 0xbf, 0x61], // a byte-order mark after a stray byte
    ];
    for (const c of cases) {
      const bytes = Uint8Array.from(c);
      const name = decodeName(bytes);
      expect(hasEscapes(name)).toBe(true);
      expect(hex(encodeName(name))).toBe(hex(bytes));
      expect(nameByteLength(name)).toBe(bytes.length);
    }
    expect(decodeName(Uint8Array.from([0x61, 0xc3, 0xa9, 0x80]))).toBe("aé\uEF80");
  });

  test("every single byte and every pair of bytes round-trips", () => {
    for (let a = 1; a < 256; a++) {
      expect(hex(encodeName(decodeName(Uint8Array.of(a))))).toBe(hex(Uint8Array.of(a)));
      for (let b = 1; b < 256; b += 7) {
        const bytes = Uint8Array.of(a, b);
        expect(hex(encodeName(decodeName(bytes)))).toBe(hex(bytes));
      }
    }
  });

  test("valid UTF-8 that spells the escape range is escaped too, so decoding stays one to one", () => {
    const bytes = Buffer.from("x\uEF80y\uEFFF", "utf8"); // EE BE 80 and EE BF BF
    const name = decodeName(bytes);
    expect(name).toBe("x\uEFEE\uEFBE\uEF80y\uEFEE\uEFBF\uEFBF");
    expect(hex(encodeName(name))).toBe(hex(bytes));
  });

  test("escaped names survive node:path (lone surrogates would not in Bun)", async () => {
    const { join, dirname, basename } = await import("node:path");
    const name = decodeName(Uint8Array.from([0x63, 0x61, 0x66, 0xe9]));
    const p = join("/tmp", "dir", name);
    expect(basename(p)).toBe(name);
    expect(hex(encodeName(basename(join(dirname(p), name))))).toBe("636166e9");
  });
});
