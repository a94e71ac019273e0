/**
 * `applyUpdates: "asynchronously"`, the contention failure policy and
 * `requestKey`.
 *
 * The "anchor's async examples" block is ported from `@convex-dev/rate-limiter`
 * 0.4.0, `src/client/index.test.ts`, describe("asynchronous") (Apache-2.0,
 * Copyright Convex, Inc.), with its imports pointed at convex-opskit. Changes:
 * the two `@ts-expect-error` lines (async + shards) are runtime
 * `INVALID_ARGUMENT` checks here. (rl-hardening's port of the same block, in
 * `anchor/client.test.ts`, runs unchanged too.)
 */
import { ConvexError, v } from "convex/values";
import {
  anyApi,
  actionGeneric,
  httpRouter,
  mutationGeneric,
  queryGeneric,
} from "convex/server";
import { afterEach, beforeEach, describe, expect, it, test, vi } from "vitest";
import {
  HOUR,
  MINUTE,
  RateLimiter,
  isContentionError,
  isRateLimitError,
  requestKey,
  suggestShards,
  type RateLimitConfig,
} from "convex-opskit/rateLimiter";
import { DRAIN_BATCH } from "../internal.js";
import {
  captureLogs,
  components,
  fakeClock,
  opskitTest,
  near,
} from "../helpers.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./async.test.js";
import { search, shards } from "./hotKeysDocs.js";

const rateLimiter = new RateLimiter(components.rateLimiter, {
  strict: { kind: "token bucket", rate: 10, period: HOUR, capacity: 3 },
  async: {
    kind: "token bucket",
    rate: 10,
    period: HOUR,
    capacity: 3,
    applyUpdates: "asynchronously",
  },
  window: {
    kind: "fixed window",
    rate: 5,
    period: MINUTE,
    start: 0,
    applyUpdates: "asynchronously",
  },
});

const LIMITS = ["strict", "async", "window"] as const;
type LimitName = (typeof LIMITS)[number];
const vLimit = v.union(...LIMITS.map((name) => v.literal(name)));

export const consume = mutationGeneric({
  args: {
    limit: vLimit,
    key: v.optional(v.string()),
    count: v.optional(v.number()),
    throws: v.optional(v.boolean()),
    reserve: v.optional(v.boolean()),
  },
  handler: async (ctx, { limit, key, count, throws, reserve }) =>
    rateLimiter.limit(ctx, limit as LimitName, { key, count, throws, reserve }),
});

export const check = queryGeneric({
  args: { limit: vLimit, key: v.optional(v.string()) },
  handler: async (ctx, { limit, key }) =>
    rateLimiter.check(ctx, limit as LimitName, { key }),
});

export const value = queryGeneric({
  args: { limit: vLimit, key: v.optional(v.string()) },
  handler: async (ctx, { limit, key }) =>
    rateLimiter.getValue(ctx, limit as LimitName, { key }),
});

export const reset = mutationGeneric({
  args: { limit: vLimit, key: v.optional(v.string()) },
  handler: async (ctx, { limit, key }) =>
    rateLimiter.reset(ctx, limit as LimitName, { key }),
});

const inlineConfig = {
  kind: "token bucket",
  rate: 100,
  period: HOUR,
  applyUpdates: "asynchronously",
} as const;

export const inlineAsync = mutationGeneric({
  args: { count: v.optional(v.number()) },
  handler: async (ctx, { count }) =>
    rateLimiter.limit(ctx, "inline", { count, config: inlineConfig }),
});

export const resetInlineAsync = mutationGeneric({
  args: {},
  handler: async (ctx) =>
    rateLimiter.reset(ctx, "inline", { config: inlineConfig }),
});

export const badInline = mutationGeneric({
  args: {},
  handler: async (ctx) =>
    rateLimiter.limit(ctx, "badInline", {
      config: {
        kind: "token bucket",
        rate: 1,
        period: HOUR,
        applyUpdates: "asynchronously",
        shards: 2,
      },
    }),
});

export const { getRateLimit } = rateLimiter.hookAPI("async", { key: "u" });

const failing = new Error(
  'Documents read from or written to the table "limitStates" changed while this mutation was being run and on every subsequent retry. See https://docs.convex.dev/error#1',
);

/** An action whose `runMutation` fails on contention, as production reports it. */
export const contended = actionGeneric({
  args: {
    policy: v.optional(
      v.union(v.literal("deny"), v.literal("allow"), v.literal("throw")),
    ),
    throws: v.optional(v.boolean()),
  },
  handler: async (ctx, { policy, throws }) => {
    const noisy = {
      ...ctx,
      runQuery: ctx.runQuery,
      runMutation: async () => {
        throw failing;
      },
    };
    const limiter = new RateLimiter(
      components.rateLimiter,
      {
        api: {
          kind: "token bucket",
          rate: 3000,
          period: MINUTE,
          shards: 16,
        } satisfies RateLimitConfig,
      },
      policy ? { onContention: policy } : {},
    );
    try {
      return await limiter.limit(noisy, "api", { key: "anon", throws });
    } catch (e) {
      return {
        thrown: e instanceof ConvexError ? e.data : String(e),
      };
    }
  },
});

// docs/rateLimiter.md, "Contention policy and keys from the request"
const http = httpRouter();
http.route({ path: "/search", method: "GET", handler: search });

const api = anyApi["async.test"];
const initConvexTest = () =>
  opskitTest({
    "./async.test.ts": async () => self,
    "./http.ts": async () => ({ default: http }),
  });
type TestConvex = ReturnType<typeof initConvexTest>;

async function drain(t: TestConvex) {
  await t.finishAllScheduledFunctions(vi.runAllTimers);
}

async function valueOf(t: TestConvex, limit: LimitName, key?: string) {
  return (await t.query(api.value, { limit, key })).value;
}

describe("anchor's async examples (ported from @convex-dev/rate-limiter 0.4.0)", () => {
  // Upstream's own fake-timer hooks, not fakeClock: the port stays close to the anchor.
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  test("limit and reset queue their writes instead of applying them", async () => {
    const t = initConvexTest();
    for (let i = 0; i < 3; i++) {
      expect(await t.mutation(api.consume, { limit: "async" })).toMatchObject({
        ok: true,
      });
    }
    // All three succeeded, but nothing has been written yet.
    expect(await valueOf(t, "async")).toBe(3);

    await drain(t);
    expect(await valueOf(t, "async")).toEqual(near(0, (2 * 10) / HOUR)); // the scheduled apply and this read each run on a function clock up to 1 ms ahead: up to 2 ms of refill
    const blocked = await t.query(api.check, { limit: "async" });
    expect(blocked.ok).toBe(false);
    expect(blocked.retryAfter).toBeGreaterThan(0);

    // `reset` on a named asynchronous limit is queued the same way.
    await t.mutation(api.reset, { limit: "async" });
    await drain(t);
    expect((await t.query(api.check, { limit: "async" })).ok).toBe(true);
  });

  test("rejected asynchronous calls consume nothing", async () => {
    const t = initConvexTest();
    // Every call reads a stale value of 3, so all four are allowed through and
    // the limit overshoots into the negative once the worker catches up.
    for (let i = 0; i < 4; i++) {
      await t.mutation(api.consume, { limit: "async" });
    }
    await drain(t);
    const before = await valueOf(t, "async");
    expect(before).toBeLessThan(0);

    expect((await t.mutation(api.consume, { limit: "async" })).ok).toBe(false);
    await drain(t);
    expect(await valueOf(t, "async")).toBe(before);
  });

  test("reserve lets an asynchronous limit go into debt", async () => {
    const t = initConvexTest();
    // 5 against a capacity of 3: only allowed because `reserve` is set.
    const reserved = await t.mutation(api.consume, {
      limit: "async",
      count: 5,
      reserve: true,
    });
    expect(reserved.ok).toBe(true);
    expect(reserved.retryAfter).toBeGreaterThan(0);

    await drain(t);
    expect(await valueOf(t, "async")).toEqual(near(-2, (2 * 10) / HOUR));
  });

  test("throws a RateLimitError when `throws` is true", async () => {
    const t = initConvexTest();
    for (let i = 0; i < 3; i++) {
      await t.mutation(api.consume, { limit: "async", throws: true });
    }
    await drain(t);
    const error = await t
      .mutation(api.consume, { limit: "async", throws: true })
      .catch((e) => e);
    expect(isRateLimitError(error)).toBe(true);
  });

  test("limit and reset honor `applyUpdates` from an inline config", async () => {
    const t = initConvexTest();
    expect((await t.mutation(api.inlineAsync, { count: 60 })).ok).toBe(true);
    await drain(t);
    expect((await t.mutation(api.inlineAsync, { count: 60 })).ok).toBe(false);
    await t.mutation(api.resetInlineAsync, {});
    await drain(t);
    expect((await t.mutation(api.inlineAsync, { count: 60 })).ok).toBe(true);
  });

  test("hookAPI resolves its configured key against an asynchronous limit", async () => {
    const t = initConvexTest();
    expect((await t.query(api.getRateLimit, {})).value).toBe(3);
    for (let i = 0; i < 2; i++) {
      await t.mutation(api.consume, { limit: "async", key: "u" });
    }
    await drain(t);
    const data = await t.query(api.getRateLimit, {});
    expect(data.value).toEqual(near(1, (2 * 10) / HOUR));
    expect(data.shard).toBe(0);
    expect(data.config.shards).toBe(1);
  });

  test("an asynchronous limit can't be sharded (the anchor's @ts-expect-error cases)", async () => {
    expect(
      () =>
        new RateLimiter(components.rateLimiter, {
          bad: {
            kind: "token bucket",
            rate: 10,
            period: HOUR,
            applyUpdates: "asynchronously",
            shards: 4,
          },
        }),
    ).toThrow(/cannot be sharded/);
    const t = initConvexTest();
    await expect(t.mutation(api.badInline, {})).rejects.toThrow(
      /cannot be sharded/,
    );
  });

  test("transactional limits still consume at once", async () => {
    const t = initConvexTest();
    for (let i = 0; i < 3; i++)
      expect((await t.mutation(api.consume, { limit: "strict" })).ok).toBe(
        true,
      );
    expect(await valueOf(t, "strict")).toEqual(near(0, 10 / HOUR));
    expect((await t.mutation(api.consume, { limit: "strict" })).ok).toBe(false);
  });
});

describe("asynchronous limits: queue order, bounded drains, no conflicts", () => {
  fakeClock(Date.UTC(2026, 0, 1));

  it("a fixed window: queued calls are applied; after going idle the next call wakes a new drain", async () => {
    const t = initConvexTest();
    for (let i = 0; i < 5; i++)
      expect((await t.mutation(api.consume, { limit: "window" })).ok).toBe(
        true,
      );
    await drain(t);
    expect((await t.query(api.check, { limit: "window" })).ok).toBe(false);
    // The chain went idle; the next window's first call wakes a new one.
    vi.setSystemTime(Date.UTC(2026, 0, 1) + MINUTE);
    expect((await t.mutation(api.consume, { limit: "window" })).ok).toBe(true);
    expect(await valueOf(t, "window")).toBe(5);
    await drain(t);
    expect(await valueOf(t, "window")).toBe(4);
  });

  it("more than one batch of queued calls is applied in full", async () => {
    const t = initConvexTest();
    const n = DRAIN_BATCH + 10;
    for (let i = 0; i < n; i++) await t.mutation(api.inlineAsync, { count: 1 });
    await drain(t);
    // 100 capacity, n > 100 admitted from a stale (undrained) view: debt.
    const v = await t.query(api.value, { limit: "async" });
    expect(v.value).toBe(3); // a different limit is untouched
    const status = await t.mutation(api.inlineAsync, { count: 1 });
    expect(status.ok).toBe(false);
    expect(status.retryAfter).toBeGreaterThanOrEqual(
      ((n - 100) * HOUR) / 100 - 1000,
    );
  });

  it("the component refuses to apply an asynchronous limit transactionally", async () => {
    const t = initConvexTest();
    const mutate = t.mutation as unknown as (
      ref: unknown,
      args: unknown,
    ) => Promise<unknown>;
    await expect(
      mutate(components.rateLimiter.lib.limit, {
        name: "x",
        config: inlineConfig,
      }),
    ).rejects.toThrow(/must be queued/);
  });
});

describe("contention policy (from actions)", () => {
  const logs = captureLogs();

  it("deny (default): a typed result, logged as rateLimiter.contention", async () => {
    const t = initConvexTest();
    const r = await t.action(api.contended, {});
    expect(r).toMatchObject({
      ok: false,
      reason: "contention",
      retryAfter: 1000,
      name: "api",
      denied: [{ name: "api", key: "anon", retryAfter: 1000 }],
    });
    const line = logs.find((l) => l.event === "rateLimiter.contention");
    expect(line).toMatchObject({
      name: "api",
      key: "anon",
      policy: "deny",
      shards: 16,
      functionName: "async.test:contended",
    });
    expect(String(line?.message)).toMatch(/suggestShards/);
  });

  it("allow: fail open", async () => {
    const t = initConvexTest();
    expect(await t.action(api.contended, { policy: "allow" })).toEqual({
      ok: true,
      reason: "contention",
    });
  });

  it("throw: the original error; deny + throws: a RATE_LIMITED error naming suggestShards", async () => {
    const t = initConvexTest();
    expect(await t.action(api.contended, { policy: "throw" })).toEqual({
      thrown: expect.stringMatching(/changed while this mutation/),
    });
    expect(await t.action(api.contended, { throws: true })).toMatchObject({
      thrown: {
        code: "RATE_LIMITED",
        reason: "contention",
        message: expect.stringMatching(/suggestShards says 59/),
      },
    });
  });

  it("isContentionError recognises Convex's OCC failure only", () => {
    expect(isContentionError(failing)).toBe(true);
    expect(isContentionError(new Error("boom"))).toBe(false);
  });
});

describe("suggestShards", () => {
  it("the incident: 3,000/min at ~108 calls/s needs 59 shards; quiet keys need 1", () => {
    expect(shards).toBe(59); // the docs' example
    expect(
      suggestShards({ rate: 3000, period: MINUTE, callsPerSecond: 108 }),
    ).toBe(59);
    expect(
      suggestShards({ rate: 3000, period: MINUTE, callsPerSecond: 1 }),
    ).toBe(1);
    // Writes are bounded by the refill rate: more calls need no more shards.
    expect(
      suggestShards({ rate: 3000, period: MINUTE, callsPerSecond: 10_000 }),
    ).toBe(59);
    // Never more than the capacity.
    expect(
      suggestShards({
        rate: 10,
        period: 1000,
        callsPerSecond: 500,
        capacity: 8,
      }),
    ).toBe(8);
  });

  it("refuses bad numbers with INVALID_ARGUMENT", () => {
    for (const bad of [0, -1, NaN, Infinity])
      expect(() =>
        suggestShards({ rate: bad, period: MINUTE, callsPerSecond: 1 }),
      ).toThrow(/rate must be a positive finite number/);
  });
});

describe("requestKey", () => {
  it("docs example: behind one NAT, anonymous callers share a limit, signed-in users do not", async () => {
    const t = initConvexTest();
    const nat = t.withRequestMetadata({ ip: "198.51.100.9" });
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await nat.fetch("/search")).status);
    expect(statuses).toEqual([200, 200, 429]);
    for (const subject of ["alice", "bob"]) {
      const user = nat.withIdentity({ subject });
      expect((await user.fetch("/search")).status).toBe(200);
      expect((await user.fetch("/search")).status).toBe(200);
    }
  });

  const anon = { auth: { getUserIdentity: async () => null } };
  const user = {
    auth: {
      getUserIdentity: async () => ({
        tokenIdentifier: "https://issuer|u1",
        subject: "u1",
        issuer: "https://issuer",
      }),
    },
  };

  it("a signed-in user is keyed by tokenIdentifier, whatever their IP", async () => {
    const meta = { getRequestMetadata: async () => ({ ip: "10.0.0.1" }) };
    expect(await requestKey({ ...user, meta })).toBe("user:https://issuer|u1");
    expect(await requestKey({ ...user, meta }, { userField: "subject" })).toBe(
      "user:u1",
    );
  });

  it("anonymous callers are keyed by the deployment's client IP; headers are ignored then", async () => {
    const meta = { getRequestMetadata: async () => ({ ip: "203.0.113.7" }) };
    const request = new Request("https://x", {
      headers: { "x-forwarded-for": "1.2.3.4" },
    });
    expect(
      await requestKey(
        { ...anon, meta },
        { request, trustedHeader: "x-forwarded-for" },
      ),
    ).toBe("ip:203.0.113.7");
  });

  it("without request metadata: a trusted header, else a coded error naming the Convex version", async () => {
    const request = new Request("https://x", {
      headers: { "x-forwarded-for": "1.2.3.4, 10.0.0.1" },
    });
    // The address the (one) trusted proxy appended, not the client's claim.
    expect(
      await requestKey(anon, { request, trustedHeader: "x-forwarded-for" }),
    ).toBe("ip:10.0.0.1");
    // Untrusted by default: a forgeable header is not read unless named.
    await expect(requestKey(anon, { request })).rejects.toMatchObject({
      data: {
        code: "INVALID_ARGUMENT",
        message: expect.stringMatching(/Convex 1\.38/),
      },
    });
    expect(await requestKey(anon, { fallback: "internal" })).toBe("internal");
  });

  it("keys stay within 256 characters", async () => {
    const long = {
      auth: {
        getUserIdentity: async () => ({
          tokenIdentifier: "t".repeat(400),
          subject: "s",
          issuer: "i",
        }),
      },
    };
    const key = await requestKey(long);
    expect(key.length).toBeLessThanOrEqual(256);
    expect(key).not.toBe(
      await requestKey({
        auth: {
          getUserIdentity: async () => ({
            tokenIdentifier: "t".repeat(399) + "u",
            subject: "s",
            issuer: "i",
          }),
        },
      }),
    );
  });
});
