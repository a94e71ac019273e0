/**
 * How a step ends a run or its batch: shrink the batch after a limit error,
 * fail the run, finish the walk (retry pass, success, failure with pending
 * documents) and go on with the series.
 */
import { logEvent } from "../../shared/log.js";
import { halve } from "./batching.js";
import { api } from "./_generated/api.js";
import type { Doc } from "./_generated/dataModel.js";
import type { MutationCtx } from "./_generated/server.js";
import type { StepOutcome } from "./limits.js";
import { latestRun } from "./status.js";

/**
 * The `batches` row of an attempt at `run`'s current batch size, and its
 * `migrations.batch` log line (`log` adds to the run's name, id, dry-run
 * flag, phase and batch size).
 */
export async function recordBatch(
  ctx: MutationCtx,
  run: Doc<"runs">,
  row: Omit<Doc<"batches">, "_id" | "_creationTime" | "runId" | "size">,
  log: Record<string, unknown>,
): Promise<void> {
  await ctx.db.insert("batches", {
    runId: run._id,
    size: run.batchSize,
    ...row,
  });
  logEvent("migrations.batch", {
    name: run.name,
    runId: run._id,
    dryRun: run.kind === "dryRun",
    phase: run.phase,
    batchSize: run.batchSize,
    ...log,
  });
}

/** A batch hit a transaction limit: halve the batch and retry in a new transaction. */
export async function shrink(
  ctx: MutationCtx,
  run: Doc<"runs">,
  message: string,
): Promise<StepOutcome> {
  if (run.batchSize <= 1)
    return await fail(
      ctx,
      run,
      `A single document exceeds Convex's transaction limits: ${message}`,
    );
  const size = halve(run.batchSize);
  await recordBatch(
    ctx,
    run,
    { outcome: "limit", processed: 0, changed: 0, unchanged: 0, failed: 0 },
    { outcome: "limit", nextBatchSize: size, error: message },
  );
  await ctx.db.patch("runs", run._id, {
    batchSize: size,
    ...(run.fixedBatchSize !== undefined ? { fixedBatchSize: size } : {}),
  });
  return "continue";
}

/** Ends a run as failed; it resumes from its last committed batch when started again. */
export async function fail(
  ctx: MutationCtx,
  run: Doc<"runs">,
  error: string,
  details: Record<string, string> = {},
): Promise<StepOutcome> {
  await ctx.db.patch("runs", run._id, {
    state: "failed",
    error: error.slice(0, 2_000),
    endedAt: Date.now(),
    workerId: undefined,
  });
  logEvent("migrations.fail", {
    name: run.name,
    runId: run._id,
    dryRun: run.kind === "dryRun",
    error,
    cursor: run.cursor,
    ...details,
  });
  return "stopped";
}

/** The walk (or retry pass) reached the end: complete, or fail with pending failures. */
export async function finishWalk(
  ctx: MutationCtx,
  run: Doc<"runs">,
): Promise<StepOutcome> {
  if (
    run.kind === "migrate" &&
    run.pendingFailures > 0 &&
    run.phase === "walk" &&
    run.retryOnFinish
  ) {
    // Resumed after failures (perhaps with fixed code) and the walk just
    // ended: retry them now rather than failing and needing another start.
    await ctx.db.patch("runs", run._id, {
      phase: "retry",
      retryAfter: undefined,
      retryOnFinish: undefined,
    });
    return "continue";
  }
  if (run.kind === "migrate" && run.pendingFailures > 0) {
    await ctx.db.patch("runs", run._id, { phase: "retry" });
    return await fail(
      ctx,
      { ...run, phase: "retry" },
      `${run.pendingFailures} document(s) failed and were skipped; fix migrateOne and run the migration again to retry only them.`,
      { pendingFailures: String(run.pendingFailures) },
    );
  }
  const now = Date.now();
  await ctx.db.patch("runs", run._id, {
    state: "success",
    endedAt: now,
    workerId: undefined,
    error: undefined,
  });
  logEvent("migrations.complete", {
    name: run.name,
    runId: run._id,
    dryRun: run.kind === "dryRun",
    visited: run.visited,
    changed: run.changed,
    unchanged: run.unchanged,
    failed: run.failed,
    batches: run.batches,
    durationMs: now - run.startedAt,
  });
  await startSeriesNext(ctx, run);
  return "stopped";
}

/** Schedules the first migration in `run.next` that is not complete. */
async function startSeriesNext(
  ctx: MutationCtx,
  run: Doc<"runs">,
): Promise<void> {
  if (run.kind === "rollback") return;
  await continueSeries(ctx, run.next ?? [], run.kind, run.args.reset === true);
}

/** Starts the first of `next` that is not complete, handing it the rest. */
export async function continueSeries(
  ctx: MutationCtx,
  next: Array<{ name: string; fnHandle: string }>,
  kind: "migrate" | "dryRun",
  reset: boolean,
): Promise<void> {
  for (let i = 0; i < next.length; i++) {
    const prev = await latestRun(ctx, next[i].name, kind);
    if (
      kind === "migrate" &&
      !reset &&
      prev?.state === "success" &&
      !prev.rolledBackBy
    )
      continue;
    await ctx.scheduler.runAfter(0, api.lib.migrate, {
      name: next[i].name,
      fnHandle: next[i].fnHandle,
      next: next.slice(i + 1),
      dryRun: kind === "dryRun",
      ...(reset ? { reset: true } : {}),
    });
    return;
  }
}
