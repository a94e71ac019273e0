/**
 * What `clearAll` must keep: the runs an unfinished rollback restores from,
 * and both runs of a rollback that stopped half way.
 */
import type { Doc } from "./_generated/dataModel.js";
import type { MutationCtx } from "./_generated/server.js";
import { latestRun } from "./status.js";

/**
 * The runs an unfinished rollback still needs (its journal): never cleared.
 */
export async function neededByRollbacks(
  ctx: MutationCtx,
): Promise<Set<string>> {
  const needed = new Set<string>();
  for (const state of ["running", "paused"] as const)
    for (const run of await ctx.db
      .query("runs")
      .withIndex("by_state", (q) => q.eq("state", state))
      .take(1000))
      if (run.kind === "rollback" && run.target) needed.add(run.target);
  return needed;
}

/**
 * Whether `run` belongs to a rollback that stopped half way (canceled or
 * failed) of its migration's latest run: `rollback` continues such a
 * rollback from its journal, and `start` refuses until it has finished.
 * Clearing either run would leave documents half restored with no way to
 * finish, and let a start migrate the unrestored ones a second time.
 */
export async function neededByStoppedRollback(
  ctx: MutationCtx,
  run: Doc<"runs">,
): Promise<boolean> {
  const pair =
    run.kind === "migrate" && run.rolledBackBy
      ? { target: run, rollback: await ctx.db.get("runs", run.rolledBackBy) }
      : run.kind === "rollback" && run.target
        ? { target: await ctx.db.get("runs", run.target), rollback: run }
        : null;
  if (!pair?.target || !pair.rollback) return false;
  if (pair.rollback.state === "success") return false;
  if (pair.target.rolledBackBy !== pair.rollback._id) return false;
  const latest = await latestRun(ctx, pair.target.name, "migrate");
  return latest?._id === pair.target._id;
}
