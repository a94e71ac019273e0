/**
 * What a batch leaves behind: its counts, failures, journal rows and the
 * next batch size folded into the run, and the run's per-field counts kept
 * within bounds.
 */
import { getConvexSize } from "convex/values";
import { nextBatchSize } from "./batching.js";
import { addFieldCounts } from "../shared/diff.js";
import type { BatchResult } from "../shared/wire.js";
import type { Doc } from "./_generated/dataModel.js";
import type { MutationCtx } from "./_generated/server.js";
import { finishWalk, recordBatch } from "./end.js";
import {
  MAX_DRY_RUN_FAILURES,
  MAX_EFFECTIVE_BATCH_SIZE,
  MAX_FIELD_COUNTS,
  type StepOutcome,
} from "./limits.js";

/** Failure rows added in this transaction, folded into the run's counters. */
export type Tally = { added: number; reopened: number };

export async function applyBatch(
  ctx: MutationCtx,
  run: Doc<"runs">,
  result: BatchResult,
  skipIds: string[],
  retryPage: Doc<"failures">[],
  tally: Tally,
): Promise<StepOutcome> {
  const dryRun = run.kind === "dryRun";
  // Failures inside a result are a dry run's "would fail" documents.
  let dryRunFailures = 0;
  for (const f of result.failures) {
    if (run.failed + dryRunFailures < MAX_DRY_RUN_FAILURES)
      await recordFailure(ctx, run, f.id, f.message, {
        added: 0,
        reopened: 0,
      });
    dryRunFailures++;
  }
  dryRunFailures += result.moreFailures ?? 0;
  for (const entry of result.journal)
    await ctx.db.insert("journal", {
      runId: run._id,
      docId: entry.id,
      prior: entry.prior,
      absent: entry.absent,
    });
  let resolved = 0;
  if (run.phase === "retry") {
    const ok = new Set(result.succeeded);
    for (const f of retryPage)
      if (ok.has(f.docId)) {
        await ctx.db.patch("failures", f._id, { resolved: true });
        resolved++;
      }
  }
  const failedNow = tally.added + dryRunFailures;
  const journalBytes =
    result.journal.length > 0 ? getConvexSize(result.journal) : 0;
  const nextSize =
    run.fixedBatchSize !== undefined
      ? Math.min(run.batchSize, run.fixedBatchSize)
      : Math.min(
          MAX_EFFECTIVE_BATCH_SIZE,
          nextBatchSize(run.batchSize, result.processed, result.usage, {
            // The runner writes one journal row per changed document.
            documentsWritten: run.journal ? 1 : 0,
            bytesWritten:
              result.processed > 0 ? journalBytes / result.processed : 0,
          }),
        );
  const patch: Partial<Doc<"runs">> = {
    visited: run.visited + (run.phase === "walk" ? result.processed : 0),
    changed: run.changed + result.changed,
    unchanged: run.unchanged + result.unchanged,
    failed: run.failed + failedNow,
    pendingFailures:
      run.pendingFailures +
      (dryRun ? 0 : tally.added + tally.reopened) -
      resolved,
    batches: run.batches + 1,
    fieldChanges: capFieldCounts(
      addFieldCounts(run.fieldChanges, result.fieldChanges),
    ),
    samples: [...run.samples, ...result.samples].slice(0, run.samplesWanted),
    skipIds: [],
    batchSize: nextSize,
  };
  if (run.phase === "walk") patch.cursor = result.continueCursor;
  else patch.retryAfter = retryPage[retryPage.length - 1]._creationTime;
  await recordBatch(
    ctx,
    run,
    {
      outcome: dryRun ? "rolledBack" : "committed",
      processed: result.processed,
      changed: result.changed,
      unchanged: result.unchanged,
      failed: failedNow,
      usage: result.usage,
    },
    {
      processed: result.processed,
      changed: result.changed,
      unchanged: result.unchanged,
      failed: failedNow,
      skipped: skipIds.length,
      documentsRead: result.usage.documentsRead,
      documentsWritten: result.usage.documentsWritten,
      nextBatchSize: nextSize,
    },
  );
  await ctx.db.patch("runs", run._id, patch);
  const updated = (await ctx.db.get("runs", run._id))!;
  if (run.phase === "walk" && result.isDone)
    return await finishWalk(ctx, updated);
  return "continue";
}

/** The name under which fields past {@link MAX_FIELD_COUNTS} are summed. */
export const OTHER_FIELDS = "(other fields)";

/**
 * Keeps a run's per-field counts within {@link MAX_FIELD_COUNTS} entries
 * (Convex arrays hold 8,192 elements, a run row 1 MiB): the most frequent
 * fields stay, the rest are summed under {@link OTHER_FIELDS}.
 */
export function capFieldCounts(
  counts: Array<{ field: string; count: number }>,
): Array<{ field: string; count: number }> {
  if (counts.length <= MAX_FIELD_COUNTS) return counts;
  const ranked = [...counts].sort(
    (a, b) =>
      Number(a.field === OTHER_FIELDS) - Number(b.field === OTHER_FIELDS) ||
      b.count - a.count ||
      a.field.localeCompare(b.field),
  );
  const kept = ranked.slice(0, MAX_FIELD_COUNTS - 1);
  const other = ranked
    .slice(MAX_FIELD_COUNTS - 1)
    .reduce((n, c) => n + c.count, 0);
  return [...kept, { field: OTHER_FIELDS, count: other }].sort((a, b) =>
    a.field.localeCompare(b.field),
  );
}

/** Records a failed document; `tally` counts rows that became (or are newly) unresolved. */
export async function recordFailure(
  ctx: MutationCtx,
  run: Doc<"runs">,
  docId: string,
  message: string,
  tally: Tally,
): Promise<void> {
  const existing = await ctx.db
    .query("failures")
    .withIndex("by_run_and_doc", (q) =>
      q.eq("runId", run._id).eq("docId", docId),
    )
    .unique();
  if (existing) {
    if (existing.resolved) tally.reopened++;
    await ctx.db.patch("failures", existing._id, {
      message,
      resolved: false,
      attempts: existing.attempts + 1,
    });
    return;
  }
  await ctx.db.insert("failures", {
    runId: run._id,
    docId,
    message,
    resolved: false,
    attempts: 1,
  });
  tally.added++;
}
