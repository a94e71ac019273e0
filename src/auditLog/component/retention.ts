import { v } from "convex/values";
import { internalMutation, mutation, query } from "./_generated/server.js";
import { internal } from "./_generated/api.js";
import type { Doc } from "./_generated/dataModel.js";
import { opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { vRetentionRun, type RetentionRun } from "../validators.js";
import { sealBatch, setChainPoint } from "./chain.js";
import { MAX_ENTRIES_PER_OPERATION } from "./log.js";

/** Operations (and their entries) deleted per scheduled batch. */
const RETENTION_BATCH_OPERATIONS = 100;
const RETENTION_BATCH_ENTRIES = 2000;

function toRun(row: Doc<"retentionRuns">): RetentionRun {
  const { _id, _creationTime: _, ...rest } = row;
  return { runId: _id, ...rest };
}

/**
 * Starts a retention run deleting sealed operations older than `maxAgeMs`,
 * oldest first, in bounded scheduled batches. If a run is already going,
 * returns it instead of starting a second one.
 */
export const start = mutation({
  args: { maxAgeMs: v.number() },
  returns: v.object({ runId: v.string(), started: v.boolean() }),
  handler: async (ctx, { maxAgeMs }) => {
    if (!Number.isFinite(maxAgeMs) || maxAgeMs < 0)
      throw opskitError(
        "INVALID_ARGUMENT",
        `retention maxAgeMs must be a non-negative number; got ${maxAgeMs}`,
      );
    const running = await ctx.db
      .query("retentionRuns")
      .withIndex("by_status", (q) => q.eq("status", "running"))
      .first();
    if (running) return { runId: running._id, started: false };
    const now = Date.now();
    const runId = await ctx.db.insert("retentionRuns", {
      startedAt: now,
      cutoff: now - maxAgeMs,
      status: "running",
      batches: 0,
      deletedOperations: 0,
      deletedEntries: 0,
    });
    await ctx.scheduler.runAfter(0, internal.retention.runBatch, { runId });
    return { runId, started: true };
  },
});

/**
 * One retention batch: seals what is waiting (only sealed operations are
 * deleted, so the cut has a hash to anchor to), deletes up to a batch of the
 * oldest expired operations with their entries, moves the chain's tail
 * anchor to the last one deleted, and schedules the next batch or finishes.
 */
export const runBatch = internalMutation({
  args: { runId: v.id("retentionRuns") },
  returns: v.null(),
  handler: async (ctx, { runId }) => {
    const run = await ctx.db.get("retentionRuns", runId);
    if (!run || run.status !== "running") return null;
    await sealBatch(ctx);
    const tail = await ctx.db
      .query("chain")
      .withIndex("by_name", (q) => q.eq("name", "tail"))
      .unique();
    const ops = await ctx.db
      .query("operations")
      .withIndex("by_seq", (q) => q.gt("seq", tail?.seq ?? 0))
      .take(RETENTION_BATCH_OPERATIONS);
    let deletedOperations = 0;
    let deletedEntries = 0;
    let anchor: { seq: number; hash: string } | null = null;
    let reachedCutoff = ops.length < RETENTION_BATCH_OPERATIONS;
    for (const op of ops) {
      if (op.time >= run.cutoff) {
        reachedCutoff = true;
        break;
      }
      if (
        deletedEntries + op.entryCount > RETENTION_BATCH_ENTRIES &&
        deletedOperations > 0
      )
        break;
      const entries = await ctx.db
        .query("entries")
        .withIndex("by_operation", (q) => q.eq("operationId", op._id))
        .take(MAX_ENTRIES_PER_OPERATION + 1);
      for (const e of entries) await ctx.db.delete("entries", e._id);
      await ctx.db.delete("operations", op._id);
      deletedOperations += 1;
      deletedEntries += entries.length;
      anchor = { seq: op.seq!, hash: op.hash! };
    }
    if (anchor) await setChainPoint(ctx, "tail", anchor.seq, anchor.hash);
    // Finishing does not wait for sealing to catch up: under steady traffic it
    // never would. Expired operations still unsealed go in the next run.
    const done = reachedCutoff;
    const patch = {
      batches: run.batches + 1,
      deletedOperations: run.deletedOperations + deletedOperations,
      deletedEntries: run.deletedEntries + deletedEntries,
      ...(anchor ? { anchorSeq: anchor.seq, anchorHash: anchor.hash } : {}),
      ...(done ? { status: "done" as const, finishedAt: Date.now() } : {}),
    };
    await ctx.db.patch("retentionRuns", runId, patch);
    if (done)
      logEvent("auditLog.retention", {
        runId,
        cutoff: run.cutoff,
        batches: patch.batches,
        deletedOperations: patch.deletedOperations,
        deletedEntries: patch.deletedEntries,
        anchorSeq: anchor?.seq ?? run.anchorSeq ?? null,
      });
    else
      await ctx.scheduler.runAfter(0, internal.retention.runBatch, { runId });
    return null;
  },
});

/** The most recent retention runs, newest first. */
export const listRuns = query({
  args: { limit: v.optional(v.number()) },
  returns: v.array(vRetentionRun),
  handler: async (ctx, { limit }) => {
    const n = limit ?? 20;
    if (!Number.isInteger(n) || n < 1 || n > 100)
      throw opskitError(
        "INVALID_ARGUMENT",
        `limit must be an integer from 1 to 100; got ${n}`,
      );
    const rows = await ctx.db.query("retentionRuns").order("desc").take(n);
    return rows.map(toRun);
  },
});
