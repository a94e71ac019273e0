/**
 * Hot keys: a sharded limit refilling faster than
 * {@link HOT_TOKENS_PER_SECOND} answers its denials from the shards a call
 * sampled ({@link hotDenial}) instead of reading every shard. Also the
 * decision record every path of `decide` returns, with its quota.
 */
import {
  EPSILON,
  consume,
  fullAt,
  type ShardLimit,
  type ShardState,
} from "../shared/algorithms.js";
import { retryAfterFor, totalAvailable } from "../shared/acrossShards.js";
import { capacityOf, type WireConfig } from "../shared/config.js";
import { loadAll, type Ledger, type Request, type Slot } from "./ledger.js";

export type Decision = {
  name: string;
  key: string | undefined;
  denied: boolean;
  retryAfter: number | undefined;
  shadow: boolean;
  remaining: number;
  resetAfter: number;
  limit: number;
};

/**
 * Tokens per second above which a sharded limit is "hot": its denials are
 * answered from the two shards a call samples instead of from every shard.
 * A denial that reads every shard conflicts with any admit committed during
 * its ~100 ms between snapshot and commit; under overload admits arrive at the
 * refill rate, so above about 2 per second such denials would fail on OCC
 * (the `bench/` simulation measures it). At or below it, denials stay exact.
 */
export const HOT_TOKENS_PER_SECOND = 2;

/**
 * @internal The threshold {@link isHot} uses; `bench/` raises it to
 * `Infinity` to replay the 0.1 design (every sharded denial reads every
 * shard) next to the current one. Not part of the public API.
 */
export const tuning = { hotTokensPerSecond: HOT_TOKENS_PER_SECOND };

/** Whether `config` is sharded and refills faster than {@link HOT_TOKENS_PER_SECOND}. */
export function isHot(config: WireConfig): boolean {
  return (
    (config.shards ?? 1) > 1 &&
    (config.rate / config.period) * 1000 > tuning.hotTokensPerSecond
  );
}

/** One request's decision, with the quota the read `slots` show. */
export function decision(
  req: Request,
  config: WireConfig,
  denied: boolean,
  retryAfter: number | undefined,
  limit: ShardLimit,
  slots: Slot[],
  now: number,
): Decision {
  const { remaining, resetAfter } = quota(
    limit,
    slots,
    now,
    config.shards ?? 1,
  );
  return {
    name: req.name,
    key: req.key,
    denied,
    retryAfter,
    shadow: denied ? (config.shadow ?? false) : false,
    remaining,
    resetAfter,
    limit: capacityOf(config),
  };
}

/**
 * A hot limit's denial, decided from the two sampled shards. A penalty it
 * starts is written to every shard (all are read then), so any later sample
 * sees it. `retryAfter` covers the worst shard: either one it read (alone,
 * not pooled with the other) or one drained to empty now. (A shard in debt
 * is never unread and worse: reservations into debt level every shard.)
 */
export async function hotDenial(
  ledger: Ledger,
  req: Request,
  pair: Slot[],
  limit: ShardLimit,
  now: number,
  options: { write: boolean },
): Promise<Decision> {
  const { name, key } = req;
  const config = req.config as WireConfig;
  const count = req.count ?? 1;
  const shards = config.shards ?? 1;
  let until = Math.max(...pair.map((s) => s.penaltyUntil));
  if (until <= now && config.penalty) {
    until = now + config.penalty;
    if (options.write)
      for (const slot of await loadAll(ledger, name, key, limit, shards)) {
        slot.penaltyUntil = until;
        slot.penalized = true;
      }
  }
  const drained = consume(limit, null, now, limit.capacity);
  // A retry samples shards afresh: it may meet either of these two alone (a
  // request one shard can serve is never pooled), or any shard drained now.
  const alike = (state: ShardState | null) =>
    Array.from(
      { length: count <= limit.capacity + EPSILON ? 1 : 2 },
      () => state,
    );
  const retryAfter = Math.max(
    ...[...pair.map((s) => s.state), drained].map((state) =>
      retryAfterFor(limit, alike(state), now, count, until),
    ),
  );
  return decision(req, config, true, retryAfter, limit, pair, now);
}

function quota(limit: ShardLimit, slots: Slot[], now: number, shards: number) {
  const after = slots.map((s) => s.state);
  const scale = shards / slots.length;
  const remaining = Math.max(
    0,
    Math.floor(totalAvailable(limit, after, now) * scale + EPSILON),
  );
  let resetAt = now;
  for (const s of after)
    if (s !== null) resetAt = Math.max(resetAt, fullAt(limit, s));
  return { remaining, resetAfter: Math.ceil(resetAt - now) };
}
