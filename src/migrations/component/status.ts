/**
 * Turns a stored run into the status users see: the stored intent combined
 * with the scheduled worker's real state, progress, and the code-identity
 * warning.
 */
import type { MigrationStatus } from "../shared/wire.js";
import { estimateProgress } from "./progress.js";
import type { Doc } from "./_generated/dataModel.js";
import type { QueryCtx } from "./_generated/server.js";

type WorkerState =
  "pending" | "inProgress" | "success" | "failed" | "canceled" | null;

/** The state of the run's scheduled batch, or null when none is scheduled. */
export async function workerState(
  ctx: QueryCtx,
  run: Doc<"runs">,
): Promise<WorkerState> {
  if (!run.workerId) return null;
  const worker = await ctx.db.system.get("_scheduled_functions", run.workerId);
  return worker ? worker.state.kind : null;
}

/** Whether a batch of this run is scheduled or executing right now. */
export async function isActive(
  ctx: QueryCtx,
  run: Doc<"runs">,
): Promise<boolean> {
  if (run.state !== "running") return false;
  const w = await workerState(ctx, run);
  return w === "pending" || w === "inProgress";
}

/** The latest run of a migration of the given kind. */
export async function latestRun(
  ctx: QueryCtx,
  name: string,
  kind: Doc<"runs">["kind"],
): Promise<Doc<"runs"> | null> {
  return await ctx.db
    .query("runs")
    .withIndex("by_name_and_kind", (q) => q.eq("name", name).eq("kind", kind))
    .order("desc")
    .first();
}

/** The checksum of the migration's code as last seen by the component. */
export async function currentChecksum(
  ctx: QueryCtx,
  name: string,
): Promise<string | undefined> {
  const def = await ctx.db
    .query("definitions")
    .withIndex("by_name", (q) => q.eq("name", name))
    .unique();
  return def?.checksum;
}

/** Status of a migration that never ran (same defaults as `@convex-dev/migrations`). */
export function neverRunStatus(name: string): MigrationStatus {
  return {
    name,
    cursor: null,
    processed: 0,
    isDone: false,
    state: "unknown",
    latestStart: 0,
    dryRun: false,
    changed: 0,
    unchanged: 0,
    failed: 0,
    pendingFailures: 0,
    batches: 0,
    codeChanged: false,
    warnings: [],
  };
}

/** Renders a run as a {@link MigrationStatus}. */
export async function runStatus(
  ctx: QueryCtx,
  run: Doc<"runs">,
  extraWarnings: string[] = [],
): Promise<MigrationStatus> {
  const worker = await workerState(ctx, run);
  let state: MigrationStatus["state"];
  let error = run.error;
  switch (run.state) {
    case "success":
    case "paused":
    case "canceled":
    case "failed":
      state = run.state;
      break;
    case "running":
      if (worker === "pending" || worker === "inProgress") state = "inProgress";
      else if (worker === "failed") {
        state = "failed";
        error ??=
          "A batch transaction failed outside the runner's control; run the migration again to resume from the last committed batch.";
      } else if (worker === "canceled") state = "canceled";
      else state = "unknown";
      break;
  }
  // A run being (or having been) rolled back is not done: its writes are
  // being (or have been) undone.
  const rollback =
    run.kind === "migrate" && run.rolledBackBy
      ? await ctx.db.get("runs", run.rolledBackBy)
      : null;
  if (rollback) state = "canceled";
  const isDone = run.state === "success" && !rollback;
  const warnings = [...extraWarnings];
  const current = await currentChecksum(ctx, run.name);
  const codeChanged =
    run.kind !== "rollback" &&
    current !== undefined &&
    current !== run.checksum;
  if (codeChanged && isDone)
    warnings.push(
      `The code of ${run.name} changed since this run completed (ran ${run.checksum}, now ${current}); rerunning is a no-op until you pass reset: true.`,
    );
  else if (codeChanged)
    warnings.push(
      `The code of ${run.name} changed since this run started (${run.checksum} → ${current}).`,
    );
  if (rollback?.state === "success") warnings.push(`This run was rolled back.`);
  else if (rollback)
    warnings.push(
      `This run is being rolled back (rollback ${rollback.state}); run rollback again to finish it if it stopped.`,
    );
  if (run.pendingFailures > 0)
    warnings.push(
      `${run.pendingFailures} document(s) failed and were skipped; fix migrateOne and run the migration again to retry only them.`,
    );
  const progress = estimateProgress({
    visited: run.visited,
    isDone,
    cursor: run.phase === "walk" ? run.cursor : null,
    span: run.span,
    expectedTotal: run.expectedTotal,
    activeSince: run.activeSince,
    visitedBefore: run.visitedBefore,
    now: run.endedAt ?? Date.now(),
  });
  if (run.phase === "retry" && !isDone && !rollback) progress.percent = 99.9;
  return {
    name: run.name,
    cursor: isDone ? null : run.cursor,
    processed: run.visited,
    isDone,
    ...(error !== undefined ? { error } : {}),
    state,
    latestStart: run.startedAt,
    ...(run.endedAt !== undefined ? { latestEnd: run.endedAt } : {}),
    batchSize: run.batchSize,
    ...(run.next?.length ? { next: run.next.map((n) => n.name) } : {}),
    runId: run._id,
    dryRun: run.kind === "dryRun",
    changed: run.changed,
    unchanged: run.unchanged,
    failed: run.failed,
    pendingFailures: run.pendingFailures,
    batches: run.batches,
    ...progress,
    checksum: run.checksum,
    codeChanged,
    warnings,
  };
}
