/**
 * The migrations component's functions (every registered function is here:
 * its file is its path, `components.migrations.lib.migrate`). Apps never
 * call these directly: the `Migrations` client does, passing function
 * handles of the app's migrations. The work is in helper modules: the run
 * engine (`engine.ts` and the modules it lists), `runs.ts`, `clear.ts`,
 * `status.ts`.
 */
import { omit } from "convex-helpers";
import { v } from "convex/values";
import { checkPageCursor } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import {
  vMigrationStatus,
  vOnError,
  vPendingMigration,
  vRunReport,
} from "../shared/wire.js";
import { internalMutation, mutation, query } from "./_generated/server.js";
import { clearRuns } from "./clear.js";
import {
  describe,
  scheduleNext,
  startRollback,
  startRun,
  step,
} from "./engine.js";
import {
  checkNames,
  failureView,
  latestOf,
  nothingToDo,
  pendingFor,
  runHistory,
  runIn,
  runToStop,
  sizeArg,
  statusesFor,
  stopRun,
} from "./runs.js";
import schema from "./schema.js";
import { runStatus } from "./status.js";

const vHandleRef = v.object({ name: v.string(), fnHandle: v.string() });

/**
 * Starts a migration, resumes it, or (when it is running, paused or already
 * complete) returns its status without doing anything.
 */
export const migrate = mutation({
  args: {
    name: v.string(),
    fnHandle: v.string(),
    cursor: v.optional(v.union(v.string(), v.null())),
    batchSize: v.optional(v.number()),
    oneBatchOnly: v.optional(v.boolean()),
    next: v.optional(v.array(vHandleRef)),
    dryRun: v.boolean(),
    reset: v.optional(v.boolean()),
    onError: v.optional(vOnError),
    journal: v.optional(v.boolean()),
  },
  returns: vMigrationStatus,
  handler: async (ctx, args) => {
    // A resume point is a continueCursor of an earlier batch; refuse a forged one before anything runs.
    checkPageCursor(args.cursor, "cursor");
    return await startRun(ctx, args);
  },
});

/** Runs the next batch of a run (scheduled by the run itself). */
export const runBatch = internalMutation({
  args: { runId: v.id("runs") },
  returns: v.null(),
  handler: async (ctx, { runId }) => {
    const run = await ctx.db.get("runs", runId);
    // Paused, canceled or superseded runs simply stop here.
    if (!run || run.state !== "running") return null;
    await ctx.db.patch("runs", runId, { workerId: undefined });
    if ((await step(ctx, run)) === "continue") await scheduleNext(ctx, runId);
    return null;
  },
});

/**
 * Status of the named migrations (latest real run each, or a newer dry run
 * in progress), or of the latest `limit` migrations (default 100, at most
 * 1,000, and what fits half the read limits): a bounded list, not paged.
 */
export const getStatus = query({
  args: {
    names: v.optional(v.array(v.string())),
    limit: v.optional(v.number()),
  },
  returns: v.array(vMigrationStatus),
  handler: async (ctx, args) => {
    if (args.names) checkNames(args.names);
    return await statusesFor(ctx, args.names, args.limit);
  },
});

/** The full report of a migration's latest run (or latest dry run), or null. */
export const getReport = query({
  args: {
    name: v.string(),
    dryRun: v.optional(v.boolean()),
    failureLimit: v.optional(v.number()),
  },
  returns: v.union(vRunReport, v.null()),
  handler: async (ctx, args) => {
    const run = await latestOf(ctx, args.name, args.dryRun);
    if (!run) return null;
    const failures = await ctx.db
      .query("failures")
      .withIndex("by_run_and_resolved", (q) => q.eq("runId", run._id))
      .take(sizeArg("failureLimit", args.failureLimit, 100, 0, 1000));
    return {
      status: await runStatus(ctx, run),
      fieldChanges: run.fieldChanges,
      samples: run.samples,
      failures: failures.map(failureView),
      journal: run.journal,
      rolledBack:
        run.rolledBackBy !== undefined &&
        (await ctx.db.get("runs", run.rolledBackBy))?.state === "success",
      args: run.args,
    };
  },
});

/**
 * Run history of a migration, newest first (real runs, dry runs and
 * rollbacks), at most `limit` runs (default 20, at most 200) and what fits
 * half the read limits: a bounded list, not paged.
 */
export const listRuns = query({
  args: { name: v.string(), limit: v.optional(v.number()) },
  returns: v.array(vMigrationStatus),
  handler: async (ctx, args) => await runHistory(ctx, args),
});

/**
 * Cancels a running or paused migration. Starting it again (without `reset`)
 * resumes from its last committed batch.
 */
export const cancel = mutation({
  args: { name: v.string() },
  returns: vMigrationStatus,
  handler: async (ctx, { name }) => {
    const run = await runToStop(ctx, name);
    if (run) return await stopRun(ctx, run, "canceled");
    return await nothingToDo(
      ctx,
      name,
      `${name} was not running; nothing to cancel.`,
    );
  },
});

/** Cancels every running or paused migration. */
export const cancelAll = mutation({
  args: {},
  returns: v.array(vMigrationStatus),
  handler: async (ctx) => {
    const out = [];
    for (const state of ["running", "paused"] as const) {
      const runs = await ctx.db
        .query("runs")
        .withIndex("by_state", (q) => q.eq("state", state))
        .take(100);
      for (const run of runs) out.push(await stopRun(ctx, run, "canceled"));
    }
    return out;
  },
});

/**
 * Pauses a running migration after its current batch. Unlike a canceled one,
 * a paused migration is not resumed by a plain start or by `runPending`:
 * only `resume` continues it.
 */
export const pause = mutation({
  args: { name: v.string() },
  returns: vMigrationStatus,
  handler: async (ctx, { name }) => {
    // A running run is paused even when another of its kinds is paused.
    const run =
      (await runIn(ctx, name, "running")) ?? (await runToStop(ctx, name));
    if (run?.state === "running") return await stopRun(ctx, run, "paused");
    return await nothingToDo(
      ctx,
      name,
      run
        ? `${name} is already paused.`
        : `${name} is not running; nothing to pause.`,
      run,
    );
  },
});

/** Resumes a paused migration from where it stopped. */
export const resume = mutation({
  args: { name: v.string() },
  returns: vMigrationStatus,
  handler: async (ctx, { name }) => {
    // A paused run is resumed even when another of its kinds is running
    // (a dry run next to a paused rollback).
    const run =
      (await runIn(ctx, name, "paused")) ?? (await runToStop(ctx, name));
    if (!run || run.state !== "paused")
      return await nothingToDo(ctx, name, `${name} is not paused.`, run);
    const now = Date.now();
    await ctx.db.patch("runs", run._id, {
      state: "running",
      activeSince: now,
      visitedBefore: run.visited,
    });
    await scheduleNext(ctx, run._id);
    logEvent("migrations.resume", { name, runId: run._id, cursor: run.cursor });
    return await runStatus(ctx, (await ctx.db.get("runs", run._id))!);
  },
});

/** Restores the prior values journaled by the latest run of a migration. */
export const rollback = mutation({
  args: { name: v.string() },
  returns: vMigrationStatus,
  handler: async (ctx, { name }) => await startRollback(ctx, name),
});

/**
 * Per-batch accounting of the latest real (or dry) run, oldest batch first:
 * its first `limit` batches (default 100, at most 1,000), a bounded list,
 * not paged.
 */
export const listBatches = query({
  args: {
    name: v.string(),
    dryRun: v.optional(v.boolean()),
    limit: v.optional(v.number()),
  },
  // A `batches` row without its run id (the schema's fields, not a copy).
  returns: v.array(
    v.object(omit(schema.tables.batches.validator.fields, ["runId"])),
  ),
  handler: async (ctx, args) => {
    const run = await latestOf(ctx, args.name, args.dryRun);
    if (!run) return [];
    const rows = await ctx.db
      .query("batches")
      .withIndex("by_run", (q) => q.eq("runId", run._id))
      .take(sizeArg("limit", args.limit, 100, 1, 1000));
    return rows.map(
      ({ _id: _i, _creationTime: _c, runId: _r, ...batch }) => batch,
    );
  },
});

/**
 * Documents that failed in the latest real (or dry) run of a migration: at
 * most `limit` (default 100, at most 1,000), a bounded list, not paged.
 */
export const listFailures = query({
  args: {
    name: v.string(),
    dryRun: v.optional(v.boolean()),
    includeResolved: v.optional(v.boolean()),
    limit: v.optional(v.number()),
  },
  // The report's failure list (one validator for both).
  returns: vRunReport.fields.failures,
  handler: async (ctx, args) => {
    const run = await latestOf(ctx, args.name, args.dryRun);
    if (!run) return [];
    const rows = await ctx.db
      .query("failures")
      .withIndex("by_run_and_resolved", (q) =>
        args.includeResolved
          ? q.eq("runId", run._id)
          : q.eq("runId", run._id).eq("resolved", false),
      )
      .take(sizeArg("limit", args.limit, 100, 1, 1000));
    return rows.map(failureView);
  },
});

/**
 * The named migrations that are not complete (or whose code changed since
 * they completed, as last seen by a run or `runPending`).
 */
export const listPending = query({
  args: { names: v.array(v.string()) },
  returns: v.array(vPendingMigration),
  handler: async (ctx, { names }) => {
    checkNames(names);
    return await pendingFor(ctx, names);
  },
});

/**
 * Idempotent deploy hook: refreshes each migration's code checksum, then, if
 * none of them is running, starts the incomplete ones as one series (in the
 * given order). Paused migrations and completed ones whose code changed are
 * reported, never started.
 */
export const runPending = mutation({
  args: {
    migrations: v.array(vHandleRef),
    batchSize: v.optional(v.number()),
    dryRun: v.optional(v.boolean()),
  },
  returns: v.object({
    started: v.union(v.string(), v.null()),
    pending: v.array(vPendingMigration),
  }),
  handler: async (ctx, args) => {
    checkNames(args.migrations.map((m) => m.name));
    for (const m of args.migrations) await describe(ctx, m.name, m.fnHandle);
    const pending = await pendingFor(
      ctx,
      args.migrations.map((m) => m.name),
    );
    const result = { started: null as string | null, pending };
    if (args.dryRun || pending.some((p) => p.reason === "inProgress")) {
      logEvent("migrations.pending", {
        pending: pending.map((p) => `${p.name}:${p.reason}`),
        started: null,
      });
      return result;
    }
    const runnable = new Set(
      pending
        .filter((p) => p.reason !== "paused" && p.reason !== "codeChanged")
        .map((p) => p.name),
    );
    const series = args.migrations.filter((m) => runnable.has(m.name));
    if (series.length > 0) {
      const [first, ...rest] = series;
      await startRun(ctx, {
        name: first.name,
        fnHandle: first.fnHandle,
        dryRun: false,
        ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
        ...(rest.length ? { next: rest } : {}),
      });
      result.started = first.name;
    }
    logEvent("migrations.pending", {
      pending: pending.map((p) => `${p.name}:${p.reason}`),
      started: result.started,
    });
    return result;
  },
});

/**
 * Deletes the history of finished runs created before `before` (default:
 * now), with their batches, failures and journal, continuing in scheduled
 * transactions when there is more. Running and paused runs are kept, as are
 * the runs an unfinished rollback restores from, and the code checksums.
 * Each transaction sizes its work by the bytes and documents it has read
 * and written (rows of any size fit), and deletes at least one row, so it
 * always progresses. A rollback that stopped half way keeps its runs and
 * journal until it is finished (run rollback again) or superseded. Same name as `@convex-dev/migrations`' `clearAll`.
 */
export const clearAll = mutation({
  args: { before: v.optional(v.number()) },
  returns: v.null(),
  handler: async (ctx, args) => await clearRuns(ctx, args),
});
