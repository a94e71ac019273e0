import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import {
  vEntryFields,
  vEntryRecordFields,
  vRetentionRunFields,
  vOperationFields,
  vSnapshotRef,
  vSnapshotSide,
} from "../shared/validators.js";

export default defineSchema({
  /** One row per admin call: who, why, what function, with which arguments. */
  operations: defineTable({
    ...vOperationFields,
    entryCount: v.number(),
    /** Resolved at commit to a value ordered by commit order: the sealing order. */
    commitTs: v.commitTs(),
    sealed: v.boolean(),
    seq: v.optional(v.number()),
    prevHash: v.optional(v.string()),
    hash: v.optional(v.string()),
    entryHashes: v.optional(v.array(v.string())),
    /** Hash format (absent: 1). Format 2 fixes `entryHashes` at append. */
    format: v.optional(v.number()),
    /** Format 2: the hash of the row as appended (see `appendHash`); checked by seal and verify. */
    appendHash: v.optional(v.string()),
    /** Set when `args` did not fit the row: they are in `snapshots` (and `args` is null). */
    argsRef: v.optional(vSnapshotRef),
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
    ...vEntryFields,
    ...vEntryRecordFields,
    /** Set when `before` (`after`) did not fit the row: it is in `snapshots`, and the field is null. */
    beforeRef: v.optional(vSnapshotRef),
    afterRef: v.optional(vSnapshotRef),
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
   * Values too large (or too deeply nested) for their row: an entry's
   * before/after or an operation's args, as canonical JSON text split into
   * parts of at most 512 KiB. `entryIndex` is -1 for args.
   */
  snapshots: defineTable({
    operationId: v.id("operations"),
    entryIndex: v.number(),
    side: vSnapshotSide,
    part: v.number(),
    text: v.string(),
  }).index("by_owner", ["operationId", "entryIndex", "side", "part"]),

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
    ...vRetentionRunFields,
    /** An operation already cut from the chain whose entries and snapshot parts are still being deleted. */
    cleanup: v.optional(v.id("operations")),
  }).index("by_status", ["status"]),
});
