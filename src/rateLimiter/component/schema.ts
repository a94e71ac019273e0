import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { vRateLimitConfig } from "../shared/config.js";

export default defineSchema({
  /** One document per (limit name, key, shard) that is not full; full state is no document. */
  limitStates: defineTable({
    name: v.string(),
    key: v.optional(v.string()),
    shard: v.number(),
    value: v.number(),
    ts: v.number(),
    prev: v.optional(v.number()),
    penaltyUntil: v.optional(v.number()),
    /** When this state has refilled to full and any penalty has ended: it may then be deleted. */
    fullAt: v.number(),
    /**
     * How many shards the limit had when this state was written. A call with
     * another count re-shards the key first (see `engine.ts`), so changing
     * `shards` never refills a drained key or drops a penalty. Absent on
     * states written before 0.2: read as the calling config's count.
     */
    shards: v.optional(v.number()),
  })
    .index("by_name_key_shard", ["name", "key", "shard"])
    .index("by_fullAt", ["fullAt"]),
  /**
   * Consumption (and resets) of `applyUpdates: "asynchronously"` limits,
   * queued by callers and applied in order by `async.drain`.
   */
  pendingUpdates: defineTable({
    kind: v.union(v.literal("consume"), v.literal("reset")),
    name: v.string(),
    key: v.optional(v.string()),
    count: v.number(),
    config: v.optional(vRateLimitConfig),
    /** The caller's clock when it was admitted: consumption is applied at this time. */
    ts: v.number(),
  }),
  /** A singleton: whether an async drain chain is running (callers read it, the drain writes it rarely). */
  drains: defineTable({
    running: v.boolean(),
    /**
     * When the chain was started or last said it is alive; a running marker
     * older than `DRAIN_STALLED_MS` is a lost chain and the next enqueue
     * starts another. Absent on markers written before it existed.
     */
    wokenAt: v.optional(v.number()),
  }),
  /** A singleton: the sweep's pending continuation, while a backlog is being deleted. */
  sweeps: defineTable({
    continuation: v.optional(v.id("_scheduled_functions")),
    /** Written by 0.1's self-scheduling sweep; cleared by the next run. */
    scheduledFor: v.optional(v.union(v.number(), v.null())),
  }),
});
