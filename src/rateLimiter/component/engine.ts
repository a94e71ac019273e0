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
  fullAt,
  fullState,
  retryAfterFor,
  totalAvailable,
  type ShardLimit,
  type ShardState,
} from "../algorithms.js";
import {
  capacityOf,
  shardLimit,
  validateConfig,
  validateCount,
  validateNameAndKey,
  type RequestConfig,
} from "../config.js";
import type { WireLimitResult } from "../validators.js";
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
  limit: ShardLimit;
  doc: Doc<"limitStates"> | null;
  /** State as this call currently sees it (includes consumption decided earlier in the call). */
  state: ShardState | null;
  penaltyUntil: number;
  consumed: boolean;
  penalized: boolean;
};

type Decision = {
  name: string;
  key?: string;
  denied: boolean;
  retryAfter?: number;
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
    // JSON keeps names and keys with any characters from colliding.
    return JSON.stringify([name, key ?? null, shard]);
  }

  async load(
    name: string,
    key: string | undefined,
    shard: number,
    limit: ShardLimit,
  ): Promise<Slot> {
    const id = this.id(name, key, shard);
    const cached = this.slots.get(id);
    if (cached) return cached;
    // `first`, not `unique`: a state is inserted only by a transaction that
    // read this index range and found nothing, so serializable transactions
    // never leave two, and `unique` would only cost a second read per call.
    const doc = await this.db
      .query("limitStates")
      .withIndex("by_name_key_shard", (q) =>
        q.eq("name", name).eq("key", key).eq("shard", shard),
      )
      .first();
    const slot: Slot = {
      name,
      key,
      shard,
      limit,
      doc,
      state: doc
        ? {
            value: doc.value,
            ts: doc.ts,
            ...(doc.prev !== undefined ? { prev: doc.prev } : {}),
          }
        : null,
      penaltyUntil: doc?.penaltyUntil ?? 0,
      consumed: false,
      penalized: false,
    };
    this.slots.set(id, slot);
    return slot;
  }

  /** Snapshot of pending changes, so a denied multi-limit call can keep only penalties. */
  entries() {
    return [...this.slots.values()];
  }
}

/**
 * Decides one request. With shards, two random shards are read first; the
 * rest are read only when neither can serve the request alone, so denials
 * and `retryAfter` always reflect the whole limit.
 */
export async function decide(
  ledger: Ledger,
  req: Request,
  now: number,
  options: { write: boolean },
): Promise<Decision> {
  const { name, key, config } = req;
  const count = req.count ?? 1;
  const reserve = req.reserve ?? false;
  validateConfig(name, config);
  validateCount(name, config, count, reserve);
  const limit = shardLimit(name, key, config);
  const shards = config.shards ?? 1;
  const base = {
    name,
    ...(key !== undefined ? { key } : {}),
    limit: capacityOf(config),
  };

  if (shards === 1) {
    // The common case, kept free of the array work sharding needs.
    const slot = await ledger.load(name, key, 0, limit);
    const avail = available(limit, slot.state, now);
    if (slot.penaltyUntil <= now && avail >= count - EPSILON) {
      slot.state = consume(limit, slot.state, now, count);
      slot.consumed ||= options.write;
      return {
        ...base,
        denied: false,
        shadow: false,
        ...quota(limit, [slot], now, 1),
      };
    }
  }

  let indices: number[];
  if (shards === 1) indices = [0];
  else {
    const a = Math.floor(Math.random() * shards);
    const b = (a + 1 + Math.floor(Math.random() * (shards - 1))) % shards;
    indices = [a, b];
  }
  let slots = await Promise.all(
    indices.map((i) => ledger.load(name, key, i, limit)),
  );

  if (shards > 1) {
    const penalty = Math.max(...slots.map((s) => s.penaltyUntil));
    const best = slots.reduce((x, y) =>
      available(limit, x.state, now) >= available(limit, y.state, now) ? x : y,
    );
    if (
      penalty <= now &&
      available(limit, best.state, now) >= count - EPSILON
    ) {
      best.state = consume(limit, best.state, now, count);
      best.consumed ||= options.write;
      return {
        ...base,
        denied: false,
        shadow: false,
        ...quota(limit, slots, now, shards),
      };
    }
    indices = Array.from({ length: shards }, (_, i) => i);
    slots = await Promise.all(
      indices.map((i) => ledger.load(name, key, i, limit)),
    );
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
    for (const [i, next] of allocate(limit, states, now, count)) {
      slots[i].state = next;
      slots[i].consumed ||= options.write;
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
    return {
      ...base,
      denied: false,
      shadow: false,
      ...(retryAfter !== undefined ? { retryAfter } : {}),
      ...quota(limit, slots, now, shards),
    };
  }

  const needed = reserve
    ? maxReserved === undefined
      ? -Infinity
      : count - maxReserved
    : count;
  let until = penaltyUntil;
  if (until <= now && config.penalty) {
    until = now + config.penalty;
    if (options.write)
      for (const slot of slots) {
        slot.penaltyUntil = until;
        slot.penalized = true;
      }
  }
  const retryAfter = retryAfterFor(limit, states, now, needed, until);
  return {
    ...base,
    denied: true,
    shadow: config.shadow ?? false,
    retryAfter,
    ...quota(limit, slots, now, shards),
    // A denied call consumes nothing: `remaining` is what is left now.
  };
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
    return {
      ok: true,
      ...(only.retryAfter !== undefined ? { retryAfter: only.retryAfter } : {}),
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
  for (const slot of ledger.entries()) {
    const writeState = keepConsumption && slot.consumed;
    if (!writeState && !slot.penalized) continue;
    const { name, key, shard, limit } = slot;
    const state = writeState
      ? slot.state
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
      if (slot.penalized) fields.penaltyUntil = slot.penaltyUntil;
      await db.patch("limitStates", doc._id, fields);
    } else {
      await db.insert("limitStates", {
        name,
        key,
        shard,
        value: stored.value,
        ts: stored.ts,
        fullAt: doneAt,
        ...(stored.prev !== undefined ? { prev: stored.prev } : {}),
        ...(slot.penalized ? { penaltyUntil: slot.penaltyUntil } : {}),
      });
      inserted++;
      earliestFullAt = Math.min(earliestFullAt, doneAt);
    }
  }
  return { inserted, earliestFullAt };
}
