/**
 * Starting a run: the start arguments' check, then (after `describe.ts`
 * asked the app's function who it is) starting, resuming or no-op'ing a
 * run, and running its first batch through `engine.step`.
 */
import { opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { DEFAULT_POLICY, halve } from "./batching.js";
import {
  type MigrationStatus,
  type OnError,
  type RunnerArgs,
} from "../shared/wire.js";
import type { Doc } from "./_generated/dataModel.js";
import type { MutationCtx } from "./_generated/server.js";
import { describe } from "./describe.js";
import { continueSeries } from "./end.js";
import { cancelWorker, scheduleNext, step } from "./engine.js";
import {
  DEFAULT_SAMPLES,
  MAX_BATCH_SIZE,
  MAX_EFFECTIVE_BATCH_SIZE,
  MAX_SERIES_LENGTH,
} from "./limits.js";
import { isActive, latestRun, runStatus, workerState } from "./status.js";

/** What `migrate` (start) accepts. */
export type StartArgs = {
  name: string;
  fnHandle: string;
  cursor?: string | null;
  batchSize?: number;
  oneBatchOnly?: boolean;
  next?: Array<{ name: string; fnHandle: string }>;
  dryRun: boolean;
  reset?: boolean;
  onError?: OnError;
  journal?: boolean;
};

/** Validates start arguments; throws INVALID_ARGUMENT before anything is written. */
export function checkStartArgs(args: StartArgs): void {
  if (!args.name.trim())
    throw opskitError("INVALID_ARGUMENT", "Migration name must not be empty");
  if (
    args.batchSize !== undefined &&
    (!Number.isInteger(args.batchSize) ||
      args.batchSize < 1 ||
      args.batchSize > MAX_BATCH_SIZE)
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      `batchSize must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${args.batchSize}`,
      { batchSize: args.batchSize },
    );
  if ((args.next?.length ?? 0) > MAX_SERIES_LENGTH)
    throw opskitError(
      "INVALID_ARGUMENT",
      `A series holds at most ${MAX_SERIES_LENGTH} migrations, got ${args.next!.length}`,
    );
  for (const h of [args.fnHandle, ...(args.next ?? []).map((n) => n.fnHandle)])
    if (!h.startsWith("function://"))
      throw opskitError(
        "INVALID_ARGUMENT",
        "Invalid function handle: start migrations through the Migrations client (runner, runOne, runSerially), not by calling the component directly.",
      );
}

/** Starts, resumes or no-ops a migration, runs its first batch, schedules the rest. */
export async function startRun(
  ctx: MutationCtx,
  args: StartArgs,
): Promise<MigrationStatus> {
  checkStartArgs(args);
  const def = await describe(ctx, args.name, args.fnHandle, args.cursor);
  const kind = args.dryRun ? "dryRun" : "migrate";
  if (kind === "migrate") await refuseDuringRollback(ctx, args.name);
  const prev = await latestRun(ctx, args.name, kind);
  if (prev?.rolledBackBy && !args.reset) {
    // A rollback that stopped half way: starting over would migrate again
    // the documents it has not restored yet.
    const rollback = await ctx.db.get("runs", prev.rolledBackBy);
    if (rollback && rollback.state !== "success")
      throw opskitError(
        "CONFLICT",
        `The rollback of ${args.name} stopped before finishing (${rollback.state}); run rollback again to finish it, or start with reset: true to migrate every document again`,
        { name: args.name, runId: rollback._id },
      );
  }
  const now = Date.now();
  const warnings: string[] = [];
  let run: Doc<"runs"> | null = null;
  if (
    !args.reset &&
    kind === "migrate" &&
    args.next?.length &&
    !(prev && (await isActive(ctx, prev)))
  ) {
    // Like @convex-dev/migrations: a series with a later migration in
    // progress starts nothing (rerunning a post-deploy script mid-flight).
    for (const n of args.next) {
      const later = await latestRun(ctx, n.name, "migrate");
      if (later && (await isActive(ctx, later)))
        return await runStatus(ctx, later, [
          `${n.name}, later in the series started with ${args.name}, is in progress; the series start was a no-op.`,
        ]);
    }
  }
  if (prev) {
    const active = await isActive(ctx, prev);
    if (!args.reset) {
      if (active)
        return await runStatus(ctx, prev, [
          `${args.name} is already running; this start was a no-op.`,
        ]);
      if (prev.state === "paused")
        return await runStatus(ctx, prev, [
          `${args.name} is paused; resume it (or pass reset: true to start over).`,
        ]);
      // A complete migration is a no-op (its series goes on); a complete dry
      // run is simply done again, since its point is to look at the data now.
      if (
        kind === "migrate" &&
        prev.state === "success" &&
        args.cursor === undefined &&
        !prev.rolledBackBy
      ) {
        if (args.next?.length)
          await continueSeries(ctx, args.next, kind, false);
        return await runStatus(ctx, prev);
      }
    }
    // A batch whose transaction died (the 1 s time limit cannot be caught
    // like the read/write limits) left the run "running" with a failed
    // worker: resume it with half the batch size.
    const crashed =
      prev.state === "running" && (await workerState(ctx, prev)) === "failed";
    if (prev.state === "running" || prev.state === "paused") {
      if (prev.workerId) await cancelWorker(ctx, prev.workerId);
      await ctx.db.patch("runs", prev._id, {
        state: "canceled",
        workerId: undefined,
        endedAt: now,
      });
    }
    // A cursor only means something in the range it came from: after a
    // deploy that changed the table or customRange, the walk restarts.
    const sameRange =
      prev.table === def.table &&
      (prev.range === undefined ||
        def.range === undefined ||
        prev.range === def.range);
    const resumable =
      !args.reset &&
      args.cursor !== null &&
      prev.state !== "success" &&
      !prev.rolledBackBy;
    if (
      resumable &&
      !sameRange &&
      kind === "migrate" &&
      prev.table === def.table &&
      prev.changed > 0
    )
      // Same table, another customRange: a new walk from the beginning
      // would migrate again the documents this run already changed.
      throw opskitError(
        "CONFLICT",
        `The customRange of ${args.name} changed since its unfinished run started, which already changed ${prev.changed} document(s) of "${def.table}"; walking the new range from the beginning would migrate those again. Deploy the code that started the run to finish it, or start with reset: true to walk the new range from the beginning (migrateOne must then skip documents already migrated).`,
        { name: args.name, runId: prev._id, table: def.table },
      );
    if (resumable && !sameRange) {
      warnings.push(
        `The table or customRange of ${args.name} changed since its last run (${prev.table} → ${def.table}); the walk restarted from the beginning instead of resuming at the old cursor.`,
      );
      logEvent("migrations.restart", {
        name: args.name,
        runId: prev._id,
        dryRun: kind === "dryRun",
        reason: "rangeChanged",
        fromTable: prev.table,
        toTable: def.table,
        cursor: prev.cursor,
        visited: prev.visited,
      });
    }
    if (resumable && sameRange) {
      await ctx.db.patch("runs", prev._id, {
        state: "running",
        error: undefined,
        endedAt: undefined,
        fnHandle: args.fnHandle,
        checksum: def.checksum,
        ...(def.range !== undefined ? { range: def.range } : {}),
        activeSince: now,
        visitedBefore: prev.visited,
        ...(typeof args.cursor === "string"
          ? { cursor: args.cursor, phase: "walk" as const }
          : {}),
        ...(prev.phase === "retry" ? { retryAfter: undefined } : {}),
        ...(prev.pendingFailures > 0 && prev.phase === "walk"
          ? { retryOnFinish: true }
          : {}),
        ...(crashed
          ? {
              batchSize: halve(prev.batchSize),
              ...(prev.fixedBatchSize !== undefined
                ? { fixedBatchSize: halve(prev.fixedBatchSize) }
                : {}),
            }
          : {}),
        ...(args.batchSize !== undefined
          ? {
              batchSize: effectiveSize(args.batchSize),
              fixedBatchSize: effectiveSize(args.batchSize),
            }
          : {}),
        ...(args.onError ? { onError: args.onError } : {}),
        ...(args.next ? { next: args.next } : {}),
      });
      run = (await ctx.db.get("runs", prev._id))!;
      logEvent("migrations.start", {
        name: run.name,
        runId: run._id,
        dryRun: kind === "dryRun",
        resumed: true,
        afterCrash: crashed,
        cursor: run.cursor,
        phase: run.phase,
      });
    }
  }
  if (!run) {
    const expectedTotal = await previousTotal(ctx, args.name);
    const given = args.batchSize ?? def.batchSize;
    const batchSize = given === undefined ? undefined : effectiveSize(given);
    const runnerArgs: RunnerArgs = {};
    if (args.cursor !== undefined) runnerArgs.cursor = args.cursor;
    if (args.batchSize !== undefined) runnerArgs.batchSize = args.batchSize;
    if (args.dryRun) runnerArgs.dryRun = true;
    if (args.reset) runnerArgs.reset = true;
    if (args.next?.length) runnerArgs.next = args.next.map((n) => n.name);
    if (args.onError) runnerArgs.onError = args.onError;
    if (args.journal !== undefined) runnerArgs.journal = args.journal;
    const id = await ctx.db.insert("runs", {
      name: args.name,
      kind,
      state: "running",
      phase: "walk",
      fnHandle: args.fnHandle,
      checksum: def.checksum,
      table: def.table,
      ...(def.range !== undefined ? { range: def.range } : {}),
      cursor: typeof args.cursor === "string" ? args.cursor : null,
      batchSize: batchSize ?? DEFAULT_POLICY.initial,
      ...(batchSize !== undefined ? { fixedBatchSize: batchSize } : {}),
      onError: args.onError ?? def.onError,
      journal: kind === "migrate" && (args.journal ?? def.journal),
      args: runnerArgs,
      ...(args.next?.length ? { next: args.next } : {}),
      startedAt: now,
      activeSince: now,
      ...freshCounters(),
      samplesWanted: kind === "dryRun" ? DEFAULT_SAMPLES : 0,
      ...(def.span ? { span: def.span } : {}),
      ...(expectedTotal !== undefined ? { expectedTotal } : {}),
    });
    run = (await ctx.db.get("runs", id))!;
    logEvent("migrations.start", {
      name: run.name,
      runId: run._id,
      dryRun: kind === "dryRun",
      resumed: false,
      batchSize: args.batchSize ?? null,
      onError: run.onError,
      journal: run.journal,
      checksum: run.checksum,
    });
  }
  const outcome = await step(ctx, run);
  if (outcome === "continue" && !args.oneBatchOnly)
    await scheduleNext(ctx, run._id);
  return await runStatus(ctx, (await ctx.db.get("runs", run._id))!, warnings);
}

/** The counters of a run that has not run a batch yet (a new run or rollback). */
export function freshCounters() {
  return {
    visitedBefore: 0,
    visited: 0,
    changed: 0,
    unchanged: 0,
    failed: 0,
    pendingFailures: 0,
    batches: 0,
    fieldChanges: [] as Doc<"runs">["fieldChanges"],
    samples: [] as Doc<"runs">["samples"],
    skipIds: [] as string[],
  };
}

/** A batch size as run: at most {@link MAX_EFFECTIVE_BATCH_SIZE}. */
function effectiveSize(size: number): number {
  return Math.min(size, MAX_EFFECTIVE_BATCH_SIZE);
}

/** The unfinished (running or paused) rollback of a migration, if any. */
export async function unfinishedRollback(
  ctx: MutationCtx,
  name: string,
): Promise<Doc<"runs"> | null> {
  const rollback = await latestRun(ctx, name, "rollback");
  return rollback &&
    (rollback.state === "running" || rollback.state === "paused")
    ? rollback
    : null;
}

/**
 * A real run while a rollback of the same migration is restoring documents
 * would race it (each overwriting the other's writes): refused.
 */
async function refuseDuringRollback(
  ctx: MutationCtx,
  name: string,
): Promise<void> {
  const rollback = await unfinishedRollback(ctx, name);
  if (rollback)
    throw opskitError(
      "CONFLICT",
      `A rollback of ${name} is ${rollback.state === "paused" ? "paused" : "in progress"}; let it finish (or cancel it) before running ${name} again`,
      { name, runId: rollback._id },
    );
}

/** Documents a previous complete run of this migration visited (for progress). */
async function previousTotal(
  ctx: MutationCtx,
  name: string,
): Promise<number | undefined> {
  for (const kind of ["dryRun", "migrate"] as const) {
    const prev = await latestRun(ctx, name, kind);
    if (prev?.state === "success" && prev.phase === "walk") return prev.visited;
  }
  return undefined;
}
