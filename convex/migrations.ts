import { v } from "convex/values";
import { Migrations } from "convex-opskit/migrations";
import { components, internal } from "./_generated/api";
import type { DataModel } from "./_generated/dataModel";
import { internalMutation } from "./_generated/server";
import { userQuery } from "./authz";
import { countWords } from "./posts";

export const migrations = new Migrations<DataModel>(components.migrations, {
  internalMutation,
});

/** The schema is widening to `posts.wordCount`: fill it in for posts written before. */
export const backfillWordCount = migrations.define({
  table: "posts",
  migrateOne: (_ctx, post) =>
    post.wordCount === undefined
      ? { wordCount: countWords(post.body) }
      : undefined,
  verify: (post) =>
    post.wordCount !== undefined || "wordCount is still missing",
});

/** `npx convex run migrations:run '{"fn":"migrations:backfillWordCount","dryRun":true}'` */
export const run = migrations.runner();

const all = [internal.migrations.backfillWordCount];

/** Opt-in deploy gating: `npx convex deploy && npx convex run migrations:runPending`. */
export const runPending = migrations.pendingRunner(all);

/** Migrations that are not complete: `npx convex run migrations:pending`. */
export const pending = migrations.pendingQuery(all);

/** Progress of the backfill for the admin screen. */
export const status = userQuery({
  permission: "migrations.run",
  args: {},
  returns: v.object({
    state: v.string(),
    processed: v.number(),
    changed: v.number(),
    percent: v.optional(v.number()),
    etaMs: v.optional(v.number()),
    warnings: v.array(v.string()),
  }),
  handler: async (ctx) => {
    const [s] = await migrations.getStatus(ctx, { migrations: all });
    return {
      state: s.state,
      processed: s.processed,
      changed: s.changed,
      percent: s.percent,
      etaMs: s.etaMs,
      warnings: s.warnings,
    };
  },
});

/** The stored dry-run report of the backfill: what would change, and what would fail. */
export const dryRunReport = userQuery({
  permission: "migrations.run",
  args: {},
  returns: v.union(
    v.null(),
    v.object({
      visited: v.number(),
      wouldChange: v.number(),
      unchanged: v.number(),
      wouldFail: v.number(),
      fields: v.array(v.object({ field: v.string(), count: v.number() })),
      samples: v.array(v.object({ before: v.any(), after: v.any() })),
    }),
  ),
  handler: async (ctx) => {
    const report = await migrations.getReport(
      ctx,
      internal.migrations.backfillWordCount,
      { dryRun: true },
    );
    if (report === null) return null;
    return {
      visited: report.status.processed,
      wouldChange: report.status.changed,
      unchanged: report.status.unchanged,
      wouldFail: report.failures.length,
      fields: report.fieldChanges,
      samples: report.samples.map((s) => ({
        before: s.before,
        after: s.after,
      })),
    };
  },
});
