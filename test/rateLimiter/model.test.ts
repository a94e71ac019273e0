/**
 * Model-based property test for the rate limiter (issue 11): random
 * sequences of limit / reserve / check / refund / reset / sweep runs / config
 * changes / clock steps forwards and backwards / exact retries, for every
 * algorithm, sharded or not, with and without `maxReserved` and `penalty`,
 * through the client in convex-test with transaction limits on.
 *
 * The model keeps, per key, what the limit has admitted and credited since
 * it last started afresh (a reset, or a change of kind), with the function
 * time `s` each call saw and the highest time `H` seen so far, and checks:
 *
 * 1. **Never more than the bound.** For every run of consecutive admitted
 *    calls, the tokens admitted minus the tokens credited back in between is
 *    at most what the algorithm allows over `[lo, H]`, `lo` the earliest time
 *    among them: a token bucket or GCRA `capacity + rate × (H − lo) / period`,
 *    a fixed window `capacity + rate × (window starts in (lo, H])`, a sliding
 *    window `rate × (windows meeting [lo, H])`, with the largest rate and
 *    capacity among the configs involved. An admitted reservation's tokens
 *    count from `s + retryAfter` (when they are the caller's), so `H` is
 *    at least that. A clock step back may only make the
 *    span `H − lo` longer, never mint tokens (a step back and forth again
 *    used to refill the same tokens twice).
 * 2. **`retryAfter` is honest.** After a denial (or a `check` saying no) at
 *    `s` with `retryAfter: r`, the next `limit` of that count on that key,
 *    if it starts at `s + r` or later with no consumption or config change
 *    in between, is admitted. The `retry` command jumps exactly to `s + r`.
 *    On an unsharded limit `r` is also the least wait: the `early` command
 *    retries at `s + r - 1` and must be denied.
 *
 * `npm run test:deep` (`OPSKIT_DEEP=1`) runs many more sequences.
 */
import fc from "fast-check";
import { anyApi, mutationGeneric, queryGeneric } from "convex/server";
import { v } from "convex/values";
import { describe, expect, it, vi } from "vitest";
import {
  RateLimiter,
  SECOND,
  type RateLimitConfig,
} from "convex-opskit/rateLimiter";
import { components, fakeClock } from "../helpers.js";
import { probe, rateLimiterTest } from "./setup.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./model.test.js";

const limiter = new RateLimiter(components.rateLimiter);
const asConfig = (c: unknown) => c as RateLimitConfig;

export const limit = mutationGeneric({
  args: {
    config: v.any(),
    key: v.string(),
    count: v.number(),
    reserve: v.optional(v.boolean()),
  },
  handler: async (ctx, { config, key, count, reserve }) => ({
    now: Date.now(),
    result: await limiter.limit(ctx, "m", {
      key,
      count,
      reserve,
      config: asConfig(config),
    }),
  }),
});

export const check = queryGeneric({
  args: {
    config: v.any(),
    key: v.string(),
    count: v.number(),
    reserve: v.optional(v.boolean()),
  },
  handler: async (ctx, { config, key, count, reserve }) => ({
    now: Date.now(),
    result: await limiter.check(ctx, "m", {
      key,
      count,
      reserve,
      config: asConfig(config),
    }),
  }),
});

export const refund = mutationGeneric({
  args: { config: v.any(), key: v.string(), count: v.number() },
  handler: async (ctx, { config, key, count }) => ({
    now: Date.now(),
    credited: await limiter.refund(ctx, "m", {
      key,
      count,
      config: asConfig(config),
    }),
  }),
});

export const reset = mutationGeneric({
  args: { config: v.any(), key: v.string() },
  handler: async (ctx, { config, key }) => {
    await limiter.reset(ctx, "m", { key, config: asConfig(config) });
  },
});

const api = anyApi["model.test"];

const PERIOD = 10 * SECOND;
const T0 = Date.UTC(2026, 0, 1, 12);
const KEYS = ["a", "b"] as const;
type Key = (typeof KEYS)[number];
type Kind = RateLimitConfig["kind"];
const KINDS: Kind[] = [
  "token bucket",
  "fixed window",
  "sliding window",
  "gcra",
];

type Config = {
  kind: Kind;
  rate: number;
  period: number;
  capacity?: number;
  shards: number;
  start?: number;
  maxReserved?: number;
  penalty?: number;
};

type Cmd =
  | { op: "limit" | "check" | "refund"; key: Key; count: number }
  | { op: "reserve"; key: Key; count: number }
  | { op: "sweep" }
  | { op: "reset"; key: Key }
  | { op: "clock"; delta: number }
  | { op: "retry"; key: Key }
  | { op: "early"; key: Key }
  | { op: "drain"; key: Key }
  | { op: "wobble"; key: Key; back: number }
  | { op: "rate"; rate: number; extra: number }
  | { op: "kind"; kind: Kind }
  | { op: "shards"; shards: number };

/** A config of `kind` with `shards` that the component accepts. */
function makeConfig(
  kind: Kind,
  rate: number,
  extra: number,
  shards: number,
  more: { maxReserved?: number; penalty?: number } = {},
): Config {
  const capacity = kind === "sliding window" ? rate : rate + extra;
  return {
    ...(more.maxReserved !== undefined
      ? { maxReserved: more.maxReserved }
      : {}),
    ...(more.penalty ? { penalty: more.penalty } : {}),
    kind,
    rate,
    period: PERIOD,
    ...(kind === "sliding window" ? {} : { capacity }),
    shards: Math.min(shards, capacity),
    ...(kind === "fixed window" || kind === "sliding window"
      ? { start: 0 }
      : {}),
  };
}
const capacityOf = (c: Config) => c.capacity ?? c.rate;

/** The most any correct limit of these configs admits over `[lo, hi]`. */
function bound(configs: Config[], lo: number, hi: number): number {
  const rate = Math.max(...configs.map((c) => c.rate));
  const capacity = Math.max(...configs.map(capacityOf));
  const kind = configs[0].kind;
  const windowsFrom = (t: number) => Math.floor(t / PERIOD);
  switch (kind) {
    case "token bucket":
    case "gcra":
      return capacity + (rate * (hi - lo)) / PERIOD;
    case "fixed window":
      return capacity + rate * (windowsFrom(hi) - windowsFrom(lo));
    case "sliding window":
      return rate * (windowsFrom(hi) - windowsFrom(lo) + 1);
  }
}

type Event =
  | {
      type: "admit";
      /** The earliest time the limit can have evaluated this call at. */
      s: number;
      count: number;
      config: Config;
      /** A reservation: when its tokens are the caller's (`s + retryAfter`). */
      until?: number;
    }
  | { type: "credit"; s: number; count: number };

const cmdArb = (allowReshard: boolean): fc.Arbitrary<Cmd> => {
  const key = fc.constantFrom(...KEYS);
  const count = fc.integer({ min: 1, max: 3 });
  const options: Array<fc.Arbitrary<Cmd>> = [
    fc.record({ op: fc.constant("limit" as const), key, count }),
    fc.record({ op: fc.constant("limit" as const), key, count }),
    fc.record({ op: fc.constant("limit" as const), key, count }),
    fc.record({ op: fc.constant("check" as const), key, count }),
    fc.record({
      op: fc.constant("reserve" as const),
      key,
      count: fc.integer({ min: 1, max: 9 }),
    }),
    fc.constant({ op: "sweep" as const }),
    fc.record({
      op: fc.constant("refund" as const),
      key,
      // Up to whole shards: a refund that fills a shard deletes its state.
      count: fc.integer({ min: 1, max: 6 }),
    }),
    fc.record({ op: fc.constant("reset" as const), key }),
    fc.record({
      op: fc.constant("clock" as const),
      delta: fc.oneof(
        fc.integer({ min: -2, max: 2 }),
        fc.integer({ min: -PERIOD, max: 2 * PERIOD }),
        fc.constantFrom(PERIOD, -PERIOD, PERIOD / 2, -PERIOD / 3),
      ),
    }),
    fc.record({ op: fc.constant("retry" as const), key }),
    fc.record({ op: fc.constant("retry" as const), key }),
    fc.record({ op: fc.constant("early" as const), key }),
    fc.record({ op: fc.constant("early" as const), key }),
    fc.record({ op: fc.constant("drain" as const), key }),
    fc.record({ op: fc.constant("drain" as const), key }),
    fc.record({
      op: fc.constant("wobble" as const),
      key,
      back: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 2 * PERIOD })),
    }),
    // Twice: a step back around a partial state is what mints tokens.
    fc.record({
      op: fc.constant("wobble" as const),
      key,
      back: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 2 * PERIOD })),
    }),
    fc.record({
      op: fc.constant("rate" as const),
      rate: fc.integer({ min: 1, max: 6 }),
      extra: fc.integer({ min: 0, max: 4 }),
    }),
    fc.record({
      op: fc.constant("kind" as const),
      kind: fc.constantFrom(...KINDS),
    }),
  ];
  if (allowReshard)
    options.push(
      fc.record({
        op: fc.constant("shards" as const),
        shards: fc.integer({ min: 1, max: 4 }),
      }),
    );
  return fc.oneof(...options);
};

async function runModel(initial: Config, cmds: Cmd[], reshard: boolean) {
  const t = rateLimiterTest({ "./model.test.ts": async () => self });
  let config = initial;
  // Start a few periods in, so steps backwards have room.
  let clock = T0 + 5 * PERIOD;
  let high = T0;
  const events: Record<Key, Event[]> = { a: [], b: [] };
  // The latest time an unsharded key's stored state is known to be at: its
  // calls are evaluated no earlier (state time never moves backwards).
  const keyTime: Record<Key, number> = { a: -Infinity, b: -Infinity };
  const floorOf = (key: Key, s: number) => {
    if (config.shards !== 1 || config.kind === "gcra") return s;
    const k = keyTime[key];
    const known =
      config.kind === "token bucket" ? k : Math.floor(k / PERIOD) * PERIOD;
    return Math.max(s, known);
  };
  const promises: Partial<
    Record<
      Key,
      {
        at: number;
        count: number;
        reserve: boolean;
        /** A refund since: tokens came back, so `at` may no longer be the least wait. */
        refunded?: boolean;
      }
    >
  > = {};
  const seen = (s: number) => {
    high = Math.max(high, s);
  };
  const checkBound = (key: Key) => {
    const list = events[key];
    const j = list.length - 1;
    let net = 0;
    let lo = Infinity;
    let hi = high;
    const configs: Config[] = [config];
    for (let i = j; i >= 0; i--) {
      const e = list[i];
      if (e.type === "credit") {
        net -= e.count;
        continue;
      }
      net += e.count;
      lo = Math.min(lo, e.s);
      // Reserved tokens are the caller's only from `until`.
      hi = Math.max(hi, e.until ?? -Infinity);
      configs.push(e.config);
      const allowed = bound(configs, lo, hi);
      if (net > allowed + 1e-6)
        throw new Error(
          `key ${key}: admitted ${net} (net of credits) over [${lo - T0}, ${hi - T0}] ms; at most ${allowed} allowed`,
        );
    }
  };
  /** One `limit` call at the model's clock; checks both invariants. */
  /** The function time of the last `limitOnce`. */
  let lastNow = 0;
  const limitOnce = async (key: Key, count: number, reserve = false) => {
    vi.setSystemTime(clock);
    const { now, result } = await t.mutation(api.limit, {
      config,
      key,
      count,
      reserve,
    });
    lastNow = now;
    seen(now);
    const p = promises[key];
    if (
      p &&
      p.count === count &&
      p.reserve === reserve &&
      now >= p.at &&
      !result.ok
    )
      throw new Error(
        `key ${key}: limit of ${count}${reserve ? " (reserve)" : ""} at ${now - T0} ms denied after a retryAfter promising ${p.at - T0} ms`,
      );
    if (result.ok) {
      if (!reserve) expect(result.retryAfter).toBeUndefined();
      events[key].push({
        type: "admit",
        s: floorOf(key, now),
        count,
        config,
        ...(result.retryAfter !== undefined
          ? { until: now + result.retryAfter }
          : {}),
      });
      keyTime[key] = Math.max(keyTime[key], now);
      delete promises[key];
      checkBound(key);
    } else {
      expect(Number.isInteger(result.retryAfter)).toBe(true);
      expect(result.retryAfter).toBeGreaterThanOrEqual(0);
      promises[key] = { at: now + result.retryAfter, count, reserve };
    }
    return result.ok as boolean;
  };
  for (const raw of cmds) {
    // Counts are bounded by the capacity (more is refused as INVALID_ARGUMENT).
    const cmd =
      "count" in raw
        ? {
            ...raw,
            count: Math.min(
              raw.count,
              capacityOf(config) +
                (raw.op === "reserve" ? (config.maxReserved ?? 4) : 0),
            ),
          }
        : raw;
    switch (cmd.op) {
      case "clock":
        clock = Math.max(T0, clock + cmd.delta);
        break;
      case "early": {
        // `retryAfter` is the least wait (docs: "a call starting at
        // s + r - 1 is still denied"); exact for an unsharded limit.
        const p = promises[cmd.key];
        if (!p || p.refunded || config.shards !== 1 || p.at - 1 < clock) break;
        clock = p.at - 1;
        const at = p.at;
        const ok = await limitOnce(cmd.key, p.count, p.reserve);
        // From convex-test 0.0.71 a function may run 1 ms ahead of the clock.
        if (ok && lastNow < at)
          throw new Error(
            `key ${cmd.key}: admitted at ${clock - T0} ms, 1 ms before the retryAfter promising ${at - T0} ms: not the least wait`,
          );
        break;
      }
      case "retry": {
        const p = promises[cmd.key];
        if (!p) break;
        clock = p.at;
        vi.setSystemTime(clock);
        const { now, result } = await t.mutation(api.limit, {
          config,
          key: cmd.key,
          count: p.count,
          reserve: p.reserve,
        });
        seen(now);
        if (now >= p.at && !result.ok)
          throw new Error(
            `key ${cmd.key}: retry of ${p.count}${p.reserve ? " (reserve)" : ""} at exactly retryAfter (${p.at - T0} ms, ran at ${now - T0}) was denied, retryAfter ${result.retryAfter}`,
          );
        if (result.ok) {
          events[cmd.key].push({
            type: "admit",
            s: floorOf(cmd.key, now),
            count: p.count,
            config,
            ...(result.retryAfter !== undefined
              ? { until: now + result.retryAfter }
              : {}),
          });
          keyTime[cmd.key] = Math.max(keyTime[cmd.key], now);
          delete promises[cmd.key];
          checkBound(cmd.key);
        } else
          promises[cmd.key] = {
            at: now + result.retryAfter,
            count: p.count,
            reserve: p.reserve,
          };
        break;
      }
      case "limit":
        await limitOnce(cmd.key, cmd.count);
        break;
      case "reserve":
        await limitOnce(cmd.key, cmd.count, true);
        break;
      case "sweep":
        // The cron's run: deletes states that are full (and whose penalty
        // has ended); their time goes with them.
        vi.setSystemTime(clock);
        await t.mutation(probe.sweep, {});
        for (const k of KEYS) keyTime[k] = -Infinity;
        break;
      case "wobble":
        // A clock step back, one call, and the step forward again.
        clock -= cmd.back;
        await limitOnce(cmd.key, 1);
        clock += cmd.back;
        break;
      case "drain":
        // Limit one at a time until denied: the state a re-shard, a clock
        // step or a config change most often gets wrong.
        for (let i = 0; i <= capacityOf(config) + 1; i++)
          if (!(await limitOnce(cmd.key, 1))) break;
        break;
      case "check": {
        vi.setSystemTime(clock);
        const { now, result } = await t.query(api.check, {
          config,
          key: cmd.key,
          count: cmd.count,
        });
        seen(now);
        if (!result.ok && !promises[cmd.key])
          promises[cmd.key] = {
            at: now + result.retryAfter,
            count: cmd.count,
            reserve: false,
          };
        break;
      }
      case "refund": {
        vi.setSystemTime(clock);
        const { now, credited } = await t.mutation(api.refund, {
          config,
          key: cmd.key,
          count: cmd.count,
        });
        seen(now);
        expect(credited).toBeGreaterThanOrEqual(0);
        expect(credited).toBeLessThanOrEqual(cmd.count + 1e-9);
        if (credited > 0) {
          events[cmd.key].push({ type: "credit", s: now, count: credited });
          // A refund to full deletes the state, and its time with it.
          keyTime[cmd.key] = -Infinity;
          const p = promises[cmd.key];
          if (p) p.refunded = true;
        }
        break;
      }
      case "reset":
        vi.setSystemTime(clock);
        await t.mutation(api.reset, { config, key: cmd.key });
        events[cmd.key] = [];
        keyTime[cmd.key] = -Infinity;
        delete promises[cmd.key];
        break;
      case "rate":
      case "kind": {
        const kind = cmd.op === "kind" ? cmd.kind : config.kind;
        const rate = cmd.op === "rate" ? cmd.rate : config.rate;
        const extra =
          cmd.op === "rate" ? cmd.extra : capacityOf(config) - config.rate;
        const next = makeConfig(kind, rate, extra, config.shards, config);
        // Without `reshard`, a change that would force fewer shards is skipped.
        if (next.shards !== config.shards && !reshard) break;
        if (next.kind !== config.kind)
          // The stored state belongs to the old kind: the limit starts afresh
          // (at worst like a reset), so the model does too.
          for (const k of KEYS) {
            events[k] = [];
            keyTime[k] = -Infinity;
          }
        if (next.shards !== config.shards)
          for (const k of KEYS) keyTime[k] = -Infinity;
        config = next;
        for (const k of KEYS) delete promises[k];
        break;
      }
      case "shards":
        for (const k of KEYS) keyTime[k] = -Infinity;
        config = makeConfig(
          config.kind,
          config.rate,
          capacityOf(config) - config.rate,
          cmd.shards,
          config,
        );
        for (const k of KEYS) delete promises[k];
        break;
    }
  }
}

const configArb = fc
  .record({
    kind: fc.constantFrom(...KINDS),
    rate: fc.integer({ min: 1, max: 6 }),
    extra: fc.integer({ min: 0, max: 4 }),
    shards: fc.integer({ min: 1, max: 3 }),
    maxReserved: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
    penalty: fc.constantFrom(0, 0, 1, PERIOD / 4, 2 * PERIOD),
  })
  .map(({ kind, rate, extra, shards, maxReserved, penalty }) =>
    makeConfig(kind, rate, extra, shards, { maxReserved, penalty }),
  );

const deep = !!process.env.OPSKIT_DEEP;

fakeClock(T0);

describe("rateLimiter against its model", () => {
  it.each(KINDS)(
    "%s (sharded or not): bound and retryAfter hold",
    async (kind) => {
      await fc.assert(
        fc.asyncProperty(
          configArb.map((c) =>
            makeConfig(kind, c.rate, capacityOf(c) - c.rate, c.shards, c),
          ),
          fc.array(cmdArb(false), { minLength: 1, maxLength: deep ? 60 : 30 }),
          async (config, cmds) => runModel(config, cmds, false),
        ),
        { seed: 42, numRuns: deep ? 1000 : 100 },
      );
    },
  );

  // Issue 11 item 11: changing `shards` on a live limit re-shards the key.
  it("live changes of shards never admit more than the bound", async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.array(cmdArb(true), { minLength: 1, maxLength: deep ? 60 : 30 }),
        async (config, cmds) => runModel(config, cmds, true),
      ),
      { seed: 42, numRuns: deep ? 1000 : 100 },
    );
  });
});

/** What the model found beyond issue 11's list, each pinned by name. */
describe("regressions found by the model", () => {
  it("gcra: a live change of rate keeps the debt in tokens (3 of 2 were admitted)", async () => {
    const sliding = makeConfig("sliding window", 2, 0, 1);
    await runModel(
      sliding,
      [
        { op: "kind", kind: "gcra" },
        { op: "drain", key: "a" },
        { op: "rate", rate: 1, extra: 1 },
        { op: "limit", key: "a", count: 1 },
      ],
      false,
    );
  });

  it("gcra: a refund credits at most the count asked (float error at real timestamps)", async () => {
    await runModel(
      makeConfig("gcra", 3, 0, 1),
      [
        { op: "limit", key: "b", count: 2 },
        { op: "refund", key: "b", count: 2 },
        { op: "limit", key: "a", count: 1 },
      ],
      false,
    );
  });

  it("re-sharding during a clock step back keeps the later state time (a drained key refilled early)", async () => {
    for (const back of [1, PERIOD / 2])
      await runModel(
        makeConfig("token bucket", 1, 1, 1),
        [
          { op: "drain", key: "a" },
          { op: "shards", shards: 2 },
          { op: "wobble", key: "a", back },
          { op: "retry", key: "a" },
        ],
        true,
      );
  });

  it("sliding window: a reservation beyond the rate is repaid at the rate, not forgotten two windows later", async () => {
    for (const shards of [1, 2])
      await runModel(
        makeConfig("sliding window", 2, 0, shards),
        [
          { op: "reserve", key: "a", count: 6 },
          { op: "clock", delta: 2 * PERIOD },
          { op: "drain", key: "a" },
        ],
        false,
      );
  });

  it("a change of kind reads a reservation's debt as at most a reset (token bucket to sliding window admitted 15 of 10)", async () => {
    const t = rateLimiterTest({ "./model.test.ts": async () => self });
    vi.setSystemTime(T0);
    const bucket = makeConfig("token bucket", 10, 0, 1);
    const r = await t.mutation(api.limit, {
      config: bucket,
      key: "a",
      count: 15,
      reserve: true,
    });
    expect(r.result.ok).toBe(true);
    const sliding = makeConfig("sliding window", 10, 0, 1);
    let admitted = 0;
    for (let i = 0; i < 20; i++)
      if (
        (await t.mutation(api.limit, { config: sliding, key: "a", count: 1 }))
          .result.ok
      )
        admitted++;
    expect(admitted).toBeLessThanOrEqual(10);
  });

  it("gcra: a denial after a live rate change says when, not Infinity (the wait was 30 s)", async () => {
    await runModel(
      makeConfig("gcra", 1, 0, 1),
      [
        { op: "reserve", key: "a", count: 3 },
        { op: "rate", rate: 2, extra: 0 },
        { op: "wobble", key: "a", back: 10004 },
        { op: "retry", key: "a" },
      ],
      false,
    );
  });

  it("a refund after a change of shards credits what it is asked (a refund of 2 gave back all 6)", async () => {
    for (const kind of KINDS)
      await runModel(
        makeConfig(kind, 6, 0, 1),
        [
          { op: "drain", key: "a" },
          { op: "shards", shards: 3 },
          { op: "refund", key: "a", count: 2 },
          { op: "drain", key: "a" },
        ],
        true,
      );
  });

  it("a step back and forth around a partial state mints nothing (token bucket, fixed window)", async () => {
    for (const kind of ["token bucket", "fixed window"] as const)
      await runModel(
        makeConfig(kind, 2, 0, 1),
        [
          { op: "limit", key: "a", count: 1 },
          { op: "wobble", key: "a", back: 1 },
          { op: "drain", key: "a" },
          { op: "retry", key: "a" },
        ],
        false,
      );
  });
});
