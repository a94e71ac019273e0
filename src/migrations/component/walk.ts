/**
 * One step of a real or dry run: a page of the table (or of unresolved
 * failures) through the app's function, with failing documents recorded and
 * left out, limit errors shrinking the batch, and a changed range
 * restarting the walk.
 */
import { ConvexError } from "convex/values";
import { errorMessage, isOpskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { requireTransactionMetrics } from "../../shared/meta.js";
import { isLimitError } from "./batching.js";
import {
  type BatchResult,
  type MigrationArgs,
  type MigrationStatus,
  PROTOCOL,
} from "../shared/wire.js";
import type { Doc, Id } from "./_generated/dataModel.js";
import type { MutationCtx } from "./_generated/server.js";
import { fail, finishWalk, recordBatch, shrink } from "./end.js";
import { scheduleNext } from "./engine.js";
import {
  batchLimits,
  JOURNAL_BYTES,
  MAX_EFFECTIVE_BATCH_SIZE,
  MAX_SKIP_IDS,
  MAX_SKIPS_PER_TRANSACTION,
  type MigrationHandle,
  type Spent,
  type StepOutcome,
} from "./limits.js";
import { applyBatch, recordFailure, type Tally } from "./outcome.js";
import { startRun } from "./start.js";

function errorData(e: unknown): Record<string, unknown> | undefined {
  if (!(e instanceof ConvexError)) return undefined;
  const data = e.data as unknown;
  return data && typeof data === "object"
    ? (data as Record<string, unknown>)
    : undefined;
}

/**
 * Runs one batch of a real or dry run (walk or retry phase) and records it.
 * Returns "continue" when more work remains (the caller schedules it) and
 * "stopped" when the run ended.
 */
export async function walkStep(
  ctx: MutationCtx,
  run: Doc<"runs">,
): Promise<StepOutcome> {
  const dryRun = run.kind === "dryRun";
  const skipIds = [...run.skipIds];
  if (skipIds.length >= MAX_SKIP_IDS && run.batchSize > MAX_SKIP_IDS) {
    // So many failing documents in one page that the list of documents to
    // leave out nears Convex's array limit: walk smaller pages instead.
    await ctx.db.patch("runs", run._id, {
      batchSize: MAX_SKIP_IDS,
      ...(run.fixedBatchSize !== undefined
        ? { fixedBatchSize: MAX_SKIP_IDS }
        : {}),
    });
    return "continue";
  }
  const tally: Tally = { added: 0, reopened: 0 };
  let retryPage: Doc<"failures">[] = [];
  const args: MigrationArgs = {
    oneBatchOnly: true,
    dryRun,
    batchSize: run.batchSize,
    samples: Math.max(0, run.samplesWanted - run.samples.length),
    journal: run.journal,
    ...(run.journal ? { journalBytes: JOURNAL_BYTES } : {}),
    ...(run.range !== undefined ? { expectRange: run.range } : {}),
  };
  if (run.phase === "walk") {
    args.op = "batch";
    args.cursor = run.cursor;
  } else {
    retryPage = await ctx.db
      .query("failures")
      .withIndex("by_run_and_resolved", (q) => {
        const r = q.eq("runId", run._id).eq("resolved", false);
        return run.retryAfter === undefined
          ? r
          : r.gt("_creationTime", run.retryAfter);
      })
      .take(Math.min(run.batchSize, MAX_EFFECTIVE_BATCH_SIZE));
    if (retryPage.length === 0) return await finishWalk(ctx, run);
    args.op = "retry";
    args.ids = retryPage.map((f) => f.docId);
  }
  const before = await requireTransactionMetrics(ctx);
  const base = {
    functions: before.functionsScheduled?.used ?? 0,
    argsBytes: before.scheduledFunctionArgsBytes?.used ?? 0,
  };
  const spent: Spent = { functions: 0, argsBytes: 0, maxFunctions: 0 };
  let result: BatchResult | undefined;
  let skippedNow = 0;
  // Keeps the failures found so far and goes on in a fresh transaction.
  const yieldWithSkips = async () => {
    await ctx.db.patch("runs", run._id, {
      skipIds,
      failed: run.failed + tally.added,
      pendingFailures:
        run.pendingFailures + (dryRun ? 0 : tally.added + tally.reopened),
    });
    await recordBatch(
      ctx,
      run,
      {
        outcome: "rolledBack",
        processed: 0,
        changed: 0,
        unchanged: 0,
        failed: skippedNow,
      },
      {
        outcome: "rolledBack",
        failed: skippedNow,
        skipped: skipIds.length,
        functionsScheduledRolledBack: spent.functions,
      },
    );
    return "continue" as const;
  };
  while (result === undefined) {
    args.skipIds = skipIds;
    const limits = await batchLimits(ctx, run, base, spent);
    if (
      spent.maxFunctions > 0 &&
      (limits.functionsScheduled ?? Infinity) < spent.maxFunctions
    )
      // Earlier attempts used up the scheduling budget (rolled back, but
      // spent in production): another attempt might not fit.
      return await yieldWithSkips();
    try {
      const out = await ctx.runMutation(run.fnHandle as MigrationHandle, args, {
        transactionLimits: limits,
      });
      if (out.kind !== "batch")
        throw new Error(`Unexpected ${out.kind} result from ${run.name}`);
      result = out;
    } catch (e) {
      const data = errorData(e);
      if (data?.kind === PROTOCOL.dryRun) {
        result = (data as { result: BatchResult }).result;
        break;
      }
      if (data?.kind === PROTOCOL.rangeChanged)
        return await restartWalk(ctx, run, errorMessage(e));
      const message = errorMessage(e);
      if (data?.kind === PROTOCOL.limit || isLimitError(message))
        return await shrink(ctx, run, message);
      const docId =
        isOpskitError(e, "MIGRATION_FAILED") && typeof e.data.docId === "string"
          ? e.data.docId
          : undefined;
      if (docId === undefined || skipIds.includes(docId))
        return await fail(ctx, run, `Batch failed: ${message}`);
      // A dry run reports every document that would fail; the app side
      // throws MIGRATION_FAILED in a dry run only for a document whose
      // writes it could not undo in place, to run the batch again without it.
      if (run.onError === "stop" && !dryRun)
        return await fail(
          ctx,
          run,
          `Document ${docId} failed: ${message} (onError: "stop"; the batch was rolled back, resume to retry from it)`,
          { docId },
        );
      const scheduledNow =
        typeof data?.functionsScheduled === "number"
          ? data.functionsScheduled
          : 0;
      spent.functions += scheduledNow;
      spent.maxFunctions = Math.max(spent.maxFunctions, scheduledNow);
      if (typeof data?.scheduledFunctionArgsBytes === "number")
        spent.argsBytes += data.scheduledFunctionArgsBytes;
      await recordFailure(ctx, run, docId, message, tally);
      skipIds.push(docId);
      skippedNow++;
      // Too many bad documents for one transaction: keep them and go on in
      // a fresh transaction rather than re-reading the page here again.
      if (
        skippedNow >= MAX_SKIPS_PER_TRANSACTION ||
        skipIds.length >= MAX_SKIP_IDS
      )
        return await yieldWithSkips();
    }
  }
  return await applyBatch(ctx, run, result, skipIds, retryPage, tally);
}

/**
 * The definition's table or range changed under a run: its cursor (and its
 * failed ids) belong to the old range, so resuming would skip documents.
 * The run ends as canceled and a fresh walk of the new range starts in the
 * same transaction, so it is at once visible to `cancel` and `pause` (a
 * start scheduled for later ran even after the migration was canceled).
 * When the new walk cannot start (the function is gone, a rollback is
 * unfinished), the run ends as failed with the reason.
 */
async function restartWalk(
  ctx: MutationCtx,
  run: Doc<"runs">,
  message: string,
): Promise<StepOutcome> {
  await ctx.db.patch("runs", run._id, {
    state: "canceled",
    endedAt: Date.now(),
    workerId: undefined,
    error: `Superseded: ${message} The walk restarted from the beginning in a new run.`,
  });
  logEvent("migrations.restart", {
    name: run.name,
    runId: run._id,
    dryRun: run.kind === "dryRun",
    reason: "rangeChanged",
    cursor: run.cursor,
    visited: run.visited,
  });
  let restarted: MigrationStatus;
  try {
    restarted = await startRun(ctx, {
      name: run.name,
      fnHandle: run.fnHandle,
      dryRun: run.kind === "dryRun",
      oneBatchOnly: true,
      ...(run.next?.length ? { next: run.next } : {}),
      ...(run.args.onError ? { onError: run.args.onError } : {}),
      ...(run.args.journal !== undefined ? { journal: run.args.journal } : {}),
      ...(run.fixedBatchSize !== undefined && run.args.batchSize !== undefined
        ? { batchSize: run.args.batchSize }
        : {}),
    });
  } catch (e) {
    return await fail(
      ctx,
      run,
      `Superseded: ${message} A new walk could not start: ${errorMessage(e)}`,
    );
  }
  const next = restarted.runId
    ? await ctx.db.get("runs", restarted.runId as Id<"runs">)
    : null;
  if (next?.state === "running" && !next.workerId)
    await scheduleNext(ctx, next._id);
  return "stopped";
}
