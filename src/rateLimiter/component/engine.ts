// Over ~400 lines, not yet split: the split along its seams is issue 13's
// (architecture) work, planned file by file and kept out of the hardening
// sessions so the attack fixes could land without a concurrent reshape.
/**
 * Decides requests against stored shard states. Reads go through a per-call
 * cache so several limits in one call (even the same one twice) see each
 * other's consumption; nothing is written until the whole call is decided.
 */
import {
  EPSILON,
  allocate,
  available,
  consume,
  windowStart,
  fullAt,
  fullState,
  retryAfterFor,
  totalAvailable,
  type ShardLimit,
  type ShardState,
} from "../shared/algorithms.js";
import {
  capacityOf,
  shardLimit,
  validateConfig,
  validateCount,
  validateNameAndKey,
  type RequestConfig,
  type WireConfig,
} from "../shared/config.js";
import type { WireLimitResult } from "../shared/validators.js";
import type { Doc } from "./_generated/dataModel.js";
import type { DatabaseReader, DatabaseWriter } from "./_generated/server.js";

/** A request as the component receives it. */
export type Request = {
  name: string;
  key?: string;
  count?: number;
  reserve?: boolean;
  /** Checked by `validateConfig` before anything is read. */
  config: RequestConfig;
};

type Slot = {
  name: string;
  key: string | undefined;
  shard: number;
  /** The shard count this call writes the state under. */
  shards: number;
  limit: ShardLimit;
  doc: Doc<"limitStates"> | null;
  /** State as this call currently sees it (includes consumption decided earlier in the call). */
  state: ShardState | null;
  penaltyUntil: number;
  consumed: boolean;
  penalized: boolean;
  /** Re-sharded by this call: `state` before consumption must be written even if the call is denied. */
  base?: ShardState;
};

type Decision = {
  name: string;
  key: string | undefined;
  denied: boolean;
  retryAfter: number | undefined;
  shadow: boolean;
  remaining: number;
  resetAfter: number;
  limit: number;
};

/** Reads shard states once per call and writes back only what changed. */
export class Ledger {
  private slots = new Map<string, Slot>();
  constructor(private db: DatabaseReader) {}

  private id(name: string, key: string | undefined, shard: number) {
    // The name's length marks where it ends, so names and keys with any
    // characters never collide (cheaper than JSON on every call).
    return key === undefined
      ? `${shard}:${name.length}:${name}`
      : `${shard}:${name.length}:${name}:${key}`;
  }

  /** Documents of this key stored under another shard count, found while loading (see {@link decide}). */
  private foreign = new Map<string, number>();
  /** Documents to delete after a re-shard (shards beyond the new count). */
  readonly deletions: Array<Doc<"limitStates">> = [];

  /**
   * Loads one shard. The read is `shard >= i` on the key's range, so a
   * missing shard also shows the next stored one; if there is none above, the
   * lowest stored one is read too. Either tells the layout the key's states
   * were written under: a missing shard counts as full only when the key has
   * no state under another shard count.
   */
  async load(
    name: string,
    key: string | undefined,
    shard: number,
    limit: ShardLimit,
    shards: number,
  ): Promise<Slot> {
    const id = this.id(name, key, shard);
    const cached = this.slots.get(id);
    if (cached) return cached;
    // `first`, not `unique`: a state is inserted only by a transaction that
    // read this index range and found nothing, so serializable transactions
    // never leave two, and `unique` would only cost a second read per call.
    let found = await this.db
      .query("limitStates")
      .withIndex("by_name_key_shard", (q) =>
        q.eq("name", name).eq("key", key).gte("shard", shard),
      )
      .first();
    if (found === null && shard > 0)
      found = await this.db
        .query("limitStates")
        .withIndex("by_name_key_shard", (q) =>
          q.eq("name", name).eq("key", key),
        )
        .first();
    if (found !== null && (found.shards ?? shards) !== shards)
      this.foreign.set(this.id(name, key, -1), found.shards ?? shards);
    const doc = found !== null && found.shard === shard ? found : null;
    const slot: Slot = {
      name,
      key,
      shard,
      shards,
      limit,
      doc,
      state: doc ? docStateOf(doc) : null,
      penaltyUntil: doc?.penaltyUntil ?? 0,
      consumed: false,
      penalized: false,
    };
    this.slots.set(id, slot);
    return slot;
  }

  /** Whether a load found this key's states under another shard count. */
  needsReshard(name: string, key: string | undefined): boolean {
    return this.foreign.has(this.id(name, key, -1));
  }

  /**
   * Re-shards a key to `shards` shards: reads every stored state of the key,
   * sums what the whole limit still holds (each state scaled by the shard
   * count it was written under; shards it never stored are full), keeps the
   * latest penalty, and spreads the total evenly over the new shards. Never
   * more than the old states held, never more than the capacity: changing
   * `shards` cannot refill a drained key or lift a penalty.
   */
  async reshard(
    name: string,
    key: string | undefined,
    config: WireConfig,
    now: number,
  ): Promise<void> {
    this.foreign.delete(this.id(name, key, -1));
    const shards = config.shards ?? 1;
    const docs = await this.db
      .query("limitStates")
      .withIndex("by_name_key_shard", (q) => q.eq("name", name).eq("key", key))
      .take(MAX_RESHARD_DOCS);
    // State time never moves backwards, re-sharding included: the new
    // states are written at the latest time any old one was written at
    // (a GCRA state stores an arrival time, not its time).
    const at =
      config.kind === "gcra" ? now : Math.max(now, ...docs.map((d) => d.ts));
    const total = wholeAvailable(docs, name, key, config, at);
    const penaltyUntil = Math.max(0, ...docs.map((d) => d.penaltyUntil ?? 0));
    const limit = shardLimit(name, key, config);
    const each = Math.min(total, capacityOf(config)) / shards;
    const state = stateWithAvailable(limit, at, each);
    const byShard = new Map(docs.map((d) => [d.shard, d]));
    for (const doc of docs) if (doc.shard >= shards) this.deletions.push(doc);
    for (let i = 0; i < shards; i++) {
      const doc = byShard.get(i) ?? null;
      const slot: Slot = {
        name,
        key,
        shard: i,
        shards,
        limit,
        doc: doc && doc.shard < shards ? doc : null,
        state: { ...state },
        base: { ...state },
        penaltyUntil,
        consumed: false,
        penalized: penaltyUntil > now,
      };
      this.slots.set(this.id(name, key, i), slot);
    }
  }

  /** Snapshot of pending changes, so a denied multi-limit call can keep only penalties. */
  entries() {
    return [...this.slots.values()];
  }
}

/**
 * Tokens per second above which a sharded limit is "hot": its denials are
 * answered from the two shards a call samples instead of from every shard.
 * A denial that reads every shard conflicts with any admit committed during
 * its ~100 ms between snapshot and commit; under overload admits arrive at the
 * refill rate, so above about 2 per second such denials would fail on OCC
 * (the `bench/` simulation measures it). At or below it, denials stay exact.
 */
export const HOT_TOKENS_PER_SECOND = 2;

/** Most state documents a re-shard reads for one key (at least twice the most shards a limit may have). */
const MAX_RESHARD_DOCS = 2048;

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

/**
 * What a key's whole limit still holds, from all its stored states: each
 * state counted under the shard count it was written with, shards a layout
 * never stored counted full (only when every state shares one layout; with
 * mixed layouts they count as empty), never more than the capacity.
 */
export function wholeAvailable(
  docs: Array<Doc<"limitStates">>,
  name: string,
  key: string | undefined,
  config: WireConfig,
  now: number,
): number {
  const shards = config.shards ?? 1;
  const layouts = new Set(docs.map((d) => d.shards ?? shards));
  if (layouts.size === 0) return capacityOf(config);
  let total = 0;
  for (const doc of docs) {
    const old = shardLimit(name, key, {
      ...config,
      shards: doc.shards ?? shards,
    });
    total += available(old, docStateOf(doc), now);
  }
  if (layouts.size === 1) {
    const [old] = [...layouts];
    const seen = new Set(docs.filter((d) => d.shard < old).map((d) => d.shard));
    total += (old - seen.size) * (capacityOf(config) / old);
  }
  return Math.min(total, capacityOf(config));
}

/** A stored shard's state, as the algorithms take it. */
export function docStateOf(doc: Doc<"limitStates">): ShardState {
  return doc.prev === undefined
    ? { value: doc.value, ts: doc.ts }
    : { value: doc.value, ts: doc.ts, prev: doc.prev };
}

/**
 * A state of one shard holding exactly `amount` tokens at `now` (at most its
 * capacity), used to spread a re-sharded total. For windows the tokens
 * already used count as used in the current window, which never admits more
 * later than the states it replaces.
 */
function stateWithAvailable(
  limit: ShardLimit,
  now: number,
  amount: number,
): ShardState {
  const a = Math.min(limit.capacity, amount);
  switch (limit.kind) {
    case "token bucket":
      return { value: a, ts: now };
    case "fixed window":
      return { value: a, ts: windowStart(limit, now) };
    case "sliding window":
      return {
        value: Math.max(0, limit.rate - a),
        ts: windowStart(limit, now),
        prev: 0,
      };
    case "gcra": {
      const interval = limit.period / limit.rate;
      return { value: 0, ts: now + Math.max(0, limit.capacity - a) * interval };
    }
  }
}

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

/** One request's decision, with the quota the read `slots` show. */
function decision(
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

async function loadAll(
  ledger: Ledger,
  name: string,
  key: string | undefined,
  limit: ShardLimit,
  shards: number,
): Promise<Slot[]> {
  return Promise.all(
    Array.from({ length: shards }, (_, i) =>
      ledger.load(name, key, i, limit, shards),
    ),
  );
}

/**
 * A hot limit's denial, decided from the two sampled shards. A penalty it
 * starts is written to every shard (all are read then), so any later sample
 * sees it. `retryAfter` covers the worst shard: either one it read (alone,
 * not pooled with the other) or one drained to empty now. (A shard in debt
 * is never unread and worse: reservations into debt level every shard.)
 */
async function hotDenial(
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
