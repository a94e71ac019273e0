/**
 * Hot keys and re-sharding (issue 15, issue 11 item 11): a changed `shards`
 * never refills a drained key nor lifts a penalty; a hot sharded limit
 * (more than 2 tokens/s) denies from the two shards it samples, never admits
 * more than the bound, and its `retryAfter` is never early.
 */
import fc from "fast-check";
import { anyApi, mutationGeneric, queryGeneric } from "convex/server";
import { v } from "convex/values";
import { describe, expect, it, vi } from "vitest";
import {
  MINUTE,
  RateLimiter,
  SECOND,
  type RateLimitConfig,
} from "convex-opskit/rateLimiter";
import { isHot } from "../internal.js";
import { components, opskitTest, fakeClock } from "../helpers.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./hotkeys.test.js";

const limiter = new RateLimiter(components.rateLimiter);
const vConfig = v.any();

export const take = mutationGeneric({
  args: {
    config: vConfig,
    count: v.optional(v.number()),
    times: v.optional(v.number()),
  },
  handler: async (ctx, { config, count, times }) => {
    let admitted = 0;
    let last: unknown = null;
    for (let i = 0; i < (times ?? 1); i++) {
      const r = await limiter.limit(ctx, "k", {
        key: "user",
        config: config as RateLimitConfig,
        count,
      });
      last = r;
      if (r.ok) admitted += count ?? 1;
    }
    return { admitted, last };
  },
});

export const states = queryGeneric({
  args: {},
  handler: async (ctx) =>
    ctx.runQuery(components.rateLimiter.lib.countStates, {}),
});

export const value = queryGeneric({
  args: { config: vConfig },
  handler: async (ctx, { config }) =>
    limiter.getValue(ctx, "k", {
      key: "user",
      config: config as RateLimitConfig,
    }),
});

const api = anyApi["hotkeys.test"];
const test = () => opskitTest({ "./hotkeys.test.ts": async () => self });
const t0 = Date.UTC(2026, 0, 1);

fakeClock(t0);

describe("re-sharding a live limit (issue 11 item 11)", () => {
  it("1 → 4 shards after draining 100 admits nothing more at once (was 75)", async () => {
    const t = test();
    const one = { kind: "token bucket", rate: 100, period: MINUTE } as const;
    expect(
      (await t.mutation(api.take, { config: one, times: 100 })).admitted,
    ).toBe(100);
    const four = { ...one, shards: 4 };
    // Before any call re-shards the key, getValue already counts it whole.
    expect((await t.query(api.value, { config: four })).value).toBeCloseTo(
      0,
      6,
    );
    expect(
      (await t.mutation(api.take, { config: four, times: 100 })).admitted,
    ).toBe(0);
    // And the key refills as one limit: 30 s later, half the capacity.
    vi.setSystemTime(t0 + 30 * SECOND);
    expect(
      (await t.mutation(api.take, { config: four, times: 100 })).admitted,
    ).toBe(50);
  });

  it("a penalty started before the change binds on every new shard", async () => {
    const t = test();
    const one = {
      kind: "token bucket",
      rate: 10,
      period: MINUTE,
      penalty: 10 * MINUTE,
    } as const;
    await t.mutation(api.take, { config: one, times: 11 }); // the 11th starts the penalty
    vi.setSystemTime(t0 + 5 * MINUTE); // refilled, but penalized
    const four = { ...one, shards: 4 };
    const r = await t.mutation(api.take, { config: four, times: 40 });
    expect(r.admitted).toBe(0);
    expect(r.last).toMatchObject({ ok: false });
    vi.setSystemTime(t0 + 10 * MINUTE + 1);
    expect(
      (await t.mutation(api.take, { config: four, times: 10 })).admitted,
    ).toBe(10);
  });

  const kinds = ["token bucket", "fixed window", "sliding window", "gcra"];
  it("property: any sequence of shard changes never admits more than the bound", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...kinds),
        fc.array(
          fc.record({
            shards: fc.integer({ min: 1, max: 12 }),
            times: fc.integer({ min: 0, max: 40 }),
            wait: fc.integer({ min: 0, max: 20 * SECOND }),
          }),
          { minLength: 2, maxLength: 5 },
        ),
        async (kind, steps) => {
          vi.setSystemTime(t0);
          const t = test();
          const rate = 60;
          let admitted = 0;
          let elapsed = 0;
          for (const step of steps) {
            elapsed += step.wait;
            vi.setSystemTime(t0 + elapsed);
            const config = {
              kind,
              rate,
              period: MINUTE,
              shards: step.shards,
              ...(kind.includes("window") ? { start: 0 } : {}),
            };
            admitted += (
              await t.mutation(api.take, { config, times: step.times })
            ).admitted;
          }
          // Capacity plus refill (windows: one more window's rate for a
          // fixed window's boundary, which any single-shard limit allows too).
          const windows = Math.floor(elapsed / MINUTE) + 1;
          const bound =
            kind === "fixed window" || kind === "sliding window"
              ? rate * (windows + 1)
              : rate + (rate * elapsed) / MINUTE;
          expect(admitted).toBeLessThanOrEqual(bound + 1e-6);
        },
      ),
      { seed: 42, numRuns: 25 },
    );
  });
});

describe("hot sharded limits (issue 15)", () => {
  const hot = {
    kind: "token bucket",
    rate: 3000,
    period: MINUTE,
    shards: 16,
  } as const;

  it("isHot: sharded and above 2 tokens per second", () => {
    expect(isHot(hot)).toBe(true);
    expect(isHot({ ...hot, shards: 1 })).toBe(false);
    expect(isHot({ ...hot, rate: 120 })).toBe(false);
    expect(isHot({ ...hot, rate: 121 })).toBe(true);
  });

  for (const config of [
    { kind: "token bucket", rate: 64, period: SECOND, shards: 16 } as const,
    {
      kind: "fixed window",
      rate: 30,
      period: SECOND,
      shards: 6,
      start: 0,
    } as const,
    { kind: "gcra", rate: 64, period: SECOND, shards: 8 } as const,
    {
      kind: "sliding window",
      rate: 30,
      period: SECOND,
      shards: 6,
      start: 0,
    } as const,
  ])
    it(`${config.kind}: a denial's retryAfter is never early; the bound is never exceeded`, async () => {
      const t = test();
      let now = t0;
      let admitted = 0;
      let retries = 0;
      for (let round = 0; round < 3000 && retries < 25; round++) {
        vi.setSystemTime(now);
        const r = (await t.mutation(api.take, { config })).last as {
          ok: boolean;
          retryAfter?: number;
        };
        if (r.ok) {
          admitted++;
          now += 3;
          continue;
        }
        expect(r.retryAfter).toBeGreaterThan(0);
        now += r.retryAfter!;
        vi.setSystemTime(now);
        const again = await t.mutation(api.take, { config });
        expect(again.last).toMatchObject({ ok: true });
        admitted++;
        retries++;
      }
      expect(retries).toBe(25);
      const elapsed = now - t0;
      const capacity = config.rate;
      const bound =
        config.kind === "fixed window" || config.kind === "sliding window"
          ? config.rate * (Math.floor(elapsed / config.period) + 2)
          : capacity + (config.rate * elapsed) / config.period;
      expect(admitted).toBeLessThanOrEqual(bound);
    });

  it("a penalty started by a hot denial is written to every shard", async () => {
    const t = test();
    const login = { ...hot, rate: 160, shards: 8, penalty: MINUTE };
    const r = await t.mutation(api.take, { config: login, times: 200 });
    expect(r.admitted).toBeLessThanOrEqual(160);
    expect(await t.query(api.states, {})).toBe(8);
    const value = await t.query(api.value, { config: login });
    expect(value.penaltyUntil).toBeGreaterThan(t0);
    expect(value.states).toHaveLength(8);
    // Refilled but penalized: every sample finds the penalty.
    vi.setSystemTime(t0 + MINUTE - 1);
    expect(
      (await t.mutation(api.take, { config: login, times: 50 })).admitted,
    ).toBe(0);
  });

  it("a count larger than two shards hold is still served across all shards", async () => {
    const t = test();
    const r = await t.mutation(api.take, { config: hot, count: 1000 });
    expect(r.admitted).toBe(1000);
    expect((await t.query(api.value, { config: hot })).value).toBeCloseTo(
      2000,
      6,
    );
  });
});
