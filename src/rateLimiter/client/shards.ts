/**
 * How many shards a limit needs for its traffic, from the OCC model the
 * `bench/` simulation measures (docs/rateLimiter.md, "Hot keys").
 *
 * A call reads at most two shards and writes one; it conflicts when another
 * call's write to a shard it read commits between its snapshot and its commit
 * (about {@link CONFLICT_WINDOW_MS} in production). Writes arrive at the
 * admitted rate, at most the limit's refill rate however heavy the overload.
 * With `n` shards one attempt conflicts with probability about
 * `1 - exp(-2 · admitted/s · window / n)`; Convex makes 5 attempts. The
 * suggestion keeps that probability at or below {@link TARGET_CONFLICT}
 * (about 0.01 % of calls failing after all retries).
 */
import { opskitError } from "../../shared/errors.js";
import { MAX_SHARDS } from "../shared/validate.js";

/** Ms between a mutation's snapshot and its commit becoming visible, as modelled (the incident measured ~77 ms). */
export const CONFLICT_WINDOW_MS = 100;
/** Per-attempt conflict probability the suggestion aims at: 0.158^5 ≈ 1e-4 after 5 attempts. */
export const TARGET_CONFLICT = 0.158;

/** Arguments of {@link suggestShards}. */
export type SuggestShardsArgs = {
  /** The limit's rate: tokens per `period`. */
  rate: number;
  /** The limit's period in ms. */
  period: number;
  /** Peak calls per second on one key (all callers together, attacks included). */
  callsPerSecond: number;
  /** The limit's capacity, when not `rate`: each shard must hold at least one token. */
  capacity?: number;
};

/**
 * The fewest shards at which a key of this limit keeps simulated terminal OCC
 * failures at about 0.01 % under `callsPerSecond` (overload included: writes
 * are bounded by the refill rate). Returns 1 when no sharding is needed; at
 * most the capacity and 1024.
 *
 * @example
 * ```ts
 * suggestShards({ rate: 3000, period: MINUTE, callsPerSecond: 108 }); // 59
 * ```
 * @throws `INVALID_ARGUMENT` unless every number (`capacity` too, when
 *   given) is positive and finite.
 */
export function suggestShards(args: SuggestShardsArgs): number {
  const fields = ["rate", "period", "callsPerSecond"] as const;
  for (const field of [
    ...fields,
    ...(args.capacity !== undefined ? (["capacity"] as const) : []),
  ]) {
    const x = args[field];
    if (typeof x !== "number" || !Number.isFinite(x) || x <= 0)
      throw opskitError(
        "INVALID_ARGUMENT",
        `suggestShards: ${field} must be a positive finite number (got ${String(x)})`,
        { field },
      );
  }
  const writesPerSecond = Math.min(
    args.callsPerSecond,
    (args.rate / args.period) * 1000,
  );
  const perAttempt = 1 - TARGET_CONFLICT;
  // 1 - exp(-x) <= target  <=>  x <= -ln(1 - target)
  const budget = -Math.log(perAttempt);
  const exposure = (writesPerSecond * CONFLICT_WINDOW_MS) / 1000;
  // Unsharded, a call reads the one document every write touches.
  if (exposure <= budget) return 1;
  const shards = Math.ceil((2 * exposure) / budget);
  const capacity = Math.floor(args.capacity ?? args.rate);
  return Math.max(1, Math.min(shards, capacity, MAX_SHARDS));
}
