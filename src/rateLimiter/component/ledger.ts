/**
 * The per-call read cache of the decision engine: a `Ledger` loads each shard
 * state once per call, so several limits in one call (even the same one
 * twice) see each other's consumption, and re-shards a key whose states were
 * written under another shard count. Nothing here writes; `flush` (in
 * `engine.ts`) writes back what changed.
 */
import {
  available,
  windowStart,
  type ShardLimit,
  type ShardState,
} from "../shared/algorithms.js";
import {
  capacityOf,
  shardLimit,
  type RequestConfig,
  type WireConfig,
} from "../shared/config.js";
import type { Doc } from "./_generated/dataModel.js";
import type { DatabaseReader } from "./_generated/server.js";

/** A request as the component receives it. */
export type Request = {
  name: string;
  key?: string;
  count?: number;
  reserve?: boolean;
  /** Checked by `validateConfig` before anything is read. */
  config: RequestConfig;
};

export type Slot = {
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

/** Most state documents a re-shard reads for one key (at least twice the most shards a limit may have). */
const MAX_RESHARD_DOCS = 2048;

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
export function stateWithAvailable(
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

export async function loadAll(
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
