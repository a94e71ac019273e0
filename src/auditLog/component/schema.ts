import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { vEntryKind, vOperationInput } from "../validators.js";

export default defineSchema({
  /** One row per admin call: who, why, what function, with which arguments. */
  operations: defineTable({
    ...vOperationInput,
    entryCount: v.number(),
    /** Resolved at commit to a value ordered by commit order: the sealing order. */
    commitTs: v.commitTs(),
    sealed: v.boolean(),
    seq: v.optional(v.number()),
    prevHash: v.optional(v.string()),
    hash: v.optional(v.string()),
    entryHashes: v.optional(v.array(v.string())),
  })
    .index("by_pending", ["sealed", "commitTs"])
    .index("by_seq", ["seq"])
    .index("by_sealed_time", ["sealed", "time"])
    .index("by_actor", ["actorId", "time"])
    .index("by_function", ["functionName", "time"])
    .index("by_time", ["time"]),

  /** One row per document an admin call touched: before, after, changed fields. */
  entries: defineTable({
    operationId: v.id("operations"),
    index: v.number(),
    table: v.string(),
    docId: v.string(),
    kind: vEntryKind,
    before: v.union(v.any(), v.null()),
    after: v.union(v.any(), v.null()),
    changed: v.array(v.string()),
    actorId: v.string(),
    functionName: v.string(),
    time: v.number(),
  })
    .index("by_operation", ["operationId", "index"])
    .index("by_document", ["table", "docId", "time"])
    .index("by_table", ["table", "time"])
    .index("by_actor", ["actorId", "time"])
    .index("by_kind", ["kind", "time"])
    .index("by_time", ["time"])
    // "What did this admin change in this table", "which deletes did this admin make".
    .index("by_table_actor", ["table", "actorId", "time"])
    .index("by_actor_kind", ["actorId", "kind", "time"]),

  /**
   * Chain bookkeeping, written only by sealing and retention: `head` is the
   * last sealed operation, `tail` the last one retention deleted.
   */
  chain: defineTable({
    name: v.union(v.literal("head"), v.literal("tail")),
    seq: v.number(),
    hash: v.string(),
  }).index("by_name", ["name"]),

  /** One row per retention run. */
  retentionRuns: defineTable({
    startedAt: v.number(),
    finishedAt: v.optional(v.number()),
    cutoff: v.number(),
    status: v.union(v.literal("running"), v.literal("done")),
    batches: v.number(),
    deletedOperations: v.number(),
    deletedEntries: v.number(),
    anchorSeq: v.optional(v.number()),
    anchorHash: v.optional(v.string()),
  }).index("by_status", ["status"]),
});
