/**
 * Decides requests against stored shard states. Reads go through a per-call
 * {@link Ledger} (`ledger.ts`) so several limits in one call (even the same
 * one twice) see each other's consumption; nothing is written until the
 * whole call is decided, then {@link flush} writes what changed. Hot sharded
 * limits deny from the shards they sampled (`hot.ts`).
 */
import {
  EPSILON,
  available,
  consume,
  fullAt,
  fullState,
  type ShardLimit,
} from "../shared/algorithms.js";
import {
  allocate,
  retryAfterFor,
  totalAvailable,
} from "../shared/acrossShards.js";
import { capacityOf, shardLimit, type WireConfig } from "../shared/config.js";
import {
  validateConfig,
  validateCount,
  validateNameAndKey,
} from "../shared/validate.js";
import type { WireLimitResult } from "../shared/validators.js";
import type { Doc } from "./_generated/dataModel.js";
import type { DatabaseWriter } from "./_generated/server.js";
import { decision, hotDenial, isHot, type Decision } from "./hot.js";
import {
  loadAll,
  stateWithAvailable,
  type Ledger,
  type Request,
  type Slot,
} from "./ledger.js";

/**
 * Decides one request. Unsharded: one document. Sharded: two random shards
 * are sampled; one that can serve the request alone takes it. Otherwise a
 * "cold" limit (see {@link isHot}) reads every shard, so its denials and
 * `retryAfter` are exact for the whole limit. A hot limit reads the second
 * shard only when the first cannot serve, pools the two only for a request
 * larger than one shard, and otherwise denies from them, with a `retryAfter`
 * after which any shard that is merely empty could serve the request alone
 * (never early; at most `shards` times the exact wait for a token bucket).
 */
export async function decide(
  ledger: Ledger,
  req: Request,
  now: number,
  options: { write: boolean },
): Promise<Decision> {
  // Kept free of per-call closures and spread objects: this runs on every
  // `limit()` call (bench/rateLimiter.ts, "decision engine").
  const name = req.name;
  const key = req.key;
  const config = req.config;
  const count = req.count ?? 1;
  const reserve = req.reserve ?? false;
  validateConfig(name, config);
  validateCount(name, config, count, reserve);
  const limit = shardLimit(name, key, config);
  const shards = config.shards ?? 1;
  const write = options.write;

  let slots: Slot[];
  const first = await ledger.load(
    name,
    key,
    shards === 1 ? 0 : Math.floor(Math.random() * shards),
    limit,
    shards,
  );
  if (ledger.needsReshard(name, key)) {
    await ledger.reshard(name, key, config, now);
    slots = await loadAll(ledger, name, key, limit, shards);
  } else if (shards === 1) {
    // The common case, kept free of the array work sharding needs.
    if (serves(limit, first, now, count))
      return admitOne(req, config, limit, first, now, count, write, 1);
    slots = [first];
  } else {
    const hot = isHot(config);
    // A hot limit reads the second shard only when the first cannot serve.
    if (hot && serves(limit, first, now, count))
      return admitOne(req, config, limit, first, now, count, write, shards);
    const b =
      (first.shard + 1 + Math.floor(Math.random() * (shards - 1))) % shards;
    const second = await ledger.load(name, key, b, limit, shards);
    if (ledger.needsReshard(name, key)) {
      await ledger.reshard(name, key, config, now);
      slots = await loadAll(ledger, name, key, limit, shards);
    } else {
      const pair = [first, second];
      const best =
        available(limit, first.state, now) >=
        available(limit, second.state, now)
          ? first
          : second;
      if (serves(limit, best, now, count)) {
        best.state = consume(limit, best.state, now, count);
        best.consumed ||= write;
        return decision(req, config, false, undefined, limit, pair, now);
      }
      const penalty = Math.max(first.penaltyUntil, second.penaltyUntil);
      const poolable = count <= 2 * limit.capacity + EPSILON;
      if (hot && (poolable || penalty > now)) {
        const total = totalAvailable(limit, [first.state, second.state], now);
        // Pooling writes two shards; a request one shard could serve waits
        // for one instead (with refilling buckets pooled admits were most
        // admits under overload, and most conflicts: see bench/).
        const pool = count > limit.capacity + EPSILON;
        if (pool && penalty <= now && total >= count - EPSILON) {
          for (const [i, next] of allocate(
            limit,
            [first.state, second.state],
            now,
            count,
          )) {
            pair[i].state = next;
            pair[i].consumed ||= write;
          }
          return decision(req, config, false, undefined, limit, pair, now);
        }
        if (!(reserve && penalty <= now))
          return hotDenial(ledger, req, pair, limit, now, options);
      }
      slots = await loadAll(ledger, name, key, limit, shards);
    }
  }

  const states = slots.map((s) => s.state);
  const penaltyUntil = Math.max(...slots.map((s) => s.penaltyUntil));
  const total = totalAvailable(limit, states, now);
  const maxReserved = config.maxReserved;
  const admitted =
    penaltyUntil <= now &&
    (total >= count - EPSILON ||
      (reserve &&
        (maxReserved === undefined ||
          total - count >= -maxReserved - EPSILON)));

  if (admitted) {
    if (isHot(config) && total < count - EPSILON && slots.length === shards) {
      // A reservation into debt on a hot limit leaves every shard holding
      // the same (negative) amount. A hot denial reads only two shards and
      // its `retryAfter` covers a shard drained to empty, not one in debt:
      // with uneven debt an unread shard could stay in debt past it. Level
      // shards evolve alike, so any shard that has served since is proof
      // that the unread ones are out of debt too. (The sum is unchanged, so
      // the unsharded bound holds.)
      // Written at the latest time any shard was (time never moves back
      // for a state; a GCRA state stores an arrival time instead).
      const at =
        config.kind === "gcra"
          ? now
          : Math.max(now, ...states.map((st) => st?.ts ?? now));
      const level = stateWithAvailable(limit, at, (total - count) / shards);
      for (const slot of slots) {
        slot.state = { ...level };
        slot.consumed ||= write;
      }
    } else
      for (const [i, next] of allocate(limit, states, now, count)) {
        slots[i].state = next;
        slots[i].consumed ||= write;
      }
    // A reservation waits until what it took is repaid (the limit is back
    // to zero), which is finite even for a count above the capacity.
    const retryAfter =
      total >= count - EPSILON
        ? undefined
        : retryAfterFor(
            limit,
            slots.map((s) => s.state),
            now,
            0,
          );
    return decision(req, config, false, retryAfter, limit, slots, now);
  }

  const needed = reserve
    ? maxReserved === undefined
      ? -Infinity
      : count - maxReserved
    : count;
  let until = penaltyUntil;
  if (until <= now && config.penalty) {
    until = now + config.penalty;
    if (write)
      for (const slot of slots) {
        slot.penaltyUntil = until;
        slot.penalized = true;
      }
  }
  const retryAfter = retryAfterFor(limit, states, now, needed, until);
  // A denied call consumes nothing: `remaining` is what is left now.
  return decision(req, config, true, retryAfter, limit, slots, now);
}

/** Whether `slot` alone can serve `count` at `now` (no penalty, enough tokens). */
function serves(limit: ShardLimit, slot: Slot, now: number, count: number) {
  return (
    slot.penaltyUntil <= now &&
    available(limit, slot.state, now) >= count - EPSILON
  );
}

/**
 * Admits from one slot read alone: consumes there and reports the quota as
 * that slot's, scaled by `scale` (the shard count) — the common call's path,
 * without the arrays {@link quota} takes.
 */
function admitOne(
  req: Request,
  config: WireConfig,
  limit: ShardLimit,
  slot: Slot,
  now: number,
  count: number,
  write: boolean,
  scale: number,
): Decision {
  const state = consume(limit, slot.state, now, count);
  slot.state = state;
  slot.consumed ||= write;
  const remaining = Math.max(
    0,
    Math.floor(available(limit, state, now) * scale + EPSILON),
  );
  const resetAt = Math.max(now, fullAt(limit, state));
  return {
    name: req.name,
    key: req.key,
    denied: false,
    retryAfter: undefined,
    shadow: false,
    remaining,
    resetAfter: Math.ceil(resetAt - now),
    limit: capacityOf(config),
  };
}

/**
 * Decides every request, all or nothing: if any (non-shadow) limit denies,
 * nothing is consumed; the longest `retryAfter` and the denying limits are
 * reported. Penalties of denying limits are recorded either way.
 */
export async function decideAll(
  ledger: Ledger,
  requests: Request[],
  now: number,
  options: { write: boolean },
): Promise<WireLimitResult> {
  // Every name and key is checked before the first read.
  for (const req of requests) validateNameAndKey(req.name, req.key);
  const decisions: Decision[] = [];
  for (const req of requests)
    decisions.push(await decide(ledger, req, now, options));
  const only = decisions.length === 1 ? decisions[0] : undefined;
  if (only !== undefined && !only.denied)
    // The common call: one limit, admitted.
    return only.retryAfter === undefined
      ? {
          ok: true,
          limit: only.limit,
          remaining: only.remaining,
          resetAfter: only.resetAfter,
        }
      : {
          ok: true,
          retryAfter: only.retryAfter,
          limit: only.limit,
          remaining: only.remaining,
          resetAfter: only.resetAfter,
        };
  const tightest = decisions.reduce((a, b) =>
    b.remaining / b.limit < a.remaining / a.limit ? b : a,
  );
  const quotaFields = {
    limit: tightest.limit,
    remaining: tightest.remaining,
    resetAfter: tightest.resetAfter,
  };
  const denials = decisions
    .filter((d) => d.denied)
    .map((d) => ({
      name: d.name,
      ...(d.key !== undefined ? { key: d.key } : {}),
      retryAfter: d.retryAfter!,
      ...(d.shadow ? { shadow: true } : {}),
    }));
  const denialsPart = denials.length > 0 ? { denials } : {};
  const enforced = decisions.filter((d) => d.denied && !d.shadow);
  if (enforced.length > 0)
    return {
      ok: false,
      retryAfter: Math.max(...enforced.map((d) => d.retryAfter!)),
      ...denialsPart,
      ...quotaFields,
    };
  const waits = decisions.filter(
    (d) => !d.denied && d.retryAfter !== undefined,
  );
  const retryAfter = waits.length
    ? Math.max(...waits.map((d) => d.retryAfter!))
    : undefined;
  return {
    ok: true,
    ...(retryAfter !== undefined ? { retryAfter } : {}),
    ...denialsPart,
    ...quotaFields,
  };
}

/** What `flush` did, for the sweep scheduler. */
export type FlushResult = { inserted: number; earliestFullAt: number };

/**
 * Writes changed slots. When the call was denied, consumption is dropped and
 * only penalties are written.
 */
export async function flush(
  db: DatabaseWriter,
  ledger: Ledger,
  now: number,
  keepConsumption: boolean,
): Promise<FlushResult> {
  let inserted = 0;
  let earliestFullAt = Infinity;
  for (const doc of ledger.deletions) await db.delete("limitStates", doc._id);
  for (const slot of ledger.entries()) {
    const writeState = keepConsumption && slot.consumed;
    if (!writeState && !slot.penalized && slot.base === undefined) continue;
    const { name, key, shard, limit, shards } = slot;
    const state = writeState
      ? slot.state
      : slot.base !== undefined
        ? slot.base
        : slot.doc
          ? { value: slot.doc.value, ts: slot.doc.ts, prev: slot.doc.prev }
          : null;
    const stored = state ?? fullState(limit, now);
    const doneAt = Math.max(fullAt(limit, stored), slot.penaltyUntil);
    const doc = slot.doc;
    if (doc) {
      // Only the fields that changed (a fixed window keeps its `ts` and
      // `fullAt` all window long); an expired penalty is harmless to keep.
      const fields: Partial<Doc<"limitStates">> = { value: stored.value };
      if (stored.ts !== doc.ts) fields.ts = stored.ts;
      if (doneAt !== doc.fullAt) fields.fullAt = doneAt;
      if (stored.prev !== undefined && stored.prev !== doc.prev)
        fields.prev = stored.prev;
      if (slot.penalized || slot.base !== undefined)
        fields.penaltyUntil = slot.penaltyUntil;
      if (doc.shards !== shards) fields.shards = shards;
      await db.patch("limitStates", doc._id, fields);
    } else {
      await db.insert("limitStates", {
        name,
        key,
        shard,
        value: stored.value,
        ts: stored.ts,
        fullAt: doneAt,
        shards,
        ...(stored.prev !== undefined ? { prev: stored.prev } : {}),
        ...(slot.penalized ? { penaltyUntil: slot.penaltyUntil } : {}),
      });
      inserted++;
      earliestFullAt = Math.min(earliestFullAt, doneAt);
    }
  }
  return { inserted, earliestFullAt };
}
