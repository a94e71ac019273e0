/**
 * Adapted from `@convex-dev/rate-limiter` 0.4.0, `src/component/lib.test.ts`
 * (https://github.com/get-convex/rate-limiter, Apache-2.0, Copyright Convex,
 * Inc.). The anchor calls its component's functions directly
 * (`api.lib.rateLimit`, `checkRateLimit`, `resetRateLimit`) and reads its
 * `rateLimits` table, neither of which is its public API; here every call goes
 * through the public client with an inline config instead (`limit`, `check`,
 * `reset`), and stored values are read with `getValue` (`value`, and
 * `windowStart` for the fixed window's stored `ts`). The scenarios and the
 * expected numbers are the anchor's. Changes, each marked `opskit:`:
 * - the two "consume too much" tests expect convex-opskit's INVALID_ARGUMENT
 *   message instead of the anchor's text.
 * Found by this port and fixed: a reservation of more than the capacity
 * ("retryAfter for reserved is accurate", "reserved without max") was
 * admitted with `retryAfter: Infinity`; it now waits until what it took is
 * repaid, as in the anchor.
 * Dropped: "asynchronous configs" (the component's async queueing
 * functions; async mode is being added by helper rl-hotkeys), and the
 * anchor's getValue.test.ts, internal.test.ts, worker.test.ts (internal
 * functions and tables).
 * Its fake-timer hooks stay upstream's, not fakeClock (test/helpers.ts): the port stays close.
 */
import { anyApi, mutationGeneric, queryGeneric } from "convex/server";
import { v } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { RateLimiter, type RateLimitConfig } from "convex-opskit/rateLimiter";
import { components, opskitTest, near } from "../../helpers.js";
import * as self from "./lib.test.js";

const limiter = new RateLimiter(components.rateLimiter);
const args = {
  name: v.string(),
  key: v.optional(v.string()),
  count: v.optional(v.number()),
  reserve: v.optional(v.boolean()),
  config: v.any(),
};

export const rateLimit = mutationGeneric({
  args,
  handler: async (ctx, { name, config, ...rest }) =>
    limiter.limit(ctx, name, { ...rest, config: config as RateLimitConfig }),
});
export const checkRateLimit = queryGeneric({
  args,
  handler: async (ctx, { name, config, ...rest }) =>
    limiter.check(ctx, name, { ...rest, config: config as RateLimitConfig }),
});
export const resetRateLimit = mutationGeneric({
  args: { name: v.string(), key: v.optional(v.string()), config: v.any() },
  handler: async (ctx, { name, key, config }) =>
    limiter.reset(ctx, name, { key, config: config as RateLimitConfig }),
});
/** What the anchor reads from its table: the value and (fixed window) window start. */
export const stored = queryGeneric({
  args: { name: v.string(), config: v.any() },
  handler: async (ctx, { name, config }) => {
    const value = await limiter.getValue(ctx, name, {
      config: config as RateLimitConfig,
    });
    return { value: value.value, ts: value.windowStart ?? value.ts };
  },
});

const api = anyApi["lib.test"];
const convexTest = () => opskitTest({ "./lib.test.ts": async () => self });

const Second = 1_000;
const Minute = 60 * Second;
const Hour = 60 * Minute;

describe.each(["token bucket", "fixed window"] as const)(
  "rateLimit %s",
  (kind) => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    test("simple check", async () => {
      const t = convexTest();
      const name = "simple";
      const config = { kind, rate: 1, period: Second };
      const before = await t.query(api.checkRateLimit, { name, config });
      expect(before.ok).toBe(true);
      expect(before.retryAfter).toBe(undefined);
      const actual = await t.mutation(api.rateLimit, { name, config });
      expect(actual.ok).toBe(true);
      expect(actual.retryAfter).toBe(undefined);
      const after = await t.query(api.checkRateLimit, { name, config });
      expect(after.ok).toBe(false);
      expect(after.retryAfter).toBeGreaterThan(0);
    });

    test("simple consume", async () => {
      const t = convexTest();
      const name = "simple";
      const config = { kind, rate: 1, period: Second };
      const global = await t.mutation(api.rateLimit, { name, config });
      expect(global.ok).toBe(true);
      expect(global.retryAfter).toBe(undefined);
      const after = await t.mutation(api.rateLimit, { name, config });
      expect(after.ok).toBe(false);
      expect(after.retryAfter).toBeGreaterThan(0);
    });

    test("consume too much", async () => {
      const t = convexTest();
      await expect(
        t.mutation(api.rateLimit, {
          name: "simple",
          count: 2,
          config: { kind: "fixed window", rate: 1, period: Second },
        }),
        // opskit: our INVALID_ARGUMENT message.
      ).rejects.toThrow("count 2 can never be admitted");
    });

    test("keyed", async () => {
      const t = convexTest();
      const name = "simple";
      const config = { kind, rate: 1, period: Second };
      const keyed = await t.mutation(api.rateLimit, {
        name,
        config,
        key: "key",
      });
      expect(keyed.ok).toBe(true);
      expect(keyed.retryAfter).toBe(undefined);
      const keyed2 = await t.mutation(api.rateLimit, {
        name,
        config,
        key: "key2",
      });
      expect(keyed2.ok).toBe(true);
      expect(keyed2.retryAfter).toBe(undefined);
    });

    test("burst", async () => {
      const t = convexTest();
      const name = "burst";
      const config = { kind, rate: 1, period: Second, capacity: 3 };
      const before = await t.query(api.checkRateLimit, {
        name,
        config,
        count: 3,
      });
      expect(before.ok).toBe(true);
      expect(before.retryAfter).toBe(undefined);
      const keyed = await t.mutation(api.rateLimit, {
        name,
        config,
        key: "foo",
        count: 3,
      });
      expect(keyed.ok).toBe(true);
      expect(keyed.retryAfter).toBe(undefined);
      const no = await t.mutation(api.rateLimit, { name, config, key: "foo" });
      expect(no.ok).toBe(false);
    });

    test("retryAfter is accurate", async () => {
      const t = convexTest();
      const name = "simple";
      const config = { kind, rate: 10, period: Minute };
      const result = await t.mutation(api.rateLimit, {
        name,
        count: 5,
        config,
      });
      expect(result.ok).toBe(true);
      expect(result.retryAfter).toBe(undefined);
      const one = await t.query(api.stored, { name, config });
      if (kind === "token bucket") {
        vi.setSystemTime(one.ts + 6 * Second);
      } else {
        vi.setSystemTime(one.ts + 1 * Minute);
      }
      const result2 = await t.mutation(api.rateLimit, {
        name,
        count: 6,
        config,
      });
      expect(result2.ok).toBe(true);
      expect(result2.retryAfter).toBe(undefined);
      const two = await t.query(api.stored, { name, config });
      if (kind === "token bucket") {
        expect(two.value).toBe(0);
      } else {
        expect(two.value).toBe(4);
      }
      const result3 = await t.mutation(api.rateLimit, {
        name,
        count: 10,
        config,
      });
      expect(result3.ok).toBe(false);
      // the token bucket needs to wait a minute from now
      // the fixed window needs to wait a minute from the last window
      // which is stored as ts.
      expect(result3.retryAfter).toBe(Minute);
      const three = await t.query(api.stored, { name, config });
      // Read up to 1 ms later on the function clock: at most 1 ms of refill.
      expect(three.value).toEqual(near(two.value, 10 / Minute));
      expect(three.ts).toEqual(near(two.ts));
    });

    test("retryAfter for reserved is accurate", async () => {
      const t = convexTest();
      const name = "simple";
      const config = { kind, rate: 10, period: Minute };
      const result = await t.mutation(api.rateLimit, {
        name,
        count: 5,
        config,
      });
      expect(result.ok).toBe(true);
      expect(result.retryAfter).toBe(undefined);
      const one = await t.query(api.stored, { name, config });
      expect(one.value).toBe(5);
      if (kind === "token bucket") {
        vi.setSystemTime(one.ts + 6 * Second);
      } else {
        vi.setSystemTime(one.ts + 1 * Minute);
      }
      const result2 = await t.mutation(api.rateLimit, {
        name,
        config,
        count: 16,
        reserve: true,
      });
      expect(result2.ok).toBe(true);
      expect(result2.retryAfter).toBe(Minute);
      const two = await t.query(api.stored, { name, config });
      if (kind === "token bucket") {
        expect(two.value).toBe(-10);
      } else {
        expect(two.value).toBe(-6);
      }
      vi.setSystemTime(two.ts + 30 * Second);
      const result3 = await t.mutation(api.rateLimit, {
        name,
        config,
        count: 5,
        reserve: true,
      });
      expect(result3.ok).toBe(true);
      if (kind === "token bucket") {
        expect(result3.retryAfter).toBe(Minute);
      } else {
        expect(result3.retryAfter).toBe(30 * Second + Minute);
      }
      const three = await t.query(api.stored, { name, config });
      if (kind === "token bucket") {
        expect(three.value).toBe(-10);
      } else {
        expect(three.value).toBe(-11);
      }
    });

    test("simple reset", async () => {
      const t = convexTest();
      const name = "simple";
      const config = { kind, rate: 1, period: Second };
      const before = await t.query(api.checkRateLimit, { name, config });
      expect(before.ok).toBe(true);
      expect(before.retryAfter).toBe(undefined);
      await t.mutation(api.resetRateLimit, { name, config });
      const after = await t.query(api.checkRateLimit, { name, config });
      expect(after.ok).toBe(true);
      expect(after.retryAfter).toBe(undefined);
    });

    test("keyed reset", async () => {
      const t = convexTest();
      const name = "simple";
      const key = "key";
      const config = { kind, rate: 1, period: Second };
      const before = await t.query(api.checkRateLimit, { name, config, key });
      expect(before.ok).toBe(true);
      expect(before.retryAfter).toBe(undefined);
      await t.mutation(api.resetRateLimit, { name, key, config });
      const after = await t.query(api.checkRateLimit, { name, config, key });
      expect(after.ok).toBe(true);
      expect(after.retryAfter).toBe(undefined);
    });

    test("reserved without max", async () => {
      const t = convexTest();
      const name = "reserved";
      const config = { kind, rate: 1, period: Hour };
      const before = await t.query(api.checkRateLimit, { name, config });
      expect(before.ok).toBe(true);
      expect(before.retryAfter).toBe(undefined);
      const reserved = await t.mutation(api.rateLimit, {
        name,
        config,
        count: 100,
        reserve: true,
      });
      expect(reserved.ok).toBe(true);
      expect(reserved.retryAfter).toBeGreaterThan(0);
      const noSimple = await t.query(api.checkRateLimit, { name, config });
      expect(noSimple.ok).toBe(false);
      expect(noSimple.retryAfter).toBeGreaterThan(reserved.retryAfter!);
    });

    test("reserved with max", async () => {
      const t = convexTest();
      const name = "reserved";
      const config = { kind, rate: 1, period: Hour, maxReserved: 1 };
      const check = await t.query(api.checkRateLimit, {
        name,
        config,
        count: 2,
        reserve: true,
      });
      expect(check.ok).toBe(true);
      const reserved = await t.mutation(api.rateLimit, {
        name,
        config,
        count: 2,
        reserve: true,
      });
      expect(reserved.ok).toBe(true);
      expect(reserved.retryAfter).toBeGreaterThan(0);
      const noSimple = await t.query(api.checkRateLimit, { name, config });
      expect(noSimple.ok).toBe(false);
    });

    test("consume too much reserved", async () => {
      const t = convexTest();
      await expect(
        t.mutation(api.rateLimit, {
          name: "simple",
          count: 4,
          reserve: true,
          config: {
            kind: "fixed window",
            rate: 1,
            period: Second,
            maxReserved: 2,
          },
        }),
        // opskit: our INVALID_ARGUMENT message.
      ).rejects.toThrow("count 4 can never be admitted");
    });
  },
);
