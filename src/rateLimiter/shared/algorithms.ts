/**
 * The rate-limit math: pure functions over one shard's stored state, with no
 * Convex context, so every rule can be tested exhaustively and reused by the
 * component, the client and the React hook.
 *
 * Every algorithm exposes the same four operations. `available` is the number
 * of tokens a request could take at time `t` (negative while reservations are
 * outstanding) and never decreases as `t` grows without consumption; that
 * monotonicity is what makes `retryAfterFor` (acrossShards.ts) exact.
 *
 * State time never moves backwards: a call whose clock reads earlier than the
 * stored state's time (a clock step back, or a function running on an older
 * timestamp) is evaluated as if it ran at the state's time, and the state it
 * writes keeps the later time. Otherwise the step back and the step forward
 * again would refill the same tokens twice (issue 11, item 10).
 */
import type { RateLimitConfig } from "./config.js";

/** One shard's stored state. Field meaning depends on the algorithm (see each). */
export type ShardState = {
  /** Token bucket / fixed window: tokens left at `ts`. Sliding window: count in the window starting at `ts`. GCRA: unused (0). */
  value: number;
  /** Token bucket: last update. Fixed and sliding window: start of the current window. GCRA: the theoretical arrival time. */
  ts: number;
  /** Sliding window: count in the window before `ts`. */
  prev?: number;
};

/** A config with every default applied and, when sharded, scaled to one shard. */
export type ShardLimit = {
  kind: RateLimitConfig["kind"];
  rate: number;
  period: number;
  capacity: number;
  maxReserved: number | undefined;
  /** Fixed and sliding window: the window grid's origin (ms since epoch). */
  start: number;
};

/** Tolerance for float error when comparing token counts; far below one token. */
export const EPSILON = 1e-9;

const mod = (a: number, b: number) => ((a % b) + b) % b;

/**
 * The time a call at `t` is evaluated at: never earlier than the state's own
 * time. GCRA stores a theoretical arrival time, not the time of the last
 * update, so its state needs no clamp (it already takes `max(tat, t)`).
 */
export function effectiveTime(
  limit: ShardLimit,
  state: ShardState | null,
  t: number,
): number {
  if (state === null || limit.kind === "gcra") return t;
  return Math.max(t, state.ts);
}

/**
 * GCRA: the theoretical arrival time as seen at `t` under `limit`'s interval.
 * A GCRA state stores its interval in `value` (0 in states written before
 * 0.2): a state written under another interval (a live change of `rate` or
 * `shards`) keeps its debt in tokens, not in time, so a slower rate cannot
 * turn the same wait into fewer tokens owed.
 */
export function gcraTat(
  limit: ShardLimit,
  state: ShardState,
  t: number,
): number {
  const interval = limit.period / limit.rate;
  if (!(state.value > 0) || state.value === interval || state.ts <= t)
    return state.ts;
  return t + ((state.ts - t) * interval) / state.value;
}

/** The start of the window that contains `t`, on a grid of `period` from `start`. */
export function windowStart(limit: ShardLimit, t: number): number {
  return t - mod(t - limit.start, limit.period);
}

/**
 * A stable pseudo-random window origin for a limit without `start`, so
 * fixed windows of different keys do not all reset at the same instant, while
 * every shard of one key (and every call) agrees on the grid.
 */
export function windowOrigin(
  name: string,
  key: string | undefined,
  period: number,
): number {
  // FNV-1a: tiny, deterministic, good enough to spread window boundaries.
  let h = 0x811c9dc5;
  const s = `${name}\u0000${key ?? ""}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return Math.floor((h / 0x100000000) * period);
}

/** Tokens available at `t` if nothing else is consumed (`null` state = full). */
export function available(
  limit: ShardLimit,
  state: ShardState | null,
  t: number,
): number {
  if (state === null) return limit.capacity;
  t = effectiveTime(limit, state, t);
  switch (limit.kind) {
    case "token bucket": {
      const elapsed = t - state.ts;
      return Math.min(
        limit.capacity,
        state.value + (elapsed * limit.rate) / limit.period,
      );
    }
    case "fixed window": {
      const windows = Math.max(
        0,
        Math.floor((windowStart(limit, t) - state.ts) / limit.period),
      );
      return Math.min(limit.capacity, state.value + windows * limit.rate);
    }
    case "sliding window": {
      const { prev, curr } = slidingCounts(limit, state, t);
      const f = (t - windowStart(limit, t)) / limit.period;
      return limit.rate - prev * (1 - f) - curr;
    }
    case "gcra": {
      const interval = limit.period / limit.rate;
      return (
        limit.capacity - Math.max(0, gcraTat(limit, state, t) - t) / interval
      );
    }
  }
}

/**
 * Sliding window: the previous and current window counts as seen at `t`.
 * A window holds at most `rate`: what a reservation took beyond it is spent
 * in the windows after it, one `rate` per window, so a debt is repaid at the
 * limit's rate instead of vanishing two windows later. Counts are never
 * negative (a state written under another kind reads as at most full).
 */
function slidingCounts(limit: ShardLimit, state: ShardState, t: number) {
  const w = windowStart(limit, t);
  const windows = Math.round((w - state.ts) / limit.period);
  const curr = Math.max(0, state.value);
  if (windows <= 0) return { prev: Math.max(0, state.prev ?? 0), curr, w };
  // After n windows, n * rate of the count is spent: the window before holds
  // at most `rate` of what was left, the current one the rest.
  return {
    prev: Math.min(Math.max(0, curr - (windows - 1) * limit.rate), limit.rate),
    curr: Math.max(0, curr - windows * limit.rate),
    w,
  };
}

/** The state after taking `count` tokens at `t` (available may go negative: reservations). */
export function consume(
  limit: ShardLimit,
  state: ShardState | null,
  t: number,
  count: number,
): ShardState {
  t = effectiveTime(limit, state, t);
  switch (limit.kind) {
    case "token bucket":
      return { value: available(limit, state, t) - count, ts: t };
    case "fixed window":
      return {
        value: available(limit, state, t) - count,
        ts: windowStart(limit, t),
      };
    case "sliding window": {
      if (state === null)
        return { value: count, ts: windowStart(limit, t), prev: 0 };
      const { prev, curr, w } = slidingCounts(limit, state, t);
      return { value: curr + count, ts: w, prev };
    }
    case "gcra": {
      const interval = limit.period / limit.rate;
      const tat = state === null ? t : Math.max(gcraTat(limit, state, t), t);
      return { value: interval, ts: tat + count * interval };
    }
  }
}

/**
 * The state after giving back `count` tokens at `t`. Never raises the
 * available tokens above the capacity, whatever is refunded.
 */
export function credit(
  limit: ShardLimit,
  state: ShardState | null,
  t: number,
  count: number,
): ShardState | null {
  if (state === null) return null;
  t = effectiveTime(limit, state, t);
  switch (limit.kind) {
    case "token bucket":
      return {
        value: Math.min(limit.capacity, available(limit, state, t) + count),
        ts: t,
      };
    case "fixed window":
      return {
        value: Math.min(limit.capacity, available(limit, state, t) + count),
        ts: windowStart(limit, t),
      };
    case "sliding window": {
      const { prev, curr, w } = slidingCounts(limit, state, t);
      if (curr >= count) return { value: curr - count, ts: w, prev };
      const left = count - curr;
      const weight = 1 - (t - w) / limit.period;
      return { value: 0, ts: w, prev: Math.max(0, prev - left / weight) };
    }
    case "gcra": {
      const interval = limit.period / limit.rate;
      return {
        value: interval,
        ts: Math.max(t, gcraTat(limit, state, t) - count * interval),
      };
    }
  }
}

/**
 * The earliest time at which `state` is back to full capacity (and may be
 * deleted).
 */
export function fullAt(limit: ShardLimit, state: ShardState): number {
  switch (limit.kind) {
    case "token bucket":
      return (
        state.ts +
        (Math.max(0, limit.capacity - state.value) * limit.period) / limit.rate
      );
    case "fixed window":
      return state.value >= limit.capacity
        ? state.ts
        : state.ts +
            Math.ceil((limit.capacity - state.value) / limit.rate - EPSILON) *
              limit.period;
    case "sliding window":
      // A count above `rate` spills into the windows after (slidingCounts).
      if (state.value > 0)
        return (
          state.ts +
          (Math.max(1, Math.ceil(state.value / limit.rate - EPSILON)) + 1) *
            limit.period
        );
      if ((state.prev ?? 0) > 0) return state.ts + limit.period;
      return state.ts;
    case "gcra":
      // Also for a state written under another interval: `gcraTat` rescales
      // what is owed at each read, and that reaches zero exactly at `ts`
      // (rescaled as of an earlier read it looked sooner, and retryAfterFor
      // answered Infinity for a wait of 30 s).
      return state.ts;
  }
}

/** A stored state equivalent to "no state" (full), for attaching a penalty to an untouched shard. */
export function fullState(limit: ShardLimit, t: number): ShardState {
  switch (limit.kind) {
    case "token bucket":
      return { value: limit.capacity, ts: t };
    case "fixed window":
      return { value: limit.capacity, ts: windowStart(limit, t) };
    case "sliding window":
      return { value: 0, ts: windowStart(limit, t), prev: 0 };
    case "gcra":
      return { value: limit.period / limit.rate, ts: t };
  }
}
