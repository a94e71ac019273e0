/**
 * Properties of the pure storage helpers: snapshot text splitting and
 * round trips (src/auditLog/shared/snapshot.ts) and the document limit rules
 * (src/shared/limits.ts), over generated values.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { getConvexSize, type Value } from "convex/values";
import {
  boundedChanged,
  decodeSnapshot,
  encodeSnapshot,
  fitsInline,
  MAX_CHANGED_BYTES,
  splitUtf8,
  utf8Length,
  hashValue,
  checkDocument,
  documentSize,
  MAX_ARRAY_LENGTH,
  MAX_DOCUMENT_BYTES,
  MAX_NESTING,
  valueNesting,
  valuesEqual,
} from "../internal.js";

const runs = { seed: 42, numRuns: 200 };

/** Any Convex value, nested a few levels: all the types the log stores. */
const convexValue: fc.Arbitrary<Value> = fc.letrec<{ value: Value }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.string({ unit: "binary" }),
    fc
      .uint8Array({ maxLength: 16 })
      .map((a) => a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(
      fc
        .string({ minLength: 1, maxLength: 6 })
        .filter((k) => !k.startsWith("$") && !k.startsWith("_")),
      tie("value"),
      { maxKeys: 4 },
    ),
  ) as fc.Arbitrary<Value>,
})).value;

describe("snapshot text", () => {
  test("splitting keeps every part within its byte size, never splits a character, and joins back", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 300 }),
        fc.integer({ min: 4, max: 40 }),
        (text, max) => {
          const parts = splitUtf8(text, max);
          expect(parts.join("")).toBe(text);
          for (const part of parts) {
            expect(utf8Length(part)).toBeLessThanOrEqual(max);
            const last = part.charCodeAt(part.length - 1);
            expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
          }
          expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
        },
      ),
      runs,
    );
  });

  test("a value's text reads back as the same value, and hashes as the value does", () => {
    fc.assert(
      fc.property(convexValue, (value) => {
        const { text, hash, bytes } = encodeSnapshot(value);
        expect(valuesEqual(decodeSnapshot(text), value)).toBe(true);
        expect(hash).toBe(hashValue(value));
        expect(bytes).toBe(new TextEncoder().encode(text).length);
        const rejoined = splitUtf8(text, 64).join("");
        expect(valuesEqual(decodeSnapshot(rejoined), value)).toBe(true);
      }),
      runs,
    );
  });

  test("kept changed paths fit their budget, in order, and count them all", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 80 }), { maxLength: 300 }),
        (paths) => {
          const { changed, total } = boundedChanged(paths);
          expect(total).toBe(paths.length);
          expect(changed).toEqual(paths.slice(0, changed.length));
          const bytes = changed.reduce((n, p) => n + utf8Length(p) + 2, 0);
          expect(bytes).toBeLessThanOrEqual(MAX_CHANGED_BYTES);
        },
      ),
      runs,
    );
  });
});

describe("document limits", () => {
  test("sizes are Convex's own count; nesting counts the document as level 1", () => {
    fc.assert(
      fc.property(convexValue, (value) => {
        const doc = { _id: "x".repeat(32), _creationTime: 1, v: value };
        expect(documentSize(doc)).toBe(getConvexSize(doc));
        expect(valueNesting(doc)).toBe(1 + valueNesting(value));
        // A value that fits inline can sit in a row field without breaking the nesting rule.
        if (fitsInline(value, Infinity))
          expect(
            checkDocument({ field: value }).filter((v) => v.rule === "nesting"),
          ).toEqual([]);
      }),
      runs,
    );
  });

  test("each broken rule is reported with where it broke", () => {
    let deep: Value = "leaf";
    for (let i = 0; i < MAX_NESTING; i++) deep = { a: deep };
    expect(checkDocument(deep as Record<string, Value>)).toEqual([]);
    expect(checkDocument({ a: deep })).toEqual([
      expect.objectContaining({ rule: "nesting", actual: MAX_NESTING + 1 }),
    ]);
    const long = {
      list: [1, { inner: new Array(MAX_ARRAY_LENGTH + 1).fill(0) }],
    };
    expect(checkDocument(long)).toEqual([
      expect.objectContaining({ rule: "array", path: "$.list[1].inner" }),
    ]);
    expect(checkDocument({ ok: new Array(MAX_ARRAY_LENGTH).fill(0) })).toEqual(
      [],
    );
    const big = { s: "x".repeat(MAX_DOCUMENT_BYTES) };
    expect(checkDocument(big)).toEqual([
      expect.objectContaining({ rule: "size", limit: MAX_DOCUMENT_BYTES }),
    ]);
  });
});
