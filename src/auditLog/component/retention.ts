import { v } from "convex/values";
import { internalMutation, mutation, query } from "./_generated/server.js";
import { internal } from "./_generated/api.js";
import type { Doc } from "./_generated/dataModel.js";
import { opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { vRetentionRun, type RetentionRun } from "../shared/validators.js";
import { sealBatch } from "./sealing.js";
import { setChainPoint } from "./chainCheck.js";
import {
  INLINE_ENTRY_BYTES,
  JOB_READ_BYTES,
  SNAPSHOT_PART_BYTES,
} from "../shared/snapshot.js";
import { Budget } from "./storage.js";

/** Operations cut per batch at most (the byte budget usually binds first for large ones). */
const RETENTION_BATCH_OPERATIONS = 100;

function toRun(row: Doc<"retentionRuns">): RetentionRun {
  const { _id, _creationTime: _, cleanup: __, ...rest } = row;
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
 * deleted, so the cut has a hash to anchor to), then deletes the oldest
 * expired operations. An operation is cut from the chain first (the tail
 * anchor moves to it and its row is deleted), then its entries and then
 * their snapshot parts are deleted, as many per batch as the byte budget allows
 * (`cleanup` remembers an operation whose rows are still going). Every batch
 * does at least one unit of work, so a run always finishes; it schedules
 * the next batch or finishes.
 */
export const runBatch = internalMutation({
  args: { runId: v.id("retentionRuns") },
  returns: v.null(),
  handler: async (ctx, { runId }) => {
    const run = await ctx.db.get("retentionRuns", runId);
    if (!run || run.status !== "running") return null;
    const budget = new Budget(ctx, JOB_READ_BYTES);
    budget.chargeRow(run);
    await sealBatch(ctx, budget);
    const tailRow = await ctx.db
      .query("chain")
      .withIndex("by_name", (q) => q.eq("name", "tail"))
      .unique();
    let tailSeq = tailRow?.seq ?? 0;
    let cleanup = run.cleanup;
    let deletedOperations = 0;
    let deletedEntries = 0;
    let units = 0;
    let anchor: { seq: number; hash: string } | null = null;
    let reachedCutoff = false;
    const mayDo = async (bytes: number) =>
      units === 0 ? budget.fitsTransaction(bytes) : budget.fits(bytes);
    work: for (;;) {
      if (cleanup !== undefined) {
        const operationId = cleanup;
        // Entries first: an entry still listed can still load its parts.
        for (;;) {
          const entries = await ctx.db
            .query("entries")
            .withIndex("by_operation", (q) => q.eq("operationId", operationId))
            .take(64);
          if (entries.length === 0) break;
          for (const e of entries) {
            if (!(await mayDo(INLINE_ENTRY_BYTES))) break work;
            budget.chargeRow(e);
            await ctx.db.delete("entries", e._id);
            deletedEntries += 1;
            units += 1;
          }
        }
        for (;;) {
          const parts = await ctx.db
            .query("snapshots")
            .withIndex("by_owner", (q) => q.eq("operationId", operationId))
            .take(1);
          if (parts.length === 0) break;
          for (const p of parts) {
            if (!(await mayDo(SNAPSHOT_PART_BYTES))) break work;
            budget.chargeRow(p);
            await ctx.db.delete("snapshots", p._id);
            units += 1;
          }
        }
        cleanup = undefined;
      }
      const op = await ctx.db
        .query("operations")
        .withIndex("by_seq", (q) => q.gt("seq", tailSeq))
        .first();
      if (!op || op.time >= run.cutoff) {
        // Finishing does not wait for sealing to catch up: under steady
        // traffic it never would. Expired operations still unsealed go in
        // the next run.
        reachedCutoff = true;
        break;
      }
      budget.chargeRow(op);
      if (
        units > 0 &&
        (deletedOperations >= RETENTION_BATCH_OPERATIONS ||
          !(await budget.fits(0)))
      )
        break;
      anchor = { seq: op.seq!, hash: op.hash! };
      tailSeq = anchor.seq;
      await ctx.db.delete("operations", op._id);
      deletedOperations += 1;
      units += 1;
      cleanup = op._id;
    }
    if (anchor) await setChainPoint(ctx, "tail", anchor.seq, anchor.hash);
    const done = reachedCutoff && cleanup === undefined;
    const patch = {
      batches: run.batches + 1,
      deletedOperations: run.deletedOperations + deletedOperations,
      deletedEntries: run.deletedEntries + deletedEntries,
      ...(anchor ? { anchorSeq: anchor.seq, anchorHash: anchor.hash } : {}),
      ...(done ? { status: "done" as const, finishedAt: Date.now() } : {}),
      // undefined removes the field once the operation's rows are gone.
      cleanup,
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
