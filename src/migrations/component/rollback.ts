/**
 * One step of a rollback: a page of the target run's journal restored
 * through the app's function. Imports no start code (`rollbackStart.ts`
 * does), so the walk and the rollback share only `limits.ts` and `end.ts`.
 */
import { getConvexSize } from "convex/values";
import { errorMessage } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { isLimitError } from "./batching.js";
import type { Doc } from "./_generated/dataModel.js";
import type { MutationCtx } from "./_generated/server.js";
import { fail, shrink } from "./end.js";
import {
  type AppResult,
  batchLimits,
  JOURNAL_BYTES,
  type MigrationHandle,
  type StepOutcome,
} from "./limits.js";

export function pickRunBase(target: Doc<"runs">) {
  return {
    name: target.name,
    fnHandle: target.fnHandle,
    checksum: target.checksum,
    table: target.table,
    ...(target.range !== undefined ? { range: target.range } : {}),
    onError: target.onError,
  };
}

/** Restores one page of journal entries through the app's function. */
export async function rollbackStep(
  ctx: MutationCtx,
  run: Doc<"runs">,
): Promise<StepOutcome> {
  const target = run.target!;
  // Journal rows may be large (up to a document each): the page is cut by
  // bytes as well as by count, and always holds at least one row.
  const page: Doc<"journal">[] = [];
  let pageBytes = 0;
  for await (const row of ctx.db.query("journal").withIndex("by_run", (q) => {
    const r = q.eq("runId", target);
    return run.retryAfter === undefined
      ? r
      : r.gt("_creationTime", run.retryAfter);
  })) {
    page.push(row);
    pageBytes += getConvexSize(row);
    if (page.length >= run.batchSize || pageBytes >= JOURNAL_BYTES) break;
  }
  if (page.length === 0) {
    const now = Date.now();
    await ctx.db.patch("runs", run._id, {
      state: "success",
      endedAt: now,
      workerId: undefined,
    });
    await ctx.db.patch("runs", target, { rolledBackBy: run._id });
    logEvent("migrations.complete", {
      name: run.name,
      runId: run._id,
      rollback: true,
      restored: run.changed,
      missing: run.unchanged,
      durationMs: now - run.startedAt,
    });
    return "stopped";
  }
  let result: AppResult;
  try {
    result = await ctx.runMutation(
      run.fnHandle as MigrationHandle,
      {
        oneBatchOnly: true,
        op: "restore",
        ...(run.range !== undefined ? { expectRange: run.range } : {}),
        entries: page.map((e) => ({
          id: e.docId,
          prior: e.prior,
          absent: e.absent,
        })),
      },
      {
        transactionLimits: await batchLimits(
          ctx,
          run,
          { functions: 0, argsBytes: 0 },
          { functions: 0, argsBytes: 0, maxFunctions: 0 },
        ),
      },
    );
  } catch (e) {
    const message = errorMessage(e);
    if (isLimitError(message)) return await shrink(ctx, run, message);
    return await fail(ctx, run, `Rollback failed: ${message}`);
  }
  if (result.kind !== "restore")
    return await fail(ctx, run, `Unexpected ${result.kind} result`);
  await ctx.db.patch("runs", run._id, {
    retryAfter: page[page.length - 1]._creationTime,
    visited: run.visited + page.length,
    changed: run.changed + result.restored,
    unchanged: run.unchanged + result.missing,
    batches: run.batches + 1,
  });
  logEvent("migrations.batch", {
    name: run.name,
    runId: run._id,
    rollback: true,
    restored: result.restored,
    missing: result.missing,
  });
  return "continue";
}
