/**
 * convex-opskit's rate limiter next to `@convex-dev/rate-limiter` 0.4.0 on the
 * same random sequences, where both accept the config: token bucket and fixed
 * window (the anchor's two kinds), unsharded, synchronous, `count` within
 * what the anchor admits, reservations with and without `maxReserved`,
 * `check`, `reset` and clock steps forwards. The anchor component is
 * registered next to opskit's in one convex-test instance and called through
 * its component functions, so each step runs both at the same function time.
 *
 * Every answer agrees (admitted or denied, and `retryAfter`) except where
 * docs/rateLimiter.md "Switching from @convex-dev/rate-limiter" says they
 * differ:
 * - `retryAfter` is a whole number of ms here (the anchor's may be
 *   fractional): here it is the anchor's rounded up, never less;
 * - a reservation of more than `capacity + maxReserved` is refused with
 *   `INVALID_ARGUMENT` here (the anchor denies it with an unreachable wait),
 *   so the sequences keep reservations within that ceiling;
 * - `maxReserved: 0` allows no reservation below zero here; the anchor reads
 *   0 as "unbounded" (`config.maxReserved && ...`), so the anchor is asked
 *   without `reserve` for it;
 * - a denied reservation's `retryAfter` is the exact wait until it fits
 *   within `maxReserved` here; the anchor waits until all `count` tokens are
 *   there (longer): here it is never later than the anchor's.
 */
import fc from "fast-check";
import {
  anyApi,
  componentsGeneric,
  mutationGeneric,
  queryGeneric,
  type FunctionReference,
} from "convex/server";
import { v } from "convex/values";
import { describe, expect, it, vi } from "vitest";
import anchorTest from "@convex-dev/rate-limiter/test";
import { RateLimiter, type RateLimitConfig } from "convex-opskit/rateLimiter";
import { components, captureLogs, fakeClock } from "../helpers.js";
import { rateLimiterTest } from "./setup.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./anchorDiff.test.js";

const limiter = new RateLimiter(components.rateLimiter);

type AnchorResult = { ok: boolean; retryAfter?: number };
type AnchorArgs = {
  name: string;
  key?: string;
  count?: number;
  reserve?: boolean;
  throws?: boolean;
  config: Record<string, unknown>;
};
const anchor = (
  componentsGeneric() as unknown as {
    anchorRL: {
      lib: {
        rateLimit: FunctionReference<
          "mutation",
          "internal",
          AnchorArgs,
          AnchorResult
        >;
        checkRateLimit: FunctionReference<
          "query",
          "internal",
          AnchorArgs,
          AnchorResult
        >;
        resetRateLimit: FunctionReference<
          "mutation",
          "internal",
          { name: string; key?: string },
          null
        >;
      };
    };
  }
).anchorRL.lib;

const args = {
  config: v.any(),
  count: v.number(),
  reserve: v.boolean(),
};

/** opskit's `limit`, with the function's time. */
export const opskitLimit = mutationGeneric({
  args,
  handler: async (ctx, { config, count, reserve }) => ({
    now: Date.now(),
    result: await limiter.limit(ctx, "diff", {
      key: "k",
      count,
      reserve,
      config: config as RateLimitConfig,
    }),
  }),
});

/** opskit's `check`. */
export const opskitCheck = queryGeneric({
  args,
  handler: async (ctx, { config, count, reserve }) =>
    limiter.check(ctx, "diff", {
      key: "k",
      count,
      reserve,
      config: config as RateLimitConfig,
    }),
});

/** opskit's `reset`. */
export const opskitReset = mutationGeneric({
  args: { config: v.any() },
  handler: async (ctx, { config }) =>
    limiter.reset(ctx, "diff", { key: "k", config: config as RateLimitConfig }),
});

const api = anyApi["anchorDiff.test"];

const PERIOD = 10_000;
const T0 = Date.UTC(2026, 0, 1, 12);

type Config = {
  kind: "token bucket" | "fixed window";
  rate: number;
  period: number;
  capacity: number;
  maxReserved?: number;
  start?: number;
};

type Cmd =
  | { op: "limit" | "check"; count: number; reserve: boolean }
  | { op: "clock"; delta: number }
  | { op: "reset" };

const configArb: fc.Arbitrary<Config> = fc
  .record({
    kind: fc.constantFrom("token bucket" as const, "fixed window" as const),
    rate: fc.integer({ min: 1, max: 6 }),
    extra: fc.integer({ min: 0, max: 4 }),
    maxReserved: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
  })
  .map(({ kind, rate, extra, maxReserved }) => ({
    kind,
    rate,
    period: PERIOD,
    capacity: rate + extra,
    ...(maxReserved !== undefined ? { maxReserved } : {}),
    ...(kind === "fixed window" ? { start: 0 } : {}),
  }));

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("limit" as const),
      count: fc.integer({ min: 1, max: 12 }),
      reserve: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant("check" as const),
      count: fc.integer({ min: 1, max: 12 }),
      reserve: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("clock" as const),
      delta: fc.oneof(
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 2 * PERIOD }),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("reset" as const) }) },
);

fakeClock(T0);
captureLogs();

async function runBoth(config: Config, cmds: Cmd[]) {
  const t = rateLimiterTest({ "./anchorDiff.test.ts": async () => self });
  anchorTest.register(t as never, "anchorRL");
  let clock = T0 + 3 * PERIOD;
  const ceiling = (reserve: boolean) =>
    reserve
      ? config.maxReserved === undefined
        ? Infinity
        : config.capacity + config.maxReserved
      : config.capacity;
  for (const [i, cmd] of cmds.entries()) {
    vi.setSystemTime(clock);
    const where = `step ${i} ${JSON.stringify(cmd)} at ${clock - T0} ms`;
    switch (cmd.op) {
      case "clock":
        clock += cmd.delta;
        break;
      case "reset":
        await t.mutation(api.opskitReset, { config });
        await t.mutation(anchor.resetRateLimit, { name: "diff", key: "k" });
        break;
      case "limit":
      case "check": {
        // Beyond the ceiling opskit refuses with INVALID_ARGUMENT (documented).
        if (cmd.count > ceiling(cmd.reserve)) break;
        const anchorArgs = {
          name: "diff",
          key: "k",
          count: cmd.count,
          reserve: cmd.reserve && config.maxReserved !== 0,
          config,
        };
        const a =
          cmd.op === "limit"
            ? await t.mutation(anchor.rateLimit, anchorArgs)
            : await t.query(anchor.checkRateLimit, anchorArgs);
        vi.setSystemTime(clock);
        const o =
          cmd.op === "limit"
            ? (
                await t.mutation(api.opskitLimit, {
                  config,
                  count: cmd.count,
                  reserve: cmd.reserve,
                })
              ).result
            : await t.query(api.opskitCheck, {
                config,
                count: cmd.count,
                reserve: cmd.reserve,
              });
        expect(o.ok, where).toBe(a.ok);
        if (a.retryAfter === undefined)
          expect(o.retryAfter, where).toBeUndefined();
        else if (cmd.reserve && !a.ok)
          expect(o.retryAfter, where).toBeLessThanOrEqual(
            Math.ceil(a.retryAfter - 1e-6),
          );
        // Whole ms, rounded up from the anchor's (float error: 1e-6).
        else expect(o.retryAfter, where).toBe(Math.ceil(a.retryAfter - 1e-6));
        break;
      }
    }
  }
}

describe("opskit and @convex-dev/rate-limiter 0.4.0 agree on the same sequences", () => {
  it("token bucket and fixed window, reservations, check, reset, clock steps", async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.array(cmdArb, { minLength: 1, maxLength: 25 }),
        runBoth,
      ),
      { seed: 42, numRuns: 200 },
    );
  });
});
