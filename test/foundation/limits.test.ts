/**
 * The production-limits harness: the pure size rules of `src/shared/limits.ts`
 * checked against the Convex backend's rule on generated values, and the
 * scan `convex-opskit/test` runs over every table of the app and of each
 * component.
 */
import {
  anyApi,
  componentsGeneric,
  defineSchema,
  defineTable,
  type FunctionReference,
  mutationGeneric,
} from "convex/server";
import { getConvexSize, v, type Value } from "convex/values";
import fc from "fast-check";
import { beforeAll, beforeEach, describe, expect, test, vi } from "vitest";
import opskit, {
  checkLimits,
  LimitsExceededError,
  type ProductionLimits,
  withProductionLimits,
} from "convex-opskit/test";
import {
  checkDocument,
  documentSize,
  MAX_ARRAY_LENGTH,
  MAX_DOCUMENT_BYTES,
  MAX_NESTING,
  SYSTEM_FIELDS_BYTES,
} from "../internal.js";
import { opskitTest } from "../helpers.js";
import * as self from "./limits.test.js";

const FC = { seed: 42, numRuns: 200 };

// convex-test as a user has it: this repo's setup file turns production
// limits on for every convexTest(), and these tests turn them on themselves.
const { convexTest } =
  await vi.importActual<typeof import("convex-test")>("convex-test");

// --- The backend's rule, restated from crates/value/src (size.rs, lib.rs,
// string.rs, bytes.rs, array.rs, object.rs) as an independent oracle: it
// measures UTF-8 with TextEncoder, where limits.ts counts code units.
const utf8 = (s: string) => new TextEncoder().encode(s).length;
function rustSize(x: Value): number {
  if (x === null || typeof x === "boolean") return 1;
  if (typeof x === "number" || typeof x === "bigint") return 1 + 8;
  if (typeof x === "string") return 1 + utf8(x) + 1;
  if (x instanceof ArrayBuffer) return 1 + x.byteLength + 1;
  if (Array.isArray(x))
    return 1 + x.reduce<number>((n, e) => n + rustSize(e), 0) + 1;
  return (
    1 +
    Object.entries(x).reduce<number>(
      (n, [k, e]) => n + utf8(k) + 1 + rustSize(e),
      0,
    ) +
    1
  );
}
function rustNesting(x: Value): number {
  if (Array.isArray(x)) return 1 + Math.max(0, ...x.map(rustNesting));
  if (x !== null && typeof x === "object" && !(x instanceof ArrayBuffer))
    return 1 + Math.max(0, ...Object.values(x).map(rustNesting));
  return 0;
}

const fieldName = fc.string({ unit: "grapheme", minLength: 1, maxLength: 6 });
const scalar: fc.Arbitrary<Value> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double({ noNaN: false }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.uint8Array({ maxLength: 16 }).map((a) => a.buffer.slice(0) as ArrayBuffer),
);
const { value: convexValue } = fc.letrec<{ value: Value }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fieldName, tie("value"), { maxKeys: 4 }),
  ),
}));

/** A value nested exactly `depth` levels (0 = a scalar). */
function nested(depth: number, leaf: Value = 1): Value {
  let x: Value = leaf;
  for (let i = 0; i < depth; i++) x = i % 2 ? [x] : { f: x };
  return x;
}

describe("size rules (src/shared/limits.ts)", () => {
  test("documentSize is the backend's size rule, and agrees with convex's getConvexSize", () => {
    fc.assert(
      fc.property(convexValue, (x) => {
        expect(documentSize(x)).toBe(rustSize(x));
        expect(documentSize(x)).toBe(getConvexSize(x));
      }),
      FC,
    );
  });

  test("checkDocument reports nesting exactly when the backend's nesting exceeds 16", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 24 }),
        convexValue,
        (depth, leaf) => {
          const doc = { deep: nested(depth, leaf) } as Record<string, Value>;
          const levels = rustNesting(doc);
          const found = checkDocument(doc).filter((x) => x.rule === "nesting");
          expect(found).toEqual(
            levels > MAX_NESTING
              ? [
                  {
                    path: expect.stringMatching(/^\$\.deep/),
                    rule: "nesting",
                    actual: levels,
                    limit: MAX_NESTING,
                  },
                ]
              : [],
          );
        },
      ),
      FC,
    );
    // The document itself is level 1: 15 levels below it is the most a deployment stores.
    expect(checkDocument({ a: nested(15) })).toEqual([]);
    expect(checkDocument({ a: nested(16) })[0]).toMatchObject({
      rule: "nesting",
      actual: 17,
      path: `$.a${pathOf(16)}`,
    });
  });

  test("checkDocument reports every array over 8,192 elements, with its path", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MAX_ARRAY_LENGTH - 2, max: MAX_ARRAY_LENGTH + 2 }),
        fc.constantFrom("list", "with space", "é"),
        (length, key) => {
          const doc = { outer: { [key]: new Array<Value>(length).fill(0) } };
          const step = /^[A-Za-z_$][\w$]*$/.test(key)
            ? `.${key}`
            : `[${JSON.stringify(key)}]`;
          expect(checkDocument(doc).filter((x) => x.rule === "array")).toEqual(
            length > MAX_ARRAY_LENGTH
              ? [
                  {
                    path: `$.outer${step}`,
                    rule: "array",
                    actual: length,
                    limit: MAX_ARRAY_LENGTH,
                  },
                ]
              : [],
          );
        },
      ),
      { seed: 42, numRuns: 30 },
    );
  });

  test("checkDocument reports a document over 1 MiB, counting system fields when it has none yet", () => {
    // A string field: 1 + 4 ("blob") + 1 + (1 + n + 1) + 1 = n + 9 bytes of object.
    const body = (n: number) => ({ blob: "x".repeat(n) });
    const fits = MAX_DOCUMENT_BYTES - 9 - SYSTEM_FIELDS_BYTES;
    expect(checkDocument(body(fits))).toEqual([]);
    expect(checkDocument(body(fits + 1))).toEqual([
      {
        path: "$",
        rule: "size",
        actual: MAX_DOCUMENT_BYTES + 1,
        limit: MAX_DOCUMENT_BYTES,
      },
    ]);
    // A stored document carries its system fields: nothing is added.
    const stored = { _id: "x".repeat(32), _creationTime: 1, ...body(fits + 1) };
    expect(documentSize(stored)).toBe(MAX_DOCUMENT_BYTES + 1);
    expect(checkDocument(stored)[0]).toMatchObject({
      rule: "size",
      actual: MAX_DOCUMENT_BYTES + 1,
    });
  });
});

/** The steps from the top of `nested(depth)` down to its innermost container. */
function pathOf(depth: number): string {
  let path = "";
  for (let i = depth - 1; i >= 1; i--) path += i % 2 ? "[0]" : ".f";
  return path;
}

// --- The scan ---------------------------------------------------------------

const appSchema = defineSchema({
  posts: defineTable({ body: v.any() }),
});

export const put = mutationGeneric({
  args: { body: v.any() },
  returns: v.id("posts"),
  handler: async (ctx, { body }) => ctx.db.insert("posts", { body }),
});

export const putInComponent = mutationGeneric({
  args: { body: v.any() },
  returns: v.null(),
  handler: async (ctx, { body }) => {
    await ctx.runMutation(blobStore.store.put, { body });
    return null;
  },
});

/** A component the scan knows only from `t.registerComponent`, as a user's own would be. */
const { blobStore } = componentsGeneric() as unknown as {
  blobStore: {
    store: {
      put: FunctionReference<"mutation", "internal", { body: Value }, null>;
    };
  };
};
const blobStoreSchema = defineSchema({
  blobs: defineTable({ body: v.any() }),
});
const blobStoreModules = {
  "./blobStore/_generated/api.ts": async () => ({}),
  "./blobStore/store.ts": async () => ({
    put: mutationGeneric({
      args: { body: v.any() },
      returns: v.null(),
      handler: async (ctx, { body }) => {
        await ctx.db.insert("blobs", { body });
        return null;
      },
    }),
  }),
};

const modules = {
  "./limits.test.ts": async () => self,
  "./_generated/api.ts": async () => ({}),
};
const api = anyApi["limits.test"];
const big = (bytes: number) => "x".repeat(bytes);
/** A value every convex-test version stores and no deployment does. */
const tooLong = () => ({
  list: new Array<number>(MAX_ARRAY_LENGTH + 1).fill(0),
});

/**
 * Stores a document over 1 MiB, or returns null when this convex-test refuses
 * it at the write itself, as a deployment does (0.0.71 and later; 0.0.60
 * stores it).
 */
async function storeOversized(write: () => Promise<string>) {
  try {
    return await write();
  } catch (e) {
    expect(String(e)).toMatch(/Value is too large/);
    return null;
  }
}

describe("the limits scan (convex-opskit/test)", () => {
  test("an app document over 1 MiB fails the check, naming table, id and path", async () => {
    const t = withProductionLimits(convexTest({ schema: appSchema, modules }), {
      schema: appSchema,
      afterEach: false,
    });
    const small = await t.mutation(api.put, { body: "ok" });
    const id = await storeOversized(() =>
      t.mutation(api.put, { body: big(MAX_DOCUMENT_BYTES) }),
    );
    if (id === null) {
      // Refused at the write: nothing oversized is stored, the check passes.
      await expect(t.checkLimits()).resolves.toBeUndefined();
      return;
    }
    const error = await t.checkLimits().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LimitsExceededError);
    const violations = (error as LimitsExceededError).violations;
    expect(violations).toEqual([
      {
        component: "",
        table: "posts",
        id,
        path: "$",
        rule: "size",
        actual: expect.any(Number),
        limit: MAX_DOCUMENT_BYTES,
      },
    ]);
    expect(violations[0].actual).toBeGreaterThan(MAX_DOCUMENT_BYTES);
    expect((error as Error).message).toContain(
      `app, table posts, id ${id}, path $`,
    );
    expect(violations.map((x) => x.id)).not.toContain(small);
  });

  test("arrays and nesting in a component's table are found, in a component registered after the check was turned on", async () => {
    const t = withProductionLimits(convexTest({ schema: appSchema, modules }), {
      schema: appSchema,
      afterEach: false,
    });
    t.registerComponent("blobStore", blobStoreSchema, blobStoreModules);
    await t.mutation(api.putInComponent, {
      body: { tags: new Array(MAX_ARRAY_LENGTH + 1).fill("t") },
    });
    await t.mutation(api.putInComponent, { body: nested(MAX_NESTING) });
    await t.mutation(api.putInComponent, {
      body: { fine: nested(MAX_NESTING - 2) },
    });
    const found = await t.scanLimits();
    expect(
      found.map(({ component, table, path, rule, actual }) => ({
        component,
        table,
        path,
        rule,
        actual,
      })),
    ).toEqual([
      {
        component: "blobStore",
        table: "blobs",
        path: "$.body.tags",
        rule: "array",
        actual: MAX_ARRAY_LENGTH + 1,
      },
      {
        component: "blobStore",
        table: "blobs",
        path: `$.body${pathOf(MAX_NESTING)}`,
        rule: "nesting",
        actual: MAX_NESTING + 1,
      },
    ]);
    expect(
      found.every((x) => typeof x.id === "string" && x.id.endsWith("blobs")),
    ).toBe(true);
  });

  test("opskit's components registered before the check was turned on are scanned too; an allowance keeps one test's data", async () => {
    const t = convexTest({ schema: appSchema, modules });
    opskit.registerAll(t);
    t.registerComponent("blobStore", blobStoreSchema, blobStoreModules); // before: invisible to the scan
    const limited = withProductionLimits(t, {
      schema: appSchema,
      afterEach: false,
    });
    await limited.mutation(api.put, {
      body: { list: new Array(MAX_ARRAY_LENGTH + 5).fill(1) },
    });
    await expect(limited.checkLimits()).rejects.toThrow(
      /table posts, id .*, path \$\.body\.list: array has 8197 elements \(limit 8192\)/,
    );
    expect(() =>
      limited.allowLimitViolations({ table: "posts", reason: "" }),
    ).toThrow(/reason/);
    limited.allowLimitViolations({
      table: "posts",
      rule: "array",
      reason: "this test stores an oversized array on purpose",
    });
    await expect(limited.checkLimits()).resolves.toBeUndefined();
  });

  test("a large table is scanned in pages, each inside the transaction limits", async () => {
    const t = withProductionLimits(
      convexTest({ schema: appSchema, modules, transactionLimits: true }),
      { schema: appSchema, afterEach: false },
    );
    // 24 documents of 900 kB: 21 MiB in all, more than one transaction may read.
    for (let i = 0; i < 24; i++)
      await t.mutation(api.put, { body: big(900_000) });
    const last = await t.mutation(api.put, { body: tooLong() });
    const found = await t.scanLimits();
    expect(found.map((x) => [x.id, x.path])).toEqual([[last, "$.body.list"]]);
  });

  test("a table of more documents than a transaction may read is scanned in pages", async () => {
    const t = withProductionLimits(
      convexTest({ schema: appSchema, modules, transactionLimits: true }),
      { schema: appSchema, afterEach: false },
    );
    // 33,000 documents (a transaction reads at most 32,000), in batches a transaction may write.
    for (let batch = 0; batch < 3; batch++)
      await t.run(async (ctx) => {
        for (let i = 0; i < 11_000; i++)
          await ctx.db.insert("posts", { body: i });
      });
    const last = await t.mutation(api.put, { body: tooLong() });
    expect((await t.scanLimits()).map((x) => x.id)).toEqual([last]);
  });

  test("many violations: every one is reported, in pages of at most 1,000", async () => {
    const t = withProductionLimits(convexTest({ schema: appSchema, modules }), {
      schema: appSchema,
      afterEach: false,
    });
    const ids = await t.run(async (ctx) => {
      const out: string[] = [];
      for (let i = 0; i < 1_100; i++)
        out.push(await ctx.db.insert("posts", { body: nested(MAX_NESTING) }));
      return out;
    });
    const found = await t.scanLimits();
    expect(found.map((x) => x.id)).toEqual(ids);
    const error = await t.checkLimits().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/1100 violation\(s\)/);
    expect((error as Error).message).toMatch(/\.\.\. and 1080 more/);
  });

  test("checkLimits(t) checks once, on demand, with the app's schema", async () => {
    const t = convexTest({ schema: appSchema, modules });
    await t.mutation(api.put, { body: nested(MAX_NESTING) });
    await expect(checkLimits(t, { schema: appSchema })).rejects.toThrow(
      /value nests 17 levels \(limit 16\)/,
    );
  });

  test("opskitTest turns the check and transactionLimits on", async () => {
    const t = opskitTest(modules, appSchema);
    // 17 MiB written in one mutation: refused only when transactionLimits is on.
    await expect(
      t.run(async (ctx) => {
        for (let i = 0; i < 17; i++)
          await ctx.db.insert("posts", { body: big(1_000_000) });
      }),
    ).rejects.toThrow(/Wrote too much data/);
    await t.mutation(api.put, { body: tooLong() });
    await expect(t.checkLimits()).rejects.toThrow(LimitsExceededError);
    t.allowLimitViolations({
      table: "posts",
      rule: "array",
      reason: "the check after this test would fail on the document above",
    });
  });
});

describe("an instance made outside a test (a describe body)", () => {
  const t = withProductionLimits(convexTest({ schema: appSchema, modules }), {
    schema: appSchema,
  });
  // Checked after each test of the suite: the second test is expected to
  // fail through that check (the first stored nothing wrong).
  test("a storable document passes", async () => {
    await t.mutation(api.put, { body: "fine" });
  });
  test.fails(
    "an array over 8,192 elements fails the check after the test",
    async () => {
      await t.mutation(api.put, { body: tooLong() });
    },
  );
});

describe("an instance made in beforeEach", () => {
  let t: ReturnType<typeof convexTest> & ProductionLimits;
  beforeEach(() => {
    t = withProductionLimits(convexTest({ schema: appSchema, modules }), {
      schema: appSchema,
    });
  });
  test.fails("is checked after its test", async () => {
    await t.mutation(api.put, { body: tooLong() });
  });
  test("and only after its own test", async () => {
    await t.mutation(api.put, { body: "fine" });
  });
});

// Defect: an instance made in beforeAll was never checked (onTestFinished
// throws there and an afterEach registered from it is ignored), so a test
// leaving an oversized document passed.
describe("an instance made in beforeAll", () => {
  let t: ReturnType<typeof convexTest> & ProductionLimits;
  beforeAll(() => {
    t = withProductionLimits(convexTest({ schema: appSchema, modules }), {
      schema: appSchema,
    });
  });
  test.fails(
    "is checked after each test that uses it (a beforeAll instance was never checked)",
    async () => {
      await t.mutation(api.put, { body: tooLong() });
    },
  );
  test.fails(
    "also when the test writes through t.withIdentity(...)",
    async () => {
      await t.withIdentity({ subject: "ann" }).mutation(api.put, {
        body: nested(MAX_NESTING),
      });
    },
  );
});

// Defect: an allowance made in one test silenced the check of every later
// test sharing the instance.
describe("an allowance made in one test of a shared instance", () => {
  const t = withProductionLimits(convexTest({ schema: appSchema, modules }), {
    schema: appSchema,
  });
  test("applies to that test", async () => {
    await t.mutation(api.put, { body: tooLong() });
    t.allowLimitViolations({
      table: "posts",
      reason: "this test stores an oversized array on purpose",
    });
    await expect(t.checkLimits()).resolves.toBeUndefined();
  });
  test("does not leak into the next test (an allowance silenced later tests)", async () => {
    await expect(t.checkLimits()).rejects.toThrow(LimitsExceededError);
    t.allowLimitViolations({
      table: "posts",
      reason: "the array stored by the previous test is still there",
    });
  });
});

test("a nested component (registered as parent/child) is scanned too", async () => {
  const t = withProductionLimits(convexTest({ schema: appSchema, modules }), {
    afterEach: false,
  });
  t.registerComponent("outer/blobStore", blobStoreSchema, blobStoreModules);
  // Reached by its function handle, as a parent component would call it.
  await t.mutation(
    "function://outer/blobStore;store:put" as unknown as typeof blobStore.store.put,
    { body: { tags: new Array(MAX_ARRAY_LENGTH + 1).fill(0) } },
  );
  expect(
    (await t.scanLimits()).map((x) => [x.component, x.table, x.path]),
  ).toEqual([["outer/blobStore", "blobs", "$.body.tags"]]);
});

// The automatic check: this test stores a document a deployment refuses and
// is expected to fail — through the check that runs after it, not its body
// (every convex-test version stores the array).
test.fails(
  "the check after the test fails a test that leaves an array over 8,192 elements",
  async () => {
    const t = withProductionLimits(convexTest({ schema: appSchema, modules }), {
      schema: appSchema,
    });
    await t.mutation(api.put, { body: tooLong() });
  },
);

test("the harness API is typed: a wrong rule, a missing reason or a wrong option is a type error", () => {
  const t = withProductionLimits(convexTest({ schema: appSchema, modules }), {
    schema: appSchema,
    afterEach: false,
  });
  const wrongRule = { rule: "sized", reason: "x" } as const;
  // @ts-expect-error -- "sized" is not a rule
  t.allowLimitViolations(wrongRule);
  // @ts-expect-error -- an allowance must say why
  expect(() => t.allowLimitViolations({ table: "posts" })).toThrow(/reason/);
  // @ts-expect-error -- afterEach is a boolean
  withProductionLimits(t, { afterEach: "yes" });
  // @ts-expect-error -- tables is a list of names
  withProductionLimits(t, { tables: "posts" });
});
