/**
 * `clearAll`'s work: deleting finished runs with their rows, within a
 * budget, and what it must keep (the runs an unfinished rollback restores
 * from, and both runs of a rollback that stopped half way).
 */
import { opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { api } from "./_generated/api.js";
import type { Doc } from "./_generated/dataModel.js";
import type { MutationCtx } from "./_generated/server.js";
import { Budget } from "./budget.js";
import { unfinished } from "./runs.js";
import { latestRun } from "./status.js";

/**
 * The runs an unfinished rollback still needs (its journal): never cleared.
 */
async function neededByRollbacks(ctx: MutationCtx): Promise<Set<string>> {
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
async function neededByStoppedRollback(
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

/** The body of `lib.clearAll` (see its doc comment). */
export async function clearRuns(
  ctx: MutationCtx,
  args: { before?: number },
): Promise<null> {
  if (args.before !== undefined && Number.isNaN(args.before))
    throw opskitError(
      "INVALID_ARGUMENT",
      "before must be a time in milliseconds since the epoch, got NaN",
      { before: "NaN" },
    );
  const before = args.before ?? Date.now() + 1;
  const budget = await Budget.start(ctx);
  const needed = await neededByRollbacks(ctx);
  let deletedRuns = 0;
  let deletedRows = 0;
  // Runs older than this are still to be looked at.
  let olderThan = before;
  let more = false;
  scan: for (;;) {
    if (!(await budget.fits())) {
      more = true;
      break;
    }
    const runs = await ctx.db
      .query("runs")
      .withIndex("by_creation_time", (q) => q.lt("_creationTime", olderThan))
      .order("desc")
      .take(budget.chunk());
    if (runs.length === 0) break;
    for (const run of runs) {
      budget.saw(run);
      if (
        !unfinished(run) &&
        !needed.has(run._id) &&
        !(await neededByStoppedRollback(ctx, run))
      ) {
        for (const table of ["batches", "failures", "journal"] as const)
          for (;;) {
            if (!(await budget.fits())) {
              more = true;
              break scan;
            }
            const rows =
              table === "failures"
                ? await ctx.db
                    .query("failures")
                    .withIndex("by_run_and_resolved", (q) =>
                      q.eq("runId", run._id),
                    )
                    .take(budget.chunk())
                : await ctx.db
                    .query(table)
                    .withIndex("by_run", (q) => q.eq("runId", run._id))
                    .take(budget.chunk());
            if (rows.length === 0) break;
            for (const row of rows) {
              budget.saw(row);
              await ctx.db.delete(table, row._id);
              deletedRows++;
            }
          }
        await ctx.db.delete("runs", run._id);
        deletedRuns++;
      }
      olderThan = run._creationTime;
    }
  }
  if (more)
    await ctx.scheduler.runAfter(0, api.lib.clearAll, { before: olderThan });
  logEvent("migrations.clear", { before, deletedRuns, deletedRows, more });
  return null;
}
