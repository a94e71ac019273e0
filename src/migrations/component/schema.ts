import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import {
  vBatchUsage,
  vFieldCounts,
  vOnError,
  vRunnerArgs,
  vSample,
} from "../shared/wire.js";

export default defineSchema({
  /** One row per run (history): real runs, dry runs and rollbacks. */
  runs: defineTable({
    name: v.string(),
    kind: v.union(
      v.literal("migrate"),
      v.literal("dryRun"),
      v.literal("rollback"),
    ),
    /** Stored intent; the reported state also looks at the scheduled worker. */
    state: v.union(
      v.literal("running"),
      v.literal("paused"),
      v.literal("canceled"),
      v.literal("failed"),
      v.literal("success"),
    ),
    /** "walk" pages the table; "retry" re-runs documents that failed. */
    phase: v.union(v.literal("walk"), v.literal("retry")),
    fnHandle: v.string(),
    checksum: v.string(),
    table: v.string(),
    /** Identity of the walked range (table + customRange code); absent on older runs. */
    range: v.optional(v.string()),
    cursor: v.union(v.string(), v.null()),
    /**
     * Resumed with failures pending (the code may have been fixed since):
     * when the walk ends, retry them before deciding the run failed.
     */
    retryOnFinish: v.optional(v.boolean()),
    /** Retry phase: `_creationTime` of the last failure row handled. */
    retryAfter: v.optional(v.number()),
    batchSize: v.number(),
    fixedBatchSize: v.optional(v.number()),
    onError: vOnError,
    journal: v.boolean(),
    args: v.object(vRunnerArgs),
    next: v.optional(
      v.array(v.object({ name: v.string(), fnHandle: v.string() })),
    ),
    startedAt: v.number(),
    endedAt: v.optional(v.number()),
    activeSince: v.number(),
    visitedBefore: v.number(),
    visited: v.number(),
    changed: v.number(),
    unchanged: v.number(),
    failed: v.number(),
    pendingFailures: v.number(),
    batches: v.number(),
    fieldChanges: vFieldCounts,
    samples: v.array(vSample),
    samplesWanted: v.number(),
    /** Documents failing in the batch being retried (cleared when it commits). */
    skipIds: v.array(v.string()),
    error: v.optional(v.string()),
    workerId: v.optional(v.id("_scheduled_functions")),
    span: v.optional(v.object({ first: v.number(), last: v.number() })),
    expectedTotal: v.optional(v.number()),
    /** Rollback runs: the run being undone. Migrate runs: set once undone. */
    target: v.optional(v.id("runs")),
    rolledBackBy: v.optional(v.id("runs")),
  })
    .index("by_name_and_kind", ["name", "kind"])
    .index("by_state", ["state"]),

  /** Per-batch accounting. */
  batches: defineTable({
    runId: v.id("runs"),
    size: v.number(),
    outcome: v.union(
      v.literal("committed"),
      v.literal("rolledBack"),
      v.literal("limit"),
    ),
    processed: v.number(),
    changed: v.number(),
    unchanged: v.number(),
    failed: v.number(),
    usage: v.optional(vBatchUsage),
  }).index("by_run", ["runId"]),

  /** Documents that failed in a run, with the reason; resolved by a later retry. */
  failures: defineTable({
    runId: v.id("runs"),
    docId: v.string(),
    message: v.string(),
    resolved: v.boolean(),
    attempts: v.number(),
  })
    .index("by_run_and_resolved", ["runId", "resolved"])
    .index("by_run_and_doc", ["runId", "docId"]),

  /** Prior values of changed fields, for runs with `journal: true`. */
  journal: defineTable({
    runId: v.id("runs"),
    docId: v.string(),
    prior: v.record(v.string(), v.any()),
    absent: v.array(v.string()),
  }).index("by_run", ["runId"]),

  /** The latest known checksum of each migration's code. */
  definitions: defineTable({
    name: v.string(),
    checksum: v.string(),
    table: v.string(),
    updatedAt: v.number(),
  }).index("by_name", ["name"]),
});
