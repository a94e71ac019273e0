import fc from "fast-check";
import { getConvexSize } from "convex/values";
import {
  splitJournalEntry,
  capFieldCounts,
  MAX_FIELD_COUNTS,
  CONVEX_LIMITS,
  DEFAULT_POLICY,
  halve,
  isLimitError,
  nextBatchSize,
  definitionChecksum,
  hashText,
  addFieldCounts,
  changedFields,
  cloneValue,
  priorValues,
  valuesEqual,
  cursorCreationTime,
  estimateProgress,
} from "../internal.js";
import { describe, expect, test } from "vitest";
import { errorOf } from "../helpers.js";

const small = {
  documentsRead: 200,
  documentsWritten: 100,
  bytesRead: 20_000,
  bytesWritten: 10_000,
  durationMs: 10,
};

describe("nextBatchSize", () => {
  test("grows at most 4x per batch while usage is small", () => {
    expect(nextBatchSize(100, 100, small)).toBe(400);
    expect(
      nextBatchSize(400, 400, {
        ...small,
        documentsRead: 800,
        documentsWritten: 400,
      }),
    ).toBe(1600);
  });

  test("never plans more than 40% of any limit", () => {
    // 1 write per document: 40% of 16,000 writes is 6,400 (with a higher cap).
    const uncapped = { ...DEFAULT_POLICY, max: 100_000 };
    expect(
      nextBatchSize(
        5_000,
        5_000,
        { ...small, documentsRead: 5_000, documentsWritten: 5_000 },
        0,
        uncapped,
      ),
    ).toBe(6_400);
    // 10 kB written per document: 40% of 16 MiB is ~671 documents.
    const heavy = nextBatchSize(1000, 1000, {
      ...small,
      bytesWritten: 10_000_000,
    });
    expect(heavy).toBe(Math.floor((0.4 * CONVEX_LIMITS.bytesWritten) / 10_000));
    // Time plays no part: production freezes Date.now() inside a function,
    // so a measured duration is noise (issue 10).
    expect(nextBatchSize(100, 100, { ...small, durationMs: 500 })).toBe(400);
    expect(nextBatchSize(100, 100, { ...small, durationMs: 1e9 })).toBe(400);
    // 2 functions scheduled per document: 40% of 1,000.
    expect(nextBatchSize(100, 100, { ...small, functionsScheduled: 200 })).toBe(
      200,
    );
    // 3 db.get per document: 40% of 4,096 queries.
    expect(nextBatchSize(1000, 1000, { ...small, databaseQueries: 3000 })).toBe(
      546,
    );
  });

  test("counts journal writes the runner adds", () => {
    expect(
      nextBatchSize(
        3000,
        3000,
        { ...small, documentsRead: 3000, documentsWritten: 3000 },
        1,
      ),
    ).toBe(3200);
  });

  test("keeps the size when nothing was processed, and never goes below 1 or above the cap", () => {
    expect(nextBatchSize(250, 0, small)).toBe(250);
    expect(nextBatchSize(10, 10, { ...small, bytesWritten: 1e12 })).toBe(1);
    expect(
      nextBatchSize(3000, 3000, {
        ...small,
        documentsRead: 1,
        documentsWritten: 1,
      }),
    ).toBe(4000);
  });

  test("halve", () => {
    expect([halve(2000), halve(3), halve(1)]).toEqual([1000, 1, 1]);
  });

  test.each([
    [
      "Wrote too many documents in a single function execution (limit: 16000).",
      true,
    ],
    [
      "Scanned too many documents in a single function execution (limit: 32000). This is a Convex limit",
      true,
    ],
    ["Too many bytes read in a single function execution", true],
    ["Your function execution timed out", true],
    ["Function execution timed out", true],
    ["Too many functions scheduled by this mutation (limit: 1000)", true],
    [
      "Too large total size of the arguments of scheduled functions from this mutation",
      true,
    ],
    [
      "Scheduled too many functions in a single function execution (limit: 1000).",
      true,
    ],
    ["boom on u3", false],
    ["Value does not match validator", false],
  ])("isLimitError(%s) is %s", (message, expected) => {
    expect(isLimitError(message)).toBe(expected);
  });
});

describe("diff", () => {
  test("valuesEqual compares Convex values deeply, ignoring key order", () => {
    expect(
      valuesEqual({ a: 1, b: [1, { c: "x" }] }, { b: [1, { c: "x" }], a: 1 }),
    ).toBe(true);
    expect(valuesEqual({ a: 1 }, { a: 1, b: undefined })).toBe(true);
    expect(valuesEqual({ a: 1 }, { a: 2 })).toBe(false);
    expect(valuesEqual([1, 2], [1, 2, 3])).toBe(false);
    expect(valuesEqual(1n, 1n)).toBe(true);
    expect(valuesEqual(1n, 1)).toBe(false);
    expect(valuesEqual(NaN, NaN)).toBe(true);
    expect(valuesEqual(null, undefined)).toBe(false);
    const buf = (xs: number[]) => new Uint8Array(xs).buffer;
    expect(valuesEqual(buf([1, 2]), buf([1, 2]))).toBe(true);
    expect(valuesEqual(buf([1, 2]), buf([1, 3]))).toBe(false);
    expect(valuesEqual(buf([1]), [1])).toBe(false);
  });

  test("changedFields lists added, removed and modified user fields only", () => {
    const before = { _id: "1", _creationTime: 1, a: 1, b: "x", c: [1] };
    const after = { _id: "1", _creationTime: 2, a: 1, c: [2], d: true };
    expect(changedFields(before, after)).toEqual(["b", "c", "d"]);
    expect(changedFields(before, { ...before })).toEqual([]);
  });

  test("priorValues keeps prior values and which fields were absent", () => {
    expect(priorValues({ a: 1, b: null }, ["a", "b", "z"])).toEqual({
      prior: { a: 1, b: null },
      absent: ["z"],
    });
  });

  test("addFieldCounts merges and sorts", () => {
    expect(
      addFieldCounts(
        [{ field: "b", count: 1 }],
        [
          { field: "a", count: 2 },
          { field: "b", count: 3 },
        ],
      ),
    ).toEqual([
      { field: "a", count: 2 },
      { field: "b", count: 4 },
    ]);
  });

  test("cloneValue is deep", () => {
    const doc = { a: { b: [1, { c: 2 }] } };
    const copy = cloneValue(doc);
    (doc.a.b[1] as { c: number }).c = 3;
    expect(copy).toEqual({ a: { b: [1, { c: 2 }] } });
  });
});

describe("checksum", () => {
  const base = {
    table: "users",
    migrateOne: (_ctx: unknown, doc: { plan?: string }) => ({
      plan: doc.plan ?? "free",
    }),
  };

  test("is stable, and ignores whitespace and batch-only settings", () => {
    expect(definitionChecksum(base)).toBe(definitionChecksum({ ...base }));
    expect(definitionChecksum(base)).toMatch(/^[0-9a-f]{28}$/);
    const spaced = {
      ...base,
      migrateOne: (_ctx: unknown, doc: { plan?: string }) => ({ plan:   doc.plan ?? "free" }), // prettier-ignore
    };
    expect(definitionChecksum(spaced)).toBe(definitionChecksum(base));
  });

  test("changes with the code, the table, the verification or onError", () => {
    const sum = definitionChecksum(base);
    expect(
      definitionChecksum({
        ...base,
        migrateOne: (_ctx: unknown, doc: { plan?: string }) => ({
          plan: doc.plan ?? "pro",
        }),
      }),
    ).not.toBe(sum);
    expect(definitionChecksum({ ...base, table: "notes" })).not.toBe(sum);
    expect(definitionChecksum({ ...base, verify: () => true })).not.toBe(sum);
    expect(definitionChecksum({ ...base, onError: "skip" })).not.toBe(sum);
    expect(hashText("a")).not.toBe(hashText("b"));
  });
});

describe("progress", () => {
  const base = { activeSince: 0, visitedBefore: 0, now: 10_000 };

  test("from an expected total", () => {
    expect(
      estimateProgress({
        ...base,
        visited: 500,
        isDone: false,
        cursor: '[5,"x"]',
        expectedTotal: 1000,
      }),
    ).toEqual({ percent: 50, docsPerSecond: 50, etaMs: 10_000 });
  });

  test("from the cursor's creation time within the table's span", () => {
    const p = estimateProgress({
      ...base,
      visited: 250,
      isDone: false,
      cursor: JSON.stringify([1_250, "id"]),
      span: { first: 1_000, last: 2_000 },
    });
    expect(p.percent).toBe(25);
    expect(p.etaMs).toBe(30_000);
  });

  test("done is 100%; unknown stays unknown; never 100% before the end", () => {
    expect(
      estimateProgress({ ...base, visited: 10, isDone: true, cursor: null })
        .percent,
    ).toBe(100);
    expect(
      estimateProgress({
        ...base,
        visited: 10,
        isDone: false,
        cursor: "opaque",
      }).percent,
    ).toBeUndefined();
    expect(
      estimateProgress({
        ...base,
        visited: 2000,
        isDone: false,
        cursor: null,
        expectedTotal: 1000,
      }).percent,
    ).toBe(99.9);
  });

  test("throughput counts only documents since the run was last resumed", () => {
    const p = estimateProgress({
      visited: 300,
      visitedBefore: 200,
      activeSince: 5_000,
      now: 6_000,
      isDone: false,
      cursor: null,
    });
    expect(p.docsPerSecond).toBe(100);
  });

  test("cursorCreationTime", () => {
    expect(cursorCreationTime('[12.5,"abc"]')).toBe(12.5);
    expect(cursorCreationTime('["x"]')).toBeUndefined();
    expect(cursorCreationTime("[not json")).toBeUndefined();
    expect(cursorCreationTime(null)).toBeUndefined();
  });
});

describe("bounded stored arrays and rows (issue 10)", () => {
  test("splitJournalEntry: every piece fits a journal row and together they restore the whole entry", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }).map((k) => `f${k}`),
          fc.nat({ max: 300 }).map((n) => "x".repeat(n)),
          { maxKeys: 30 },
        ),
        fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
        (prior, absent) => {
          const max = 1_000;
          const entry = { id: "doc1", prior, absent };
          const pieces = splitJournalEntry(entry, max);
          for (const p of pieces) {
            expect(getConvexSize(p)).toBeLessThanOrEqual(max);
            expect(p.id).toBe("doc1");
          }
          expect(Object.assign({}, ...pieces.map((p) => p.prior))).toEqual(
            prior,
          );
          expect(pieces.flatMap((p) => p.absent)).toEqual(absent);
        },
      ),
      { seed: 42, numRuns: 200 },
    );
  });

  test("splitJournalEntry refuses a single field larger than a row", async () => {
    const data = await errorOf(() =>
      splitJournalEntry(
        { id: "d", prior: { big: "x".repeat(2_000) }, absent: [] },
        1_000,
      ),
    );
    expect(data).toMatchObject({
      code: "INVALID_ARGUMENT",
      field: "big",
      max: 1_000,
    });
    expect(data.bytes).toBeGreaterThan(1_000);
    expect(data.message).toMatch(/field "big".*journal: false/);
  });

  test("capFieldCounts keeps at most 1,000 entries and every count", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3_000 }), (n) => {
        const counts = Array.from({ length: n }, (_, i) => ({
          field: `f${i}`,
          count: (i % 7) + 1,
        }));
        const capped = capFieldCounts(counts);
        expect(capped.length).toBeLessThanOrEqual(MAX_FIELD_COUNTS);
        const total = (xs: typeof counts) =>
          xs.reduce((s, c) => s + c.count, 0);
        expect(total(capped)).toBe(total(counts));
        if (n <= MAX_FIELD_COUNTS) expect(capped).toBe(counts);
      }),
      { seed: 42, numRuns: 50 },
    );
  });
});
