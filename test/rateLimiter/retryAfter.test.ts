/**
 * What `retryAfter` guarantees (issue 12), tested exactly as stated in
 * docs/rateLimiter.md "What retryAfter guarantees":
 *
 *   A call that denies at function time `s` with `retryAfter: r` is followed
 *   by an admitted call when the retry's function starts at `s + r` or later
 *   (and nothing else took the tokens in between); at `s + r - 1` it is still
 *   denied (`r` is the least such whole number of ms).
 *
 * `s` is the time the function saw (`Date.now()` is fixed for a whole
 * function, nested component calls included), not the caller's clock: a
 * client that waits `r` after it receives the answer starts its retry after
 * `s + r`. convex-test 0.0.71 may run a function up to 1 ms ahead of the
 * test's fake clock, so these tests read `s` from the function, as a client's
 * wait is anchored to when the answer was produced. They run on the pinned
 * convex-test and on the newest (`npm run test:latest`).
 */
import fc from "fast-check";
import { anyApi, mutationGeneric } from "convex/server";
import { v } from "convex/values";
import { describe, expect, it, vi } from "vitest";
import {
  MINUTE,
  RateLimiter,
  SECOND,
  type RateLimitConfig,
} from "convex-opskit/rateLimiter";
import { components, fakeClock } from "../helpers.js";
import { rateLimiterTest } from "./setup.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./retryAfter.test.js";

const limiter = new RateLimiter(components.rateLimiter);

/** One limit call; returns the result and the time the function saw. */
export const hit = mutationGeneric({
  args: { config: v.any(), count: v.number() },
  handler: async (ctx, { config, count }) => ({
    now: Date.now(),
    result: await limiter.limit(ctx, "retry", {
      config: config as RateLimitConfig,
      count,
    }),
  }),
});

const api = anyApi["retryAfter.test"];
const test = () =>
  rateLimiterTest({ "./retryAfter.test.ts": async () => self });

const T = Date.UTC(2026, 0, 1, 12);
fakeClock(T);

const kinds: Array<[string, RateLimitConfig]> = [
  [
    "token bucket",
    { kind: "token bucket", rate: 7, period: 10 * SECOND, capacity: 9 },
  ],
  ["fixed window", { kind: "fixed window", rate: 8, period: 10 * SECOND }],
  ["sliding window", { kind: "sliding window", rate: 9, period: 10 * SECOND }],
  ["gcra", { kind: "gcra", rate: 6, period: 10 * SECOND, capacity: 8 }],
  [
    "gcra with penalty",
    { kind: "gcra", rate: 6, period: 10 * SECOND, penalty: 25 * SECOND },
  ],
];
const cases: Array<[string, RateLimitConfig]> = kinds.flatMap(
  ([name, c]): Array<[string, RateLimitConfig]> => [
    [name, c],
    [`${name}, 3 shards`, { ...c, shards: 3 }],
  ],
);

const runs = process.env.OPSKIT_DEEP ? 200 : 25;

describe.each(cases)("%s", (_, config) => {
  it("a retry starting exactly retryAfter after the denial's start is admitted; 1 ms earlier is denied", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: MINUTE / 4 }),
            count: fc.integer({ min: 1, max: 3 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.integer({ min: 1, max: 3 }),
        async (traffic, count) => {
          vi.setSystemTime(T);
          const t = test();
          let clock = T;
          for (const { gap, count: c } of traffic) {
            clock += gap;
            vi.setSystemTime(clock);
            await t.mutation(api.hit, { config, count: c });
          }
          // Drain the limit until a call of `count` is denied.
          let denial;
          for (let i = 0; i < 40; i++) {
            const r = await t.mutation(api.hit, { config, count });
            if (!r.result.ok) {
              denial = r;
              break;
            }
          }
          expect(denial?.result).toMatchObject({ ok: false });
          const s: number = denial!.now;
          const wait: number = denial!.result.retryAfter;
          expect(Number.isInteger(wait)).toBe(true);
          expect(wait).toBeGreaterThan(0);
          if (wait > 1) {
            vi.setSystemTime(s + wait - 1);
            const early = await t.mutation(api.hit, { config, count });
            expect(early.now).toBe(s + wait - 1);
            expect(early.result.ok).toBe(false);
          }
          vi.setSystemTime(s + wait);
          const retry = await t.mutation(api.hit, { config, count });
          expect(retry.now).toBe(s + wait);
          expect(retry.result.ok).toBe(true);
        },
      ),
      { seed: 42, numRuns: runs },
    );
  });
});
