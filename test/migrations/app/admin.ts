// convex/admin.ts
import { v } from "convex/values";
import { internal } from "./_generated/api.js";
import { mutation, query } from "./_generated/server.js";
import { migrations } from "./migrations.js";

export const progress = query({
  args: {},
  returns: v.object({
    state: v.string(),
    percent: v.optional(v.number()),
    etaMs: v.optional(v.number()),
    warnings: v.array(v.string()),
  }),
  handler: async (ctx) => {
    const [status] = await migrations.getStatus(ctx, {
      migrations: [internal.migrations.setDefault],
    });
    return {
      state: status.state,
      percent: status.percent,
      etaMs: status.etaMs,
      warnings: status.warnings,
    };
  },
});

export const dryRunReport = query({
  args: {},
  returns: v.union(
    v.null(),
    v.object({
      visited: v.number(),
      wouldChange: v.number(),
      unchanged: v.number(),
      wouldFail: v.array(v.object({ id: v.string(), message: v.string() })),
      fields: v.array(v.object({ field: v.string(), count: v.number() })),
    }),
  ),
  handler: async (ctx) => {
    const report = await migrations.getReport(
      ctx,
      internal.migrations.setDefault,
      { dryRun: true },
    );
    if (report === null) return null;
    return {
      visited: report.status.processed,
      wouldChange: report.status.changed,
      unchanged: report.status.unchanged,
      wouldFail: report.failures.map(({ id, message }) => ({ id, message })),
      fields: report.fieldChanges,
    };
  },
});

export const pauseBackfill = mutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await migrations.pause(ctx, internal.migrations.backfillEmail);
    return null;
  },
});

export const resumeBackfill = mutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await migrations.resume(ctx, internal.migrations.backfillEmail);
    return null;
  },
});

export const undoBackfill = mutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await migrations.rollback(ctx, internal.migrations.backfillEmail);
    return null;
  },
});
