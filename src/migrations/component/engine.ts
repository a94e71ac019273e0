/**
 * The run engine's dispatcher: `step` runs one batch of a run (a walk or a
 * rollback page), `scheduleNext` schedules the next, `cancelWorker` cancels
 * a scheduled one. The rest lives in one module per part of a run:
 *
 * - `limits.ts`: constants and the transaction limits a batch gets;
 * - `describe.ts`: asking the app's function who it is (op `describe`);
 * - `start.ts`: checking start arguments, `startRun`;
 * - `walk.ts`: one step of a real or dry run; `outcome.ts`: recording it;
 * - `end.ts`: shrinking, failing, finishing a walk, continuing a series;
 * - `rollbackStart.ts` and `rollback.ts`: starting and stepping a rollback.
 *
 * Every batch runs as a sub-transaction (`ctx.runMutation` on the app's
 * function handle) with tightened transaction limits, so a batch that is too
 * big or a document that fails rolls back alone while this transaction
 * survives to record what happened.
 *
 * `start.ts`, `rollbackStart.ts` and `runs.ts` import `step`,
 * `scheduleNext` or `cancelWorker` from here, and `step` leads back to them
 * (`walkStep` calls `startRun` when the range changed), so the imports form
 * cycles: no module in them uses an import at load time, only inside
 * functions (keep it so).
 */
import type { Doc, Id } from "./_generated/dataModel.js";
import { internal } from "./_generated/api.js";
import type { MutationCtx } from "./_generated/server.js";
import type { StepOutcome } from "./limits.js";
import { rollbackStep } from "./rollback.js";
import { walkStep } from "./walk.js";

export { MAX_FIELD_COUNTS } from "./limits.js";
export { capFieldCounts } from "./outcome.js";
export { describe } from "./describe.js";
export { startRun } from "./start.js";
export { startRollback } from "./rollbackStart.js";

/**
 * Runs one batch of `run` and records it. Returns "continue" when more work
 * remains (the caller schedules it) and "stopped" when the run ended.
 */
export async function step(
  ctx: MutationCtx,
  run: Doc<"runs">,
): Promise<StepOutcome> {
  if (run.kind === "rollback") return await rollbackStep(ctx, run);
  return await walkStep(ctx, run);
}

/** Schedules the run's next batch and remembers the worker. */
export async function scheduleNext(
  ctx: MutationCtx,
  runId: Id<"runs">,
): Promise<void> {
  const workerId = await ctx.scheduler.runAfter(0, internal.lib.runBatch, {
    runId,
  });
  await ctx.db.patch("runs", runId, { workerId });
}

/** Cancels a scheduled batch if it has not started. */
export async function cancelWorker(
  ctx: MutationCtx,
  workerId: Id<"_scheduled_functions">,
): Promise<void> {
  const worker = await ctx.db.system.get("_scheduled_functions", workerId);
  if (worker?.state.kind === "pending") await ctx.scheduler.cancel(workerId);
}
