import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  available,
  consume,
  credit,
  fullAt,
  windowOrigin,
  type ShardLimit,
  type ShardState,
  allocate,
  refundShards,
  retryAfterFor,
  totalAvailable,
  shardLimit,
} from "../internal.js";
import type { RateLimitConfig } from "convex-opskit/rateLimiter";

/** Deterministic PRNG (mulberry32) so property runs are reproducible. */
function rng(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS = [
  "token bucket",
  "fixed window",
  "sliding window",
  "gcra",
] as const;

function randomConfig(r: () => number): RateLimitConfig {
  const kind = KINDS[Math.floor(r() * KINDS.length)];
  const rate = 1 + Math.floor(r() * 20);
  const period = 1000 * (1 + Math.floor(r() * 60));
  if (kind === "sliding window") return { kind, rate, period, start: 0 };
  const capacity = rate + Math.floor(r() * 5);
  if (kind === "fixed window")
    return { kind, rate, period, capacity, start: 0 };
  return { kind, rate, period, capacity };
}

/** Greedy simulation on one shard: admit whenever available >= 1. */
function simulate(limit: ShardLimit, start: number, end: number, step: number) {
  let state: ShardState | null = null;
  const admittedAt: number[] = [];
  for (let t = start; t <= end; t += step) {
    if (available(limit, state, t) >= 1 - 1e-9) {
      state = consume(limit, state, t, 1);
      admittedAt.push(t);
    }
  }
  return admittedAt;
}

describe("algorithms: invariants (property-based)", () => {
  it("available never exceeds capacity and never decreases without consumption", () => {
    const r = rng(1);
    for (let run = 0; run < 300; run++) {
      const config = randomConfig(r);
      const limit = shardLimit("p", undefined, config);
      let state: ShardState | null = null;
      let t = 1_000_000;
      for (let step = 0; step < 40; step++) {
        t += Math.floor(r() * config.period);
        const a = available(limit, state, t);
        expect(a).toBeLessThanOrEqual(limit.capacity + 1e-9);
        const later = available(
          limit,
          state,
          t + Math.floor(r() * config.period * 3),
        );
        expect(later).toBeGreaterThanOrEqual(a - 1e-9);
        if (a >= 1) {
          state = consume(limit, state, t, 1);
          expect(available(limit, state, t)).toBeCloseTo(a - 1, 9);
        }
      }
    }
  });

  it("retryAfterFor is the exact first whole millisecond at which the tokens exist", () => {
    const r = rng(2);
    for (let run = 0; run < 300; run++) {
      const config = randomConfig(r);
      const limit = shardLimit("p", undefined, config);
      let state: ShardState | null = null;
      const t = 5_000_000;
      while (available(limit, state, t) >= 1)
        state = consume(limit, state, t, 1);
      const needed = 1 + Math.floor(r() * Math.min(3, limit.capacity - 1));
      const wait = retryAfterFor(limit, [state], t, needed);
      expect(Number.isInteger(wait)).toBe(true);
      expect(available(limit, state, t + wait)).toBeGreaterThanOrEqual(
        needed - 1e-9,
      );
      if (wait > 0)
        expect(available(limit, state, t + wait - 1)).toBeLessThan(
          needed - 1e-9,
        );
    }
  });

  it("a state past fullAt is indistinguishable from no state (safe to delete)", () => {
    const r = rng(3);
    for (let run = 0; run < 300; run++) {
      const config = randomConfig(r);
      const limit = shardLimit("p", undefined, config);
      let state: ShardState | null = null;
      const t = 7_000_000 + Math.floor(r() * 100_000);
      const n = Math.floor(r() * limit.capacity) + 1;
      for (let i = 0; i < n; i++) state = consume(limit, state, t, 1);
      const done = fullAt(limit, state!);
      for (const later of [done, done + 1, done + config.period * 2.5])
        expect(available(limit, state, Math.ceil(later))).toBeCloseTo(
          limit.capacity,
          9,
        );
    }
  });

  it("credit never raises available above capacity", () => {
    const r = rng(4);
    for (let run = 0; run < 300; run++) {
      const config = randomConfig(r);
      const limit = shardLimit("p", undefined, config);
      const t = 9_000_000;
      let state: ShardState | null = consume(limit, null, t, 1);
      state = credit(
        limit,
        state,
        t + Math.floor(r() * 1000),
        1 + Math.floor(r() * 50),
      );
      expect(available(limit, state, t + 1000)).toBeLessThanOrEqual(
        limit.capacity + 1e-9,
      );
    }
  });

  it("sharded allocation never takes more than the whole limit holds", () => {
    const r = rng(5);
    for (let run = 0; run < 200; run++) {
      const shards = 2 + Math.floor(r() * 6);
      const config: RateLimitConfig = {
        kind: "token bucket",
        rate: 60,
        period: 60_000,
        capacity: 24,
        shards,
      };
      const limit = shardLimit("s", undefined, config);
      let states: Array<ShardState | null> = Array.from(
        { length: shards },
        () => null,
      );
      let t = 0;
      let admitted = 0;
      for (let i = 0; i < 300; i++) {
        t += Math.floor(r() * 400);
        const count = 1 + Math.floor(r() * 3);
        if (totalAvailable(limit, states, t) >= count - 1e-9) {
          const next = allocate(limit, states, t, count);
          states = states.map((s, j) => next.get(j) ?? s);
          admitted += count;
        }
      }
      // Token bucket bound: capacity + rate * elapsed / period.
      expect(admitted).toBeLessThanOrEqual(24 + (60 * t) / 60_000 + 1e-6);
      expect(totalAvailable(limit, states, t)).toBeGreaterThanOrEqual(-1e-9);
    }
  });

  it("allocation levels shards so none stays full and all refill together", () => {
    const config: RateLimitConfig = {
      kind: "token bucket",
      rate: 100,
      period: 60_000,
      shards: 10,
    };
    const limit = shardLimit("s", undefined, config);
    let states: Array<ShardState | null> = Array.from(
      { length: 10 },
      () => null,
    );
    const next = allocate(limit, states, 0, 60);
    states = states.map((s, j) => next.get(j) ?? s);
    for (const s of states) expect(available(limit, s, 0)).toBeCloseTo(4, 9);
    // Whole-limit refill is then 100 per minute: one token every 600 ms.
    expect(retryAfterFor(limit, states, 0, 41)).toBe(600);
    // Refunds level the emptiest up.
    const uneven = allocate(limit, states, 0, 35).get(0)!;
    expect(available(limit, uneven, 0)).toBeCloseTo(0.5, 9);
    const back = refundShards(limit, states, 0, 10);
    for (const [, s] of back) expect(available(limit, s, 0)).toBeCloseTo(5, 9);
  });

  it("refunds over shards never exceed any shard's capacity", () => {
    const config: RateLimitConfig = {
      kind: "token bucket",
      rate: 10,
      period: 1000,
      shards: 5,
    };
    const limit = shardLimit("s", undefined, config);
    let states: Array<ShardState | null> = [null, null, null, null, null];
    const next = allocate(limit, states, 0, 7);
    states = states.map((s, j) => next.get(j) ?? s);
    expect(totalAvailable(limit, states, 0)).toBeCloseTo(3, 9);
    const back = refundShards(limit, states, 0, 100);
    states = states.map((s, j) => (back.has(j) ? back.get(j)! : s));
    expect(totalAvailable(limit, states, 0)).toBeCloseTo(10, 9);
    for (const s of states)
      expect(available(limit, s, 0)).toBeLessThanOrEqual(2 + 1e-9);
  });
});

describe("algorithms: each algorithm's shape", () => {
  const period = 60_000;

  it("fixed window admits 2x the rate across a boundary; sliding window does not", () => {
    const fixed = shardLimit("a", undefined, {
      kind: "fixed window",
      rate: 10,
      period,
      start: 0,
    });
    const sliding = shardLimit("a", undefined, {
      kind: "sliding window",
      rate: 10,
      period,
      start: 0,
    });
    // A burst just before the boundary, then one just after.
    const burst = (limit: ShardLimit) => {
      let s: ShardState | null = null;
      let n = 0;
      for (const t of [period - 10, period + 10])
        while (available(limit, s, t) >= 1) {
          s = consume(limit, s, t, 1);
          n++;
        }
      return n;
    };
    expect(burst(fixed)).toBe(20);
    expect(burst(sliding)).toBe(10);
  });

  it("greedy clients get the theoretical bound, never more", () => {
    const T = 5 * period;
    const tb = simulate(
      shardLimit("a", undefined, {
        kind: "token bucket",
        rate: 10,
        period,
        capacity: 3,
      }),
      0,
      T,
      50,
    );
    expect(tb.length).toBeLessThanOrEqual(3 + (10 * T) / period);
    expect(tb.length).toBeGreaterThanOrEqual(
      0.99 * (3 + (10 * T) / period) - 1,
    );
    const gcra = simulate(
      shardLimit("a", undefined, {
        kind: "gcra",
        rate: 10,
        period,
        capacity: 3,
      }),
      0,
      T,
      50,
    );
    expect(gcra.length).toBe(tb.length);
    const sw = simulate(
      shardLimit("a", undefined, {
        kind: "sliding window",
        rate: 10,
        period,
        start: 0,
      }),
      0,
      T,
      50,
    );
    // In every period-long interval, at most `rate` (steady greedy traffic).
    for (let i = 0; i < sw.length; i++) {
      const inWindow = sw.filter(
        (t) => t >= sw[i] && t < sw[i] + period,
      ).length;
      expect(inWindow).toBeLessThanOrEqual(10);
    }
    // The weighted estimate loses at most about one token per window to rounding.
    expect(sw.length).toBeGreaterThanOrEqual((10 - 1) * (T / period));
  });

  it("GCRA stores one timestamp and gives exact retry times", () => {
    const limit = shardLimit("g", undefined, {
      kind: "gcra",
      rate: 6,
      period,
      capacity: 2,
    });
    let s = consume(limit, null, 0, 1);
    s = consume(limit, s, 0, 1);
    // TAT: two emission intervals of 10 s; `value` records the interval.
    expect(s).toEqual({ value: 10_000, ts: 20_000 });
    expect(available(limit, s, 0)).toBe(0);
    expect(retryAfterFor(limit, [s], 0, 1)).toBe(10_000);
    expect(fullAt(limit, s)).toBe(20_000);
  });

  it("window origins are stable per key and spread across keys", () => {
    expect(windowOrigin("n", "k", period)).toBe(windowOrigin("n", "k", period));
    const origins = new Set(
      Array.from({ length: 50 }, (_, i) => windowOrigin("n", `k${i}`, period)),
    );
    expect(origins.size).toBeGreaterThan(40);
    for (const o of origins) expect(o).toBeGreaterThanOrEqual(0);
    for (const o of origins) expect(o).toBeLessThan(period);
  });

  it("retryAfterFor honours a penalty and reports Infinity when impossible", () => {
    const limit = shardLimit("p", undefined, {
      kind: "token bucket",
      rate: 1,
      period: 1000,
    });
    expect(retryAfterFor(limit, [null], 0, 1, 5_000)).toBe(5_000);
    expect(retryAfterFor(limit, [null], 0, 2)).toBe(Infinity);
  });

  it("retryAfterFor answers for waits past 2^53 ms instead of looping forever (a 1e308-token reservation hung the call)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KINDS),
        fc.double({ min: 1, max: 1e300, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        fc.oneof(
          fc.integer({ min: 2, max: 1e6 }),
          fc.constant(Number.MAX_SAFE_INTEGER),
          fc.constant(1e308),
        ),
        (kind, period, rate, count) => {
          const limit = shardLimit("huge", undefined, {
            kind,
            rate,
            period,
            ...(kind === "sliding window" ? { start: 0 } : {}),
          });
          const now = Date.UTC(2026, 0, 1);
          const state = consume(limit, null, now, count);
          const wait = retryAfterFor(limit, [state], now, 0);
          expect(wait).toBeGreaterThanOrEqual(0);
          // Never early: at the answer the debt is repaid.
          if (Number.isFinite(wait))
            expect(available(limit, state, now + wait)).toBeGreaterThanOrEqual(
              -1e-9 * Math.max(1, count),
            );
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });
});
