import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

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
  })
    .index("by_name_key_shard", ["name", "key", "shard"])
    .index("by_fullAt", ["fullAt"]),
  /** A singleton: the sweep's pending continuation, while a backlog is being deleted. */
  sweeps: defineTable({
    continuation: v.optional(v.id("_scheduled_functions")),
    /** Written by 0.1's self-scheduling sweep; cleared by the next run. */
    scheduledFor: v.optional(v.union(v.number(), v.null())),
  }),
});
