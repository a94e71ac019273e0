/**
 * Clock steps backwards (issue 11, item 10): a limit's stored time never moves
 * backwards, so a clock that steps back and forward again cannot refill the
 * same tokens twice. Every algorithm, sharded or not, through the component.
 */
import { anyApi, mutationGeneric } from "convex/server";
import { v } from "convex/values";
import { describe, expect, it, vi } from "vitest";
import {
  MINUTE,
  RateLimiter,
  SECOND,
  type RateLimitConfig,
} from "convex-opskit/rateLimiter";
import { available, consume, credit, type ShardLimit } from "../internal.js";
import { components, opskitTest, fakeClock } from "../helpers.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./clock.test.js";

const limiter = new RateLimiter(components.rateLimiter);

export const hit = mutationGeneric({
  args: { config: v.any(), key: v.string() },
  handler: async (ctx, { config, key }) =>
    (
      await limiter.limit(ctx, "clock", {
        key,
        config: config as RateLimitConfig,
      })
    ).ok,
});

const api = anyApi["clock.test"];
const test = () => opskitTest({ "./clock.test.ts": async () => self });

// A window boundary of every windowed config below (start 0, period 1 minute).
const T = Date.UTC(2026, 0, 1, 12);

fakeClock(null);

const configs: Array<[string, RateLimitConfig]> = [
  ["token bucket", { kind: "token bucket", rate: 10, period: MINUTE }],
  [
    "fixed window",
    { kind: "fixed window", rate: 10, period: MINUTE, start: 0 },
  ],
  [
    "sliding window",
    { kind: "sliding window", rate: 10, period: MINUTE, start: 0 },
  ],
  ["gcra", { kind: "gcra", rate: 10, period: MINUTE }],
];
const sharded = configs.map(([name, c]): [string, RateLimitConfig] => [
  `${name}, 2 shards`,
  { ...c, shards: 2 },
]);

describe.each([...configs, ...sharded])(
  "%s: a clock stepping back and forth mints nothing",
  (_, config) => {
    it.each([1, 30 * SECOND, 90 * SECOND])("step of %i ms", async (step) => {
      const t = test();
      vi.setSystemTime(T);
      let admitted = 0;
      for (let i = 0; i < 4; i++)
        if (await t.mutation(api.hit, { config, key: "k" })) admitted++;
      expect(admitted).toBe(4);
      // The clock swings between T - step and T; it never passes T, and
      // the limit has seen T: at most its capacity (10) in all.
      for (let swing = 0; swing < 8; swing++) {
        vi.setSystemTime(swing % 2 === 0 ? T - step : T);
        for (let i = 0; i < 3; i++)
          if (await t.mutation(api.hit, { config, key: "k" })) admitted++;
      }
      expect(admitted).toBe(10);
    });
  },
);

describe("the reported defects, exactly", () => {
  it("token bucket of 10: 5 at T, 5 at T - 30 s, then back at T admits nothing more", async () => {
    const t = test();
    const config = { kind: "token bucket", rate: 10, period: MINUTE } as const;
    const take = async (n: number) => {
      let ok = 0;
      for (let i = 0; i < n; i++)
        if (await t.mutation(api.hit, { config, key: "b" })) ok++;
      return ok;
    };
    vi.setSystemTime(T);
    expect(await take(5)).toBe(5);
    vi.setSystemTime(T - 30 * SECOND);
    expect(await take(5)).toBe(5);
    vi.setSystemTime(T);
    // Before the fix the bucket refilled the 30 s it had "gone back": 5 more.
    expect(await take(10)).toBe(0);
  });

  it("fixed window of 10: a 1 ms step back across a boundary opens no second window", async () => {
    const t = test();
    const config = {
      kind: "fixed window",
      rate: 10,
      period: MINUTE,
      start: 0,
    } as const;
    vi.setSystemTime(T);
    let ok = 0;
    for (let i = 0; i < 5; i++)
      if (await t.mutation(api.hit, { config, key: "w" })) ok++;
    vi.setSystemTime(T - 1);
    for (let i = 0; i < 12; i++)
      if (await t.mutation(api.hit, { config, key: "w" })) ok++;
    vi.setSystemTime(T);
    for (let i = 0; i < 12; i++)
      if (await t.mutation(api.hit, { config, key: "w" })) ok++;
    expect(ok).toBe(10);
  });
});

describe("pure algorithms: state time never moves backwards", () => {
  const kinds = ["token bucket", "fixed window", "sliding window"] as const;
  it.each(kinds)("%s: consume and credit keep the later ts", (kind) => {
    const limit: ShardLimit = {
      kind,
      rate: 10,
      period: MINUTE,
      capacity: 10,
      maxReserved: undefined,
      start: 0,
    };
    const s = consume(limit, null, T, 4);
    const back = consume(limit, s, T - 45 * SECOND, 1);
    expect(back.ts).toBe(s.ts);
    expect(credit(limit, back, T - 45 * SECOND, 1)!.ts).toBe(s.ts);
    // Seen from before its own time, a state looks as it does at its time.
    expect(available(limit, s, T - 45 * SECOND)).toBe(
      available(limit, s, s.ts),
    );
  });
});
