import { describe, expect, test } from "vitest";
import {
  canonicalJson,
  hashValue,
  sha256Bytes,
  sha256Hex,
} from "../internal.js";

describe("sha256", () => {
  test("matches the FIPS 180-2 / NIST test vectors", () => {
    expect(sha256Hex("")).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    expect(sha256Hex("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(
      sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    ).toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    expect(
      sha256Hex(
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
      ),
    ).toBe("cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    expect(sha256Hex("a".repeat(1_000_000))).toBe(
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
    );
  });

  test("agrees with crypto.subtle on every length around the block boundaries", async () => {
    for (let n = 0; n <= 130; n++) {
      const bytes = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      const expected = new Uint8Array(
        await crypto.subtle.digest("SHA-256", bytes),
      );
      expect(Array.from(sha256Bytes(bytes))).toEqual(Array.from(expected));
    }
  });

  test("hashes UTF-8, not UTF-16 code units", async () => {
    const text = "é✓🙂";
    const expected = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
    );
    expect(sha256Hex(text)).toBe(
      Array.from(expected, (b) => b.toString(16).padStart(2, "0")).join(""),
    );
  });
});

describe("canonicalJson", () => {
  test("ignores key order at every depth", () => {
    expect(
      canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } }),
    ).toBe(canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });

  test("distinguishes values JSON would conflate", () => {
    expect(canonicalJson(1n)).not.toBe(canonicalJson(1));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
    expect(canonicalJson({ a: "1" })).not.toBe(canonicalJson({ a: 1 }));
    expect(hashValue({ a: 1 })).not.toBe(hashValue({ a: 2 }));
    expect(hashValue(new Uint8Array([1, 2]).buffer)).not.toBe(
      hashValue(new Uint8Array([1, 3]).buffer),
    );
  });
});
