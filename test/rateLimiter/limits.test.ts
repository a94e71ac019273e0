import fc from "fast-check";
import { anyApi, mutationGeneric, queryGeneric } from "convex/server";
import { v } from "convex/values";
import { describe, expect, it, vi } from "vitest";
import {
  HOUR,
  MINUTE,
  RateLimiter,
  SECOND,
  isRateLimitError,
  type RateLimitConfig,
} from "convex-opskit/rateLimiter";
import {
  components,
  opskitTest,
  captureLogs,
  near,
  convexErrorOf,
  fakeClock,
} from "../helpers.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./limits.test.js";

const limits = {
  sendMessage: { kind: "token bucket", rate: 10, period: MINUTE, capacity: 3 },
  signUp: { kind: "fixed window", rate: 100, period: HOUR },
  search: { kind: "sliding window", rate: 5, period: MINUTE, start: 0 },
  login: { kind: "gcra", rate: 5, period: 15 * MINUTE, penalty: HOUR },
  global: { kind: "token bucket", rate: 100, period: MINUTE, shards: 10 },
  llmTokens: {
    kind: "token bucket",
    rate: 1000,
    period: MINUTE,
    maxReserved: 500,
  },
  newLimit: { kind: "token bucket", rate: 2, period: MINUTE, shadow: true },
} satisfies Record<string, RateLimitConfig>;

const rateLimiter = new RateLimiter(components.rateLimiter, limits);
// Tests drive any name, including unknown ones, through one set of functions.
const anyLimiter = rateLimiter as unknown as RateLimiter<
  Record<string, RateLimitConfig>
>;

/** Hostile counts cannot cross the wire as numbers, so they travel as names. */
const vCount = v.optional(
  v.union(v.number(), v.literal("NaN"), v.literal("Infinity")),
);
const toCount = (c: number | "NaN" | "Infinity" | undefined) =>
  c === "NaN" ? NaN : c === "Infinity" ? Infinity : c;

const limitArgs = {
  name: v.string(),
  key: v.optional(v.string()),
  count: vCount,
  reserve: v.optional(v.boolean()),
  throws: v.optional(v.boolean()),
  config: v.optional(v.any()),
};

export const hit = mutationGeneric({
  args: limitArgs,
  handler: async (ctx, { name, count, ...rest }) =>
    anyLimiter.limit(ctx, name, { ...rest, count: toCount(count) }),
});

/** `limit` with a key of any type, as an untyped caller (`npx convex run` JSON) may send it. */
export const hitAnyKey = mutationGeneric({
  args: { key: v.any() },
  handler: async (ctx, { key }) =>
    anyLimiter.limit(ctx, "sendMessage", { key: key as string }),
});

export const peek = queryGeneric({
  args: limitArgs,
  handler: async (ctx, { name, count, ...rest }) =>
    anyLimiter.check(ctx, name, { ...rest, count: toCount(count) }),
});

export const hitThenFail = mutationGeneric({
  args: { key: v.string() },
  handler: async (ctx, { key }) => {
    await rateLimiter.limit(ctx, "sendMessage", { key });
    throw new Error("the work failed after the limit was taken");
  },
});

export const value = queryGeneric({
  args: {
    name: v.string(),
    key: v.optional(v.string()),
    config: v.optional(v.any()),
  },
  handler: async (ctx, { name, ...rest }) =>
    anyLimiter.getValue(ctx, name, rest),
});

export const giveBack = mutationGeneric({
  args: { name: v.string(), key: v.optional(v.string()), count: vCount },
  handler: async (ctx, { name, key, count }) =>
    anyLimiter.refund(ctx, name, { key, count: toCount(count) }),
});

export const clear = mutationGeneric({
  args: { name: v.string(), key: v.optional(v.string()) },
  handler: async (ctx, { name, key }) => anyLimiter.reset(ctx, name, { key }),
});

export const stored = queryGeneric({
  args: {},
  handler: async (ctx) => rateLimiter.countStates(ctx),
});

export const sendBoth = mutationGeneric({
  args: { user: v.string(), throws: v.optional(v.boolean()) },
  handler: async (ctx, { user, throws }) =>
    rateLimiter.limitAll(
      ctx,
      [
        { name: "sendMessage", key: user },
        { name: "global", count: 1 },
      ],
      { throws },
    ),
});

export const makeLimiter = mutationGeneric({
  args: { config: v.any() },
  handler: async (_ctx, { config }) => {
    new RateLimiter(components.rateLimiter, { bad: config as RateLimitConfig });
    return null;
  },
});

/** Never run: typechecked by tsc so that typos in limit names are type errors. */
export async function _typeChecks(
  ctx: Parameters<typeof rateLimiter.limit>[0],
) {
  await rateLimiter.limit(ctx, "sendMessage", { key: "u" });
  // @ts-expect-error a misspelt limit name is a type error
  await rateLimiter.limit(ctx, "sendMesage", { key: "u" });
  // @ts-expect-error an unknown name needs an inline config
  await rateLimiter.check(ctx, "unknown");
  await rateLimiter.limit(ctx, "unnamed", {
    config: { kind: "token bucket", rate: 1, period: SECOND },
  });
  await rateLimiter.limitAll(ctx, [
    { name: "sendMessage", key: "u" },
    // @ts-expect-error typo inside an atomic multi-limit call
    { name: "globl" },
  ]);
  // @ts-expect-error a sliding window has no capacity
  const _bad: RateLimitConfig = {
    kind: "sliding window",
    rate: 1,
    period: 1,
    capacity: 2,
  };
  await rateLimiter.reset(ctx, "sendMessage", { key: "u" });
  // @ts-expect-error resetting a misspelt name would silently do nothing
  await rateLimiter.reset(ctx, "sendMesage", { key: "u" });
  rateLimiter.hookAPI("sendMessage");
  // @ts-expect-error hookAPI names are checked too
  rateLimiter.hookAPI("sendMesage");
}

const t0 = Date.UTC(2026, 0, 1);
// Keeps denial log lines out of the test output.
captureLogs();

fakeClock(t0);

const api = anyApi["limits.test"];
const test = () => opskitTest({ "./limits.test.ts": async () => self });

describe("rateLimiter: same API as @convex-dev/rate-limiter", () => {
  it("token bucket: bursts to capacity, then denies with the exact retryAfter", async () => {
    const t = test();
    for (let i = 0; i < 3; i++)
      expect(
        await t.mutation(api.hit, { name: "sendMessage", key: "u1" }),
      ).toMatchObject({ ok: true });
    const denied = await t.mutation(api.hit, {
      name: "sendMessage",
      key: "u1",
    });
    expect(denied).toMatchObject({
      ok: false,
      retryAfter: near(6 * SECOND),
      name: "sendMessage",
    });
    vi.setSystemTime(t0 + 6 * SECOND - 1);
    expect(
      await t.mutation(api.hit, { name: "sendMessage", key: "u1" }),
    ).toMatchObject({ ok: false, retryAfter: 1 });
    vi.setSystemTime(t0 + 6 * SECOND);
    expect(
      await t.mutation(api.hit, { name: "sendMessage", key: "u1" }),
    ).toMatchObject({ ok: true });
    // Another key has its own bucket.
    expect(
      await t.mutation(api.hit, { name: "sendMessage", key: "u2" }),
    ).toMatchObject({ ok: true });
  });

  it("throws: a ConvexError with kind, name, retryAfter and our code", async () => {
    const t = test();
    for (let i = 0; i < 3; i++)
      await t.mutation(api.hit, { name: "sendMessage", key: "u" });
    const err = await convexErrorOf(
      t.mutation(api.hit, { name: "sendMessage", key: "u", throws: true }),
    );
    expect(isRateLimitError(err)).toBe(true);
    expect(err.data).toMatchObject({
      kind: "RateLimited",
      code: "RATE_LIMITED",
      name: "sendMessage",
      retryAfter: near(6 * SECOND),
    });
    expect(String(err.data.message)).toContain("sendMessage");
    expect(isRateLimitError(new Error("x"))).toBe(false);
  });

  it("rollback: a limit taken in a mutation that then throws is not consumed", async () => {
    const t = test();
    for (let i = 0; i < 5; i++)
      await expect(t.mutation(api.hitThenFail, { key: "r" })).rejects.toThrow(
        "work failed",
      );
    expect(
      await t.query(api.value, { name: "sendMessage", key: "r" }),
    ).toMatchObject({ value: 3, states: [] });
    expect(await t.query(api.stored, {})).toBe(0);
  });

  it("check consumes nothing; reset starts fresh", async () => {
    const t = test();
    for (let i = 0; i < 5; i++)
      expect(
        await t.query(api.peek, { name: "sendMessage", key: "c" }),
      ).toMatchObject({ ok: true });
    for (let i = 0; i < 3; i++)
      await t.mutation(api.hit, { name: "sendMessage", key: "c" });
    expect(
      await t.query(api.peek, { name: "sendMessage", key: "c" }),
    ).toMatchObject({ ok: false, retryAfter: near(6000) });
    await t.mutation(api.clear, { name: "sendMessage", key: "c" });
    expect(
      await t.query(api.value, { name: "sendMessage", key: "c" }),
    ).toMatchObject({ value: 3 });
  });

  it("fixed window: the whole rate at once, refilled at the next window", async () => {
    const t = test();
    expect(
      await t.mutation(api.hit, { name: "signUp", count: 100 }),
    ).toMatchObject({ ok: true });
    const denied = await t.mutation(api.hit, { name: "signUp" });
    expect(denied.ok).toBe(false);
    expect(denied.retryAfter).toBeGreaterThan(0);
    expect(denied.retryAfter).toBeLessThanOrEqual(HOUR);
    vi.setSystemTime(t0 + denied.retryAfter);
    expect(
      await t.mutation(api.hit, { name: "signUp", count: 100 }),
    ).toMatchObject({ ok: true });
  });

  it("reservations: reserve ahead with a wait, bounded by maxReserved", async () => {
    const t = test();
    expect(
      await t.mutation(api.hit, { name: "llmTokens", count: 1000 }),
    ).toMatchObject({ ok: true });
    const reserved = await t.mutation(api.hit, {
      name: "llmTokens",
      count: 300,
      reserve: true,
    });
    expect(reserved).toMatchObject({ ok: true, retryAfter: 18 * SECOND });
    const tooMuch = await t.mutation(api.hit, {
      name: "llmTokens",
      count: 300,
      reserve: true,
    });
    // 200 more reservable now; 300 only once 100 tokens refilled (6 s).
    expect(tooMuch).toMatchObject({ ok: false, retryAfter: near(6 * SECOND) });
    expect(
      await t.mutation(api.hit, {
        name: "llmTokens",
        count: 200,
        reserve: true,
      }),
    ).toMatchObject({ ok: true });
  });

  it("inline config for unnamed limits", async () => {
    const t = test();
    const config = { kind: "fixed window", rate: 1, period: MINUTE, start: 0 };
    expect(await t.mutation(api.hit, { name: "adhoc", config })).toMatchObject({
      ok: true,
    });
    expect(await t.mutation(api.hit, { name: "adhoc", config })).toMatchObject({
      ok: false,
      retryAfter: MINUTE,
    });
  });
});

describe("rateLimiter: bad input is refused with INVALID_ARGUMENT and writes nothing", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      "count 0",
      { name: "sendMessage", count: 0 },
      /count must be a whole number/,
    ],
    [
      "negative count",
      { name: "sendMessage", count: -5 },
      /count must be a whole number/,
    ],
    [
      "NaN count",
      { name: "sendMessage", count: "NaN" },
      /count must be a whole number/,
    ],
    [
      "Infinity count",
      { name: "sendMessage", count: "Infinity" },
      /count must be a whole number/,
    ],
    [
      "fractional count",
      { name: "sendMessage", count: 1.5 },
      /count must be a whole number/,
    ],
    [
      "count above capacity",
      { name: "sendMessage", count: 4 },
      /exceeds the capacity \(3\)/,
    ],
    [
      "count above capacity + maxReserved",
      { name: "llmTokens", count: 1501, reserve: true },
      /capacity plus maxReserved/,
    ],
    [
      "a reservation of 1e308 tokens without maxReserved (hung the call)",
      {
        name: "x",
        count: 1e308,
        reserve: true,
        config: { kind: "token bucket", rate: 1, period: 10 },
      },
      /count must be a whole number from 1 to 9007199254740991/,
    ],
    ["unknown name without config", { name: "nope" }, /"nope" is not defined/],
    [
      "rate 0",
      { name: "x", config: { kind: "token bucket", rate: 0, period: 1 } },
      /rate must be a positive/,
    ],
    [
      "negative period",
      { name: "x", config: { kind: "gcra", rate: 1, period: -1 } },
      /period must be a positive/,
    ],
    [
      "sliding window with capacity",
      {
        name: "x",
        config: { kind: "sliding window", rate: 2, period: 9, capacity: 3 },
      },
      /has no capacity/,
    ],
    [
      "fractional shards",
      {
        name: "x",
        config: { kind: "token bucket", rate: 10, period: 9, shards: 1.5 },
      },
      /shards must be a whole number/,
    ],
    [
      "more shards than capacity",
      {
        name: "x",
        config: { kind: "token bucket", rate: 3, period: 9, shards: 4 },
      },
      /must not exceed the capacity/,
    ],
    [
      "start on a token bucket",
      {
        name: "x",
        config: { kind: "token bucket", rate: 3, period: 9, start: 5 },
      },
      /start only applies/,
    ],
    [
      "negative penalty",
      {
        name: "x",
        config: { kind: "token bucket", rate: 3, period: 9, penalty: -1 },
      },
      /penalty must be/,
    ],
    [
      "asynchronous updates on a sharded limit",
      {
        name: "x",
        config: {
          kind: "token bucket",
          rate: 3,
          period: 9,
          shards: 2,
          applyUpdates: "asynchronously",
        },
      },
      /cannot be sharded/,
    ],
    [
      "unknown kind",
      { name: "x", config: { kind: "leaky", rate: 3, period: 9 } },
      /kind must be one of/,
    ],
  ];
  for (const [label, args, message] of cases)
    it(label, async () => {
      const t = test();
      const err = await convexErrorOf(t.mutation(api.hit, args));
      expect(err.data.code).toBe("INVALID_ARGUMENT");
      expect(String(err.data.message)).toMatch(message);
      expect(await t.query(api.stored, {})).toBe(0);
    });

  it("a key that is not a string (untyped callers) is INVALID_ARGUMENT and writes nothing; unicode keys are their own keys", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer(),
          fc.boolean(),
          fc.constant(null),
          fc.array(fc.string(), { maxLength: 3 }),
          fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), {
            maxKeys: 2,
          }),
        ),
        async (key) => {
          const t = test();
          const err = await convexErrorOf(t.mutation(api.hitAnyKey, { key }));
          expect(err.data.code).toBe("INVALID_ARGUMENT");
          expect(await t.query(api.stored, {})).toBe(0);
        },
      ),
      { seed: 42, numRuns: 30 },
    );
    const t = test();
    // Astral characters count as two UTF-16 units: 128 of them are 256.
    const astral = "\u{1F600}".repeat(128);
    const keys = [astral, "é", "e\u0301", "\u0000", "k\u0000k"];
    for (const key of keys)
      for (let i = 0; i < 3; i++)
        expect(await t.mutation(api.hitAnyKey, { key })).toMatchObject({
          ok: true,
        });
    expect(await t.query(api.stored, {})).toBe(keys.length);
  });

  it("a malformed named limit fails at construction", async () => {
    const t = test();
    const err = await convexErrorOf(
      t.mutation(api.makeLimiter, {
        config: { kind: "token bucket", rate: NaN, period: 1 },
      }),
    );
    expect(err.data).toMatchObject({ code: "INVALID_ARGUMENT", name: "bad" });
  });

  it("a refund with a bad count is refused", async () => {
    const t = test();
    const err = await convexErrorOf(
      t.mutation(api.giveBack, { name: "sendMessage", count: -1 }),
    );
    expect(err.data.code).toBe("INVALID_ARGUMENT");
  });
});
