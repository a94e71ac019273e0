/**
 * `calculateRateLimit` (issue 11 item 14): the anchor's export, same name and
 * behaviour (its own tests run in anchor/shared.test.ts). Here: it projects a
 * limit exactly as the component's algorithms do, for every kind it accepts.
 */
import fc from "fast-check";
import { ConvexError } from "convex/values";
import { describe, expect, it } from "vitest";
import { calculateRateLimit as anchorCalculateRateLimit } from "@convex-dev/rate-limiter";
import {
  MINUTE,
  calculateRateLimit,
  type CalculableConfig,
} from "convex-opskit/rateLimiter";
import {
  available,
  consume,
  windowStart,
  type ShardLimit,
  type ShardState,
} from "../internal.js";

const T = Date.UTC(2026, 0, 1);

describe("calculateRateLimit agrees with the component's algorithms", () => {
  const kinds = ["token bucket", "fixed window", "gcra"] as const;
  it.each(kinds)("%s: projecting a value from time a to b", (kind) => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(
          fc.record({
            dt: fc.integer({ min: 0, max: 2 * MINUTE }),
            n: fc.integer({ min: 1, max: 5 }),
          }),
          { maxLength: 8 },
        ),
        fc.integer({ min: 0, max: 3 * MINUTE }),
        fc.integer({ min: 0, max: 5 }),
        (rate, burst, steps, later, count) => {
          const capacity = rate * burst;
          const config = {
            kind,
            rate,
            period: MINUTE,
            capacity,
            ...(kind === "fixed window" ? { start: 0 } : {}),
          } as CalculableConfig;
          const limit: ShardLimit = {
            kind,
            rate,
            period: MINUTE,
            capacity,
            maxReserved: undefined,
            start: 0,
          };
          let state: ShardState | null = null;
          let now = T;
          for (const { dt, n } of steps) {
            now += dt;
            if (available(limit, state, now) >= n)
              state = consume(limit, state, now, n);
          }
          const b = now + later;
          const reported = {
            value: available(limit, state, now),
            ts: now,
            ...(kind === "fixed window"
              ? { windowStart: windowStart(limit, now) }
              : {}),
          };
          // As in the anchor, retryAfter is when the value is back to zero,
          // i.e. when `count` tokens exist (for a count within the capacity).
          count = Math.min(count, capacity);
          const got = calculateRateLimit(reported, config, b, count);
          expect(got.value).toBeCloseTo(available(limit, state, b) - count, 6);
          if (got.value < 0) {
            // retryAfter is when `count` tokens exist again.
            expect(got.retryAfter).toBeGreaterThan(0);
            const at = b + got.retryAfter!;
            expect(available(limit, state, at)).toBeGreaterThanOrEqual(
              count - 1e-6,
            );
          } else expect(got.retryAfter).toBeUndefined();
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe("calculateRateLimit equals @convex-dev/rate-limiter 0.4.0's", () => {
  // Where both accept the input: a config opskit accepts (positive finite
  // rate, period and capacity of at least 1 token), a finite count >= 0
  // (the anchor also projects negative counts; opskit refuses them), and a
  // `now` not before the state's time (opskit treats an earlier `now` as the
  // state's time; the anchor projects backwards). Fixed windows get a
  // `start` when there is no state (both pick a random origin otherwise).
  const finite = (min: number, max: number) =>
    fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  it.each(["token bucket", "fixed window"] as const)("%s", (kind) => {
    fc.assert(
      fc.property(
        fc.record({
          rate: fc.oneof(fc.integer({ min: 1, max: 1000 }), finite(1, 1e6)),
          period: fc.oneof(
            fc.integer({ min: 1, max: 86_400_000 }),
            finite(0.001, 1e9),
          ),
          extra: fc.oneof(fc.constant(undefined), finite(0, 1e4)),
          start: finite(0, 2e12),
        }),
        fc.option(
          fc.record({
            value: fc.oneof(
              fc.integer({ min: -1000, max: 1000 }),
              finite(-1e6, 1e6),
            ),
            ts: fc.integer({ min: 0, max: 2e12 }),
          }),
          { nil: null },
        ),
        fc.oneof(fc.integer({ min: 0, max: 1e9 }), finite(0, 1e10)),
        fc.oneof(fc.integer({ min: 0, max: 100 }), finite(0, 1e6)),
        ({ rate, period, extra, start }, existing, later, count) => {
          const config = {
            kind,
            rate,
            period,
            ...(extra !== undefined ? { capacity: rate + extra } : {}),
            ...(kind === "fixed window" ? { start } : {}),
          } as CalculableConfig;
          const now = (existing?.ts ?? start) + later;
          const ours = calculateRateLimit(existing, config, now, count);
          const theirs = anchorCalculateRateLimit(
            existing,
            config as Parameters<typeof anchorCalculateRateLimit>[1],
            now,
            count,
          );
          expect(ours).toEqual(theirs);
        },
      ),
      { seed: 42, numRuns: 1000 },
    );
  });
});

describe("edges", () => {
  it("a time before the reported one is treated as that time", () => {
    const config = { kind: "token bucket", rate: 10, period: MINUTE } as const;
    const got = calculateRateLimit({ value: 3, ts: T }, config, T - 30_000);
    expect(got).toEqual({
      value: 3,
      ts: T,
      retryAfter: undefined,
      windowStart: undefined,
    });
  });

  it("a fixed window with a `start` and no state starts on its grid", () => {
    const config = {
      kind: "fixed window",
      rate: 10,
      period: MINUTE,
      start: 0,
    } as const;
    const got = calculateRateLimit(null, config, T + 90_000, 12);
    expect(got).toEqual({
      value: -2,
      ts: T + MINUTE,
      retryAfter: 30_000,
      windowStart: 0,
    });
  });

  it("refuses a malformed config or count with INVALID_ARGUMENT", () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as ConvexError<{ code: string }>).data.code;
      }
      return "no error";
    };
    const ok = { kind: "token bucket", rate: 10, period: MINUTE } as const;
    expect(code(() => calculateRateLimit(null, { ...ok, rate: 0 }, T))).toBe(
      "INVALID_ARGUMENT",
    );
    expect(
      code(() => calculateRateLimit(null, { ...ok, period: NaN }, T)),
    ).toBe("INVALID_ARGUMENT");
    for (const count of [-1, NaN, Infinity])
      expect(code(() => calculateRateLimit(null, ok, T, count))).toBe(
        "INVALID_ARGUMENT",
      );
    expect(code(() => calculateRateLimit(null, ok, T, 0))).toBe("no error");
  });

  it("refuses a sliding window with INVALID_ARGUMENT (use statusAt)", () => {
    const config = { kind: "sliding window", rate: 10, period: MINUTE };
    let error: unknown;
    try {
      // @ts-expect-error a sliding window cannot be projected from one value
      calculateRateLimit({ value: 1, ts: T }, config, T);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConvexError);
    expect((error as ConvexError<{ code: string }>).data.code).toBe(
      "INVALID_ARGUMENT",
    );
  });
});
