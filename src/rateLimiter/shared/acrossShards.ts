/**
 * The rate-limit math over several shards of one limit: what they hold
 * together, when they will hold enough ({@link retryAfterFor}), and how a
 * consumption or a refund is spread over them by levelling. Pure functions
 * over the one-shard operations of `algorithms.ts`.
 */
import {
  EPSILON,
  available,
  consume,
  credit,
  fullAt,
  type ShardLimit,
  type ShardState,
} from "./algorithms.js";

/** Sum of `available` over shards. */
export function totalAvailable(
  limit: ShardLimit,
  states: Array<ShardState | null>,
  t: number,
): number {
  let sum = 0;
  for (const s of states) sum += available(limit, s, t);
  return sum;
}

/**
 * The smallest whole number of milliseconds `d >= 0` after which the shards
 * together hold at least `needed` tokens (and any penalty has expired).
 * Waiting exactly this long and retrying succeeds, unless someone else took
 * the tokens in between. Returns `Infinity` if `needed` can never be met.
 */
export function retryAfterFor(
  limit: ShardLimit,
  states: Array<ShardState | null>,
  now: number,
  needed: number,
  penaltyUntil = 0,
): number {
  const minWait = Math.max(0, Math.ceil(penaltyUntil - now));
  const enough = (d: number) =>
    totalAvailable(limit, states, now + d) >= needed - EPSILON;
  if (enough(minWait)) return minWait;
  if (needed > limit.capacity * states.length + EPSILON) return Infinity;
  let hi = minWait;
  for (const s of states)
    if (s !== null) hi = Math.max(hi, Math.ceil(fullAt(limit, s) - now) + 1);
  // The full state may still be a hair short through float error; widen once.
  if (!enough(hi)) hi += limit.period;
  if (!Number.isFinite(hi) || !enough(hi)) return Infinity;
  let lo = minWait; // not enough at lo, enough at hi
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    // Past 2^53 ms floats are more than 1 apart: stop (never early) rather
    // than loop forever on a wait of millions of years.
    if (mid <= lo || mid >= hi) break;
    if (enough(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/**
 * Finds the level `L` where `amountAt(L)` reaches `target`, for an amount that
 * grows monotonically with `L` on `[lo, hi]` (bisection; plenty for floats).
 */
function solveLevel(
  amountAt: (level: number) => number,
  target: number,
  lo: number,
  hi: number,
) {
  for (let i = 0; i < 100 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (amountAt(mid) < target) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Splits taking `count` tokens over shards by levelling: the fullest shards
 * are drawn down to a common level, so no shard is left full (a full shard
 * wastes its refill) and the shards refill together like one bucket. What
 * no shard holds (a reservation) is spread evenly so every shard repays
 * alike. Returns the new state of each shard that changes, by index.
 */
export function allocate(
  limit: ShardLimit,
  states: Array<ShardState | null>,
  t: number,
  count: number,
): Map<number, ShardState> {
  if (states.length === 1)
    return new Map([[0, consume(limit, states[0], t, count)]]);
  const avail = states.map((s) => available(limit, s, t));
  const positive = avail.reduce((sum, a) => sum + Math.max(0, a), 0);
  let take: number[];
  if (count >= positive) {
    const rest = (count - positive) / states.length;
    take = avail.map((a) => Math.max(0, a) + rest);
  } else {
    // Draw down to level L: sum of max(0, a - L) equals count.
    const drawn = (level: number) =>
      avail.reduce((sum, a) => sum + Math.max(0, a - level), 0);
    const level = solveLevel((l) => -drawn(l), -count, 0, Math.max(...avail));
    take = avail.map((a) => Math.max(0, a - level));
  }
  const out = new Map<number, ShardState>();
  take.forEach((amount, i) => {
    if (amount > EPSILON) out.set(i, consume(limit, states[i], t, amount));
  });
  return out;
}

/**
 * Gives `count` tokens back over shards by levelling the emptiest up, never
 * above any shard's capacity. Returns the new state of each shard that changes.
 */
export function refundShards(
  limit: ShardLimit,
  states: Array<ShardState | null>,
  t: number,
  count: number,
): Map<number, ShardState | null> {
  const avail = states.map((s) => available(limit, s, t));
  const room = avail.map((a, i) =>
    states[i] === null ? 0 : Math.max(0, limit.capacity - a),
  );
  const totalRoom = room.reduce((sum, r) => sum + r, 0);
  let give: number[];
  if (count >= totalRoom) give = room;
  else {
    // Raise to level L: sum of min(room, max(0, L - a)) equals count.
    const raised = (level: number) =>
      avail.reduce(
        (sum, a, i) => sum + Math.min(room[i], Math.max(0, level - a)),
        0,
      );
    const level = solveLevel(raised, count, Math.min(...avail), limit.capacity);
    give = avail.map((a, i) => Math.min(room[i], Math.max(0, level - a)));
  }
  const out = new Map<number, ShardState | null>();
  give.forEach((amount, i) => {
    if (amount > EPSILON) out.set(i, credit(limit, states[i], t, amount));
  });
  return out;
}
