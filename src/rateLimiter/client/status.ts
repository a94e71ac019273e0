/**
 * Projects a `getValue` snapshot forward in time without another round trip:
 * what the React hook shows between server updates. Pure, so it is tested
 * directly and shared by any client.
 */
import { EPSILON, type ShardState } from "../shared/algorithms.js";
import { retryAfterFor, totalAvailable } from "../shared/acrossShards.js";
import { shardLimit } from "../shared/config.js";
import type { RateLimitValue } from "../shared/validators.js";

/** Whether `count` tokens could be taken at server time `now`, and if not, when. */
export type RateLimitStatus = {
  /** Tokens available across the whole limit at `now`. */
  value: number;
  ok: boolean;
  /** Ms from `now` until `count` tokens exist and any penalty is over (when not ok). */
  retryAfter?: number;
};

/** The limit's status at server time `now` for a request of `count` tokens (default 1). */
export function statusAt(
  data: RateLimitValue,
  now: number,
  count = 1,
): RateLimitStatus {
  // The window origin is hashed from name and key on the server; the snapshot's
  // current window start fixes the same grid here.
  const base = shardLimit("", undefined, data.config);
  const limit =
    data.windowStart === undefined
      ? base
      : { ...base, start: data.windowStart };
  const states: Array<ShardState | null> = Array.from(
    { length: data.config.shards ?? 1 },
    () => null,
  );
  for (const s of data.states)
    if (s.shard < states.length)
      states[s.shard] = {
        value: s.value,
        ts: s.ts,
        ...(s.prev !== undefined ? { prev: s.prev } : {}),
      };
  const value = totalAvailable(limit, states, now);
  const penaltyUntil = data.penaltyUntil ?? 0;
  if (now >= penaltyUntil && value >= count - EPSILON)
    return { value, ok: true };
  return {
    value,
    ok: false,
    retryAfter: retryAfterFor(limit, states, now, count, penaltyUntil),
  };
}
