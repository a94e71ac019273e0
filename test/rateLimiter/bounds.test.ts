/**
 * Bounds on what reaches storage and logs: limit names and keys (often
 * client-influenced: IPs, hook key functions) are at most 256 characters and
 * names are non-empty; `countStates` takes a whole `upTo` from 1 to 10,000.
 * Both the client and the component refuse with INVALID_ARGUMENT before
 * anything is read or written.
 */
import fc from "fast-check";
import { anyApi, mutationGeneric, queryGeneric } from "convex/server";
import { ConvexError, v, type Value } from "convex/values";
import { describe, expect, it } from "vitest";
import {
  MINUTE,
  RateLimiter,
  type RateLimitConfig,
} from "convex-opskit/rateLimiter";
import {
  components,
  opskitTest,
  convexErrorOf,
  captureLogs,
  fakeClock,
} from "../helpers.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./bounds.test.js";

const perUser = {
  kind: "token bucket",
  rate: 3,
  period: MINUTE,
} satisfies RateLimitConfig;
const rateLimiter = new RateLimiter(components.rateLimiter, { perUser });
const anyLimiter = rateLimiter as unknown as RateLimiter<
  Record<string, RateLimitConfig>
>;
const lib = components.rateLimiter.lib;

const MAX = 256;
const longKey = "k".repeat(MAX + 1);
const longName = "n".repeat(MAX + 1);

const vOp = v.union(
  v.literal("limit"),
  v.literal("limitAll"),
  v.literal("check"),
  v.literal("checkAll"),
  v.literal("getValue"),
  v.literal("reset"),
  v.literal("refund"),
);

/** Every client method that takes a name and a key, through convex-test. */
export const viaClient = mutationGeneric({
  args: { op: vOp, name: v.string(), key: v.optional(v.string()) },
  handler: async (ctx, { op, name, key }) => {
    const config = name === "perUser" ? undefined : perUser;
    switch (op) {
      case "limit":
        return anyLimiter.limit(ctx, name, { key, config });
      case "limitAll":
        return anyLimiter.limitAll(ctx, [
          { name: "perUser", key: "fine" },
          { name, key, config: perUser },
        ]);
      case "check":
        return anyLimiter.check(ctx, name, { key, config });
      case "checkAll":
        return anyLimiter.checkAll(ctx, [{ name, key, config: perUser }]);
      case "getValue":
        return anyLimiter.getValue(ctx, name, { key, config });
      case "reset":
        return anyLimiter.reset(ctx, name, { key, config });
      case "refund":
        return anyLimiter.refund(ctx, name, { key, config });
    }
  },
});

/** The same calls straight to the component, bypassing the client's checks. */
export const viaComponent = mutationGeneric({
  args: { op: vOp, name: v.string(), key: v.optional(v.string()) },
  handler: async (ctx, { op, name, key }): Promise<unknown> => {
    const request = { name, key, config: perUser };
    switch (op) {
      case "limit":
        return ctx.runMutation(lib.limit, request);
      case "limitAll":
        return ctx.runMutation(lib.limitAll, {
          requests: [
            { name: "perUser", key: "fine", config: perUser },
            request,
          ],
        });
      case "check":
        return ctx.runQuery(lib.check, request);
      case "checkAll":
        return ctx.runQuery(lib.checkAll, { requests: [request] });
      case "getValue":
        return ctx.runQuery(lib.getValue, request);
      case "reset":
        return ctx.runMutation(lib.reset, { name, key });
      case "refund":
        return ctx.runMutation(lib.refund, request);
    }
  },
});

/** Hostile numbers travel as names and become numbers on the server. */
const vUpTo = v.optional(
  v.union(v.number(), v.literal("NaN"), v.literal("Infinity")),
);
const toNumber = (x: number | "NaN" | "Infinity" | undefined) =>
  x === "NaN" ? NaN : x === "Infinity" ? Infinity : x;

export const countViaComponent = queryGeneric({
  args: { upTo: vUpTo },
  handler: async (ctx, { upTo }) =>
    ctx.runQuery(lib.countStates, { upTo: toNumber(upTo) }),
});

export const countViaClient = queryGeneric({
  args: { upTo: vUpTo },
  handler: async (ctx, { upTo }) =>
    rateLimiter.countStates(ctx, toNumber(upTo)),
});

export const countViaClientLimit = queryGeneric({
  args: { upTo: vUpTo },
  handler: async (ctx, { upTo }) =>
    rateLimiter.countStates(ctx, { limit: toNumber(upTo) }),
});

export const stored = queryGeneric({
  args: {},
  handler: async (ctx) => rateLimiter.countStates(ctx),
});

export const hit = mutationGeneric({
  args: { key: v.string() },
  handler: async (ctx, { key }) => rateLimiter.limit(ctx, "perUser", { key }),
});

/** A key function that passes on whatever the client sent. */
export const { getRateLimit: echoKeyLimit } = rateLimiter.hookAPI("perUser", {
  key: (_ctx, fromClient) => fromClient ?? "anonymous",
});

const api = anyApi["bounds.test"];
const test = () => opskitTest({ "./bounds.test.ts": async () => self });

fakeClock(Date.UTC(2026, 0, 1));
const logs = captureLogs();

/** A ctx that records every component call the client makes. */
function recordingCtx() {
  const calls: unknown[] = [];
  const record = async (...args: unknown[]) => {
    calls.push(args);
    throw new Error("the client called the component");
  };
  return {
    calls,
    ctx: { runQuery: record, runMutation: record } as never,
  };
}

const OPS = [
  "limit",
  "limitAll",
  "check",
  "checkAll",
  "getValue",
  "reset",
  "refund",
] as const;

describe("keys and names are at most 256 characters", () => {
  /** Seeds one state, so "writes nothing" also means "leaves it alone". */
  async function seeded() {
    const t = test();
    await t.mutation(api.hit, { key: "existing" });
    const before = await t.query(api.stored, {});
    expect(before).toBe(1);
    return t;
  }

  for (const via of ["viaClient", "viaComponent"] as const)
    describe(via, () => {
      it.each(OPS)("%s: a 257-character key is refused", async (op) => {
        const t = await seeded();
        const err = await convexErrorOf(
          t.mutation(api[via], { op, name: "perUser", key: longKey }),
        );
        expect(err.data).toMatchObject({
          code: "INVALID_ARGUMENT",
          name: "perUser",
          keyLength: MAX + 1,
          key: longKey.slice(0, 64),
        });
        expect(String(err.data.message)).toBe(
          'Rate limit "perUser": key must be a string of at most 256 characters (got 257 characters)',
        );
        expect(await t.query(api.stored, {})).toBe(1);
        expect(JSON.stringify(logs)).not.toContain(longKey);
      });

      it.each(OPS)("%s: a 257-character name is refused", async (op) => {
        const t = await seeded();
        const err = await convexErrorOf(
          t.mutation(api[via], { op, name: longName, key: "k" }),
        );
        expect(err.data).toMatchObject({
          code: "INVALID_ARGUMENT",
          nameLength: MAX + 1,
          name: longName.slice(0, 64),
        });
        expect(String(err.data.message)).toMatch(
          /^Rate limit name must be a non-empty string of at most 256 characters \(got 257 characters\)$/,
        );
        expect(await t.query(api.stored, {})).toBe(1);
        expect(JSON.stringify(logs)).not.toContain(longName);
      });

      it.each(OPS)("%s: an empty name is refused", async (op) => {
        const t = await seeded();
        const err = await convexErrorOf(
          t.mutation(api[via], { op, name: "", key: "k" }),
        );
        expect(err.data).toMatchObject({
          code: "INVALID_ARGUMENT",
          nameLength: 0,
        });
        expect(await t.query(api.stored, {})).toBe(1);
      });

      it("256 characters are accepted for both", async () => {
        const t = test();
        const name = "n".repeat(MAX);
        const key = "k".repeat(MAX);
        expect(
          await t.mutation(api[via], { op: "limit", name, key }),
        ).toMatchObject({ ok: true });
        expect(await t.query(api.stored, {})).toBe(1);
      });
    });

  it.each(OPS)(
    "the client refuses a long key (%s) without calling the component",
    async (op) => {
      const { ctx, calls } = recordingCtx();
      const key = longKey;
      const calling = {
        limit: () => anyLimiter.limit(ctx, "perUser", { key }),
        limitAll: () =>
          anyLimiter.limitAll(ctx, [
            { name: "perUser" },
            { name: "perUser", key },
          ]),
        check: () => anyLimiter.check(ctx, "perUser", { key }),
        checkAll: () => anyLimiter.checkAll(ctx, [{ name: "perUser", key }]),
        getValue: () => anyLimiter.getValue(ctx, "perUser", { key }),
        reset: () => anyLimiter.reset(ctx, "perUser", { key }),
        refund: () => anyLimiter.refund(ctx, "perUser", { key }),
      }[op];
      const err = await convexErrorOf(calling());
      expect(err.data).toMatchObject({
        code: "INVALID_ARGUMENT",
        keyLength: MAX + 1,
      });
      expect(calls).toEqual([]);
    },
  );

  it("the client refuses a long or empty inline name without calling the component", async () => {
    const { ctx, calls } = recordingCtx();
    for (const name of [longName, ""]) {
      const err = await convexErrorOf(
        anyLimiter.limit(ctx, name, { config: perUser }),
      );
      expect(err.data).toMatchObject({
        code: "INVALID_ARGUMENT",
        nameLength: name.length,
      });
    }
    expect(calls).toEqual([]);
  });

  it("a limit named with more than 256 characters (or none) fails at construction", () => {
    for (const name of [longName, ""]) {
      let error: unknown;
      try {
        new RateLimiter(components.rateLimiter, { [name]: perUser });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConvexError);
      expect((error as ConvexError<Record<string, Value>>).data).toMatchObject({
        code: "INVALID_ARGUMENT",
        nameLength: name.length,
      });
    }
  });

  it("a hook key function cannot store a key longer than 256 characters", async () => {
    const t = test();
    const err = await convexErrorOf(
      t.query(api.echoKeyLimit, { key: longKey }),
    );
    expect(err.data).toMatchObject({
      code: "INVALID_ARGUMENT",
      keyLength: MAX + 1,
    });
    expect(
      await t.query(api.echoKeyLimit, { key: "k".repeat(MAX) }),
    ).toMatchObject({ value: 3 });
  });
});

describe("countStates: upTo is a whole number from 1 to 10,000", () => {
  const bad: Array<[string, number | "NaN" | "Infinity"]> = [
    ["NaN", "NaN"],
    ["Infinity", "Infinity"],
    ["zero", 0],
    ["negative", -5],
    ["fractional", 2.5],
    ["above 10,000", 10_001],
    ["huge", 1e300],
  ];
  for (const via of ["countViaComponent", "countViaClient"] as const)
    it.each(bad)(`${via}: %s is refused`, async (_label, upTo) => {
      const t = test();
      const err = await convexErrorOf(t.query(api[via], { upTo }));
      expect(err.data.code).toBe("INVALID_ARGUMENT");
      expect(String(err.data.message)).toMatch(
        /^countStates: upTo must be a whole number from 1 to 10000 \(got /,
      );
    });

  it.each(bad)(
    "countViaClientLimit: %s is refused, naming `limit`",
    async (_label, limit) => {
      const t = test();
      const err = await convexErrorOf(
        t.query(api.countViaClientLimit, { upTo: limit }),
      );
      expect(err.data.code).toBe("INVALID_ARGUMENT");
      expect(String(err.data.message)).toMatch(
        /^countStates: limit must be a whole number from 1 to 10000 \(got /,
      );
    },
  );

  it("the client refuses a bad upTo without calling the component", async () => {
    const { ctx, calls } = recordingCtx();
    const err = await convexErrorOf(rateLimiter.countStates(ctx, NaN));
    expect(err.data.code).toBe("INVALID_ARGUMENT");
    expect(calls).toEqual([]);
  });

  it("the object form refuses an option other than `limit` (e.g. `{ upTo }`), without calling the component", async () => {
    // A JavaScript caller moving from `countStates(ctx, 5)` may write
    // `{ upTo: 5 }`: silently counting up to the default 1000 would hide it.
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom("upTo", "Limit", "limits", "max"),
          fc.string({ minLength: 1, maxLength: 8 }),
        ),
        fc.option(fc.integer({ min: 1, max: 10 }), { nil: undefined }),
        async (option, limit) => {
          fc.pre(option !== "limit" && option !== "__proto__");
          const { ctx, calls } = recordingCtx();
          const bound = {
            [option]: 5,
            ...(limit !== undefined ? { limit } : {}),
          };
          const err = await convexErrorOf(
            rateLimiter.countStates(ctx, bound as never),
          );
          expect(err.data).toMatchObject({
            code: "INVALID_ARGUMENT",
            message: `countStates: unknown option ${JSON.stringify(option)}; the bound is \`limit\` (a whole number from 1 to 10000)`,
            option,
          });
          expect(calls).toEqual([]);
        },
      ),
      { seed: 1313, numRuns: 60 },
    );
  });

  it("counts up to upTo; 1, 10,000 and the default are accepted", async () => {
    const t = test();
    for (const key of ["a", "b", "c"]) await t.mutation(api.hit, { key });
    expect(await t.query(api.countViaComponent, { upTo: 1 })).toBe(1);
    expect(await t.query(api.countViaComponent, { upTo: 2 })).toBe(2);
    expect(await t.query(api.countViaComponent, { upTo: 10_000 })).toBe(3);
    expect(await t.query(api.countViaComponent, {})).toBe(3);
    expect(await t.query(api.countViaClient, { upTo: 2 })).toBe(2);
    // The object form `{ limit }` is the same bound (positional `upTo` is deprecated).
    expect(await t.query(api.countViaClientLimit, { upTo: 2 })).toBe(2);
    expect(await t.query(api.countViaClientLimit, {})).toBe(3);
    const sent: unknown[] = [];
    const ctx = {
      runQuery: async (_ref: unknown, args: unknown) => {
        sent.push(args);
        return 0;
      },
    } as never;
    await rateLimiter.countStates(ctx, { limit: 7 });
    await rateLimiter.countStates(ctx, 7);
    await rateLimiter.countStates(ctx, {});
    expect(sent).toEqual([{ upTo: 7 }, { upTo: 7 }, { upTo: undefined }]);
  });
});
