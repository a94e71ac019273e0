/**
 * `applyUpdates: "asynchronously"`: callers check a limit against a stale
 * snapshot (no read of the state enters their read set) and queue what they
 * consumed; a drain applies the queue in order. A caller's mutation reads one
 * document, the `drains` singleton, which the drain writes only when it
 * finds the queue empty and stops, so callers of a busy limit never conflict
 * with each other or with the drain.
 */
import { v } from "convex/values";
import { consume, fullAt, type ShardState } from "../shared/algorithms.js";
import {
  shardLimit,
  vRequestConfig,
  type WireConfig,
} from "../shared/config.js";
import {
  validateConfig,
  validateCount,
  validateNameAndKey,
} from "../shared/validate.js";
import { opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { internal } from "./_generated/api.js";
import { docStateOf } from "./ledger.js";
import type { Doc } from "./_generated/dataModel.js";
import {
  internalMutation,
  internalQuery,
  mutation,
  type MutationCtx,
} from "./_generated/server.js";

/** Most queued updates one drain applies. */
export const DRAIN_BATCH = 512;

/**
 * A drain chain whose marker has not been refreshed for this long is taken
 * as lost (its scheduled run was cancelled or failed): the next enqueue
 * starts a new chain.
 */
export const DRAIN_STALLED_MS = 2 * 60 * 1000;

/** How often a busy drain chain refreshes its marker (one write callers may conflict with). */
export const DRAIN_HEARTBEAT_MS = 30 * 1000;

/**
 * Starts a drain chain unless one is running. A marker that says "running"
 * but was not refreshed for {@link DRAIN_STALLED_MS} belongs to a lost chain
 * (its scheduled run was cancelled, or failed): without a restart nothing
 * would ever be applied, the queue would grow without bound and the stale
 * check would admit every call.
 */
async function wake(ctx: MutationCtx): Promise<void> {
  const marker = await ctx.db.query("drains").first();
  const now = Date.now();
  if (marker?.running && (marker.wokenAt ?? 0) > now - DRAIN_STALLED_MS) return;
  if (marker?.running)
    logEvent("rateLimiter.drainRestarted", {
      functionName: "async:enqueue",
      lastSeen: marker.wokenAt ?? null,
    });
  await ctx.scheduler.runAfter(0, internal.async.drain, {});
  if (marker)
    await ctx.db.patch("drains", marker._id, { running: true, wokenAt: now });
  else await ctx.db.insert("drains", { running: true, wokenAt: now });
}

/**
 * Queues consumption of an asynchronous limit, already admitted by the
 * caller's stale `check`. Reads only the drain marker; writes one row.
 */
export const enqueue = mutation({
  args: {
    name: v.string(),
    key: v.optional(v.string()),
    count: v.optional(v.number()),
    reserve: v.optional(v.boolean()),
    config: vRequestConfig,
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    validateNameAndKey(args.name, args.key);
    validateConfig(args.name, args.config);
    const count = args.count ?? 1;
    validateCount(args.name, args.config, count, args.reserve ?? false);
    if (args.config.applyUpdates !== "asynchronously")
      throw opskitError(
        "INVALID_ARGUMENT",
        `Rate limit "${args.name}": only a limit with applyUpdates "asynchronously" can be queued`,
        { name: args.name },
      );
    await ctx.db.insert("pendingUpdates", {
      kind: "consume",
      name: args.name,
      ...(args.key !== undefined ? { key: args.key } : {}),
      count,
      config: args.config,
      ts: Date.now(),
    });
    await wake(ctx);
    return null;
  },
});

/** Queues a reset of an asynchronous limit, applied in order with queued consumption. */
export const enqueueReset = mutation({
  args: { name: v.string(), key: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, args) => {
    validateNameAndKey(args.name, args.key);
    await ctx.db.insert("pendingUpdates", {
      kind: "reset",
      name: args.name,
      ...(args.key !== undefined ? { key: args.key } : {}),
      count: 0,
      ts: Date.now(),
    });
    await wake(ctx);
    return null;
  },
});

/** The oldest queued updates (read by the drain through a stale snapshot). */
export const pending = internalQuery({
  args: {},
  returns: v.array(v.id("pendingUpdates")),
  handler: async (ctx) =>
    (await ctx.db.query("pendingUpdates").take(DRAIN_BATCH)).map((d) => d._id),
});

type KeyState = {
  name: string;
  key: string | undefined;
  doc: Doc<"limitStates"> | null;
  state: ShardState | null;
  config: WireConfig | null;
  reset: boolean;
  at: number;
};

/**
 * Applies up to {@link DRAIN_BATCH} queued updates in queue order, then
 * runs again at once; a run that finds nothing marks the chain idle. The queue is listed through a stale snapshot and each row
 * re-read by id, so concurrent enqueues never conflict with the drain.
 */
export const drain = internalMutation({
  args: {},
  returns: v.object({ applied: v.number() }),
  handler: async (ctx) => {
    const ids = await ctx.runQuery(
      internal.async.pending,
      {},
      { useStaleSnapshot: true },
    );
    const keys = new Map<string, KeyState>();
    let applied = 0;
    for (const id of ids) {
      const row = await ctx.db.get("pendingUpdates", id);
      if (row === null) continue;
      const k = JSON.stringify([row.name, row.key ?? null]);
      let entry = keys.get(k);
      if (!entry) {
        const doc = await ctx.db
          .query("limitStates")
          .withIndex("by_name_key_shard", (q) =>
            q.eq("name", row.name).eq("key", row.key).eq("shard", 0),
          )
          .first();
        entry = {
          name: row.name,
          key: row.key,
          doc,
          state: doc ? docStateOf(doc) : null,
          config: null,
          reset: false,
          at: 0,
        };
        keys.set(k, entry);
      }
      if (row.kind === "reset") {
        entry.state = null;
        entry.reset = true;
      } else if (row.config) {
        const limit = shardLimit(row.name, row.key, row.config);
        // Time never moves backwards for a state (GCRA's ts is its arrival
        // time, which consume already keeps monotonic).
        const floor = row.config.kind === "gcra" ? 0 : (entry.state?.ts ?? 0);
        const at = Math.max(row.ts, floor, entry.at);
        entry.state = consume(limit, entry.state, at, row.count);
        entry.config = row.config;
        entry.at = at;
      }
      await ctx.db.delete("pendingUpdates", id);
      applied++;
    }
    for (const entry of keys.values()) {
      if (entry.state === null || entry.config === null) {
        if (entry.doc) await ctx.db.delete("limitStates", entry.doc._id);
        continue;
      }
      const limit = shardLimit(entry.name, entry.key, entry.config);
      const doneAt = fullAt(limit, entry.state);
      const fields = {
        value: entry.state.value,
        ts: entry.state.ts,
        fullAt: doneAt,
        shards: 1,
        ...(entry.state.prev !== undefined ? { prev: entry.state.prev } : {}),
      };
      if (entry.doc) await ctx.db.patch("limitStates", entry.doc._id, fields);
      else {
        await ctx.db.insert("limitStates", {
          name: entry.name,
          ...(entry.key !== undefined ? { key: entry.key } : {}),
          shard: 0,
          ...fields,
        });
      }
    }
    // Before going idle, look at the queue with a fresh read: the stale
    // listing cannot see a row enqueued by a caller that read the marker as
    // "running", and this read makes such a concurrent insert a conflict
    // (this drain retries and finds it) instead of a stranded row.
    const idle =
      applied === 0 && (await ctx.db.query("pendingUpdates").first()) === null;
    const marker = await ctx.db.query("drains").first();
    if (idle) {
      // The next enqueue wakes a new chain. One of the two writes callers
      // can conflict with: at a busy/idle transition.
      if (marker) await ctx.db.patch("drains", marker._id, { running: false });
    } else {
      await ctx.scheduler.runAfter(0, internal.async.drain, {});
      // The other: a busy chain says it is alive every DRAIN_HEARTBEAT_MS,
      // so callers do not take it for lost (see `wake`).
      const now = Date.now();
      if (marker && (marker.wokenAt ?? 0) <= now - DRAIN_HEARTBEAT_MS)
        await ctx.db.patch("drains", marker._id, {
          running: true,
          wokenAt: now,
        });
    }
    return { applied };
  },
});
