// Over ~400 lines, not yet split: the split along its seams is issue 13's
// (architecture) work, planned file by file and kept out of the hardening
// sessions so the attack fixes could land without a concurrent reshape.
/**
 * The run engine: starting and resuming runs, executing one batch per
 * transaction through the app's migration function, and the bookkeeping
 * (counts, failures, journal, adaptive batch size, series, logs).
 *
 * Every batch runs as a sub-transaction (`ctx.runMutation` on the app's
 * function handle) with tightened transaction limits, so a batch that is too
 * big or a document that fails rolls back alone while this transaction
 * survives to record what happened.
 */
import type { FunctionHandle } from "convex/server";
import { ConvexError, getConvexSize } from "convex/values";
import {
  clipped,
  errorMessage,
  isOpskitError,
  opskitError,
  shown,
} from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { requireTransactionMetrics } from "../../shared/meta.js";
import {
  DEFAULT_POLICY,
  halve,
  isLimitError,
  nextBatchSize,
} from "../batching.js";
import { addFieldCounts } from "../diff.js";
import {
  type BatchResult,
  type DescribeResult,
  MAX_ARRAY_LENGTH,
  type MigrationArgs,
  type MigrationStatus,
  type OnError,
  PROTOCOL,
  type RestoreResult,
  type RunnerArgs,
} from "../shared.js";
import { api, internal } from "./_generated/api.js";
import type { Doc, Id } from "./_generated/dataModel.js";
import type { MutationCtx } from "./_generated/server.js";
import { isActive, latestRun, runStatus, workerState } from "./status.js";

type AppResult = BatchResult | DescribeResult | RestoreResult;
type MigrationHandle = FunctionHandle<"mutation", MigrationArgs, AppResult>;

/** Dry-run samples kept per run unless the caller asks otherwise. */
export const DEFAULT_SAMPLES = 5;
/** Failing documents retried around within one transaction before yielding. */
const MAX_SKIPS_PER_TRANSACTION = 16;
/** Failures stored per run for a dry run (counts continue past it). */
const MAX_DRY_RUN_FAILURES = 1_000;
/** Largest accepted `batchSize`. */
export const MAX_BATCH_SIZE = 10_000;
/**
 * Largest batch actually run: per-document arrays (journal, retried ids,
 * failures) must fit Convex's 8,192-element array limit. A larger
 * `batchSize` is accepted (as `@convex-dev/migrations` does) and lowered.
 */
export const MAX_EFFECTIVE_BATCH_SIZE = MAX_ARRAY_LENGTH;
/** Failing documents left out of one page before the page is made smaller. */
export const MAX_SKIP_IDS = 1_000;
/** Longest series accepted in `next`. */
export const MAX_SERIES_LENGTH = 1_000;
/** Field names tracked per run in `fieldChanges` (the rest are summed in one entry). */
export const MAX_FIELD_COUNTS = 1_000;
/** Scheduled functions (and their argument bytes) kept for the runner's own use. */
const SCHEDULE_RESERVE = { functions: 8, argsBytes: 256 * 1024 };
/** Bytes of journal one batch may hand back (written by the runner). */
const JOURNAL_BYTES = 4 * 1024 * 1024;

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

/** {@link errorMessage}, cut to a length an error message can repeat (it may quote the caller's input). */
function clippedMessage(e: unknown): string {
  const message = errorMessage(e);
  return message.length <= 300 ? message : `${message.slice(0, 300)}…`;
}

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

/**
 * Asks the app function who it is. Anything that is not a migration defined
 * with `migrations.define` (missing function, wrong arguments) is NOT_FOUND.
 * A `cursor` is checked by the app against its table: one that is not from
 * a walk of it is INVALID_ARGUMENT, before anything is written.
 */
export async function describe(
  ctx: MutationCtx,
  name: string,
  fnHandle: string,
  cursor?: string | null,
): Promise<DescribeResult> {
  let result: AppResult;
  try {
    result = await ctx.runMutation(fnHandle as MigrationHandle, {
      oneBatchOnly: true,
      op: "describe",
      // The app checks that a given cursor belongs to its table.
      ...(typeof cursor === "string" ? { cursor } : {}),
    });
  } catch (e) {
    // A mistake in the definition (or a runtime without ctx.meta) is the
    // app's INVALID_ARGUMENT, not a missing migration.
    if (isOpskitError(e, "INVALID_ARGUMENT"))
      throw opskitError(
        "INVALID_ARGUMENT",
        `Migration ${shown(name)} cannot run: ${clippedMessage(e)}`,
        { name: clipped(name) },
      );
    throw opskitError(
      "NOT_FOUND",
      `${shown(name)} is not a migration defined with migrations.define: ${clippedMessage(e)}`,
      { name: clipped(name) },
    );
  }
  if (result.kind !== "describe")
    throw opskitError(
      "NOT_FOUND",
      `${shown(name)} is not a migration defined with migrations.define`,
      { name: clipped(name) },
    );
  const def = await ctx.db
    .query("definitions")
    .withIndex("by_name", (q) => q.eq("name", name))
    .unique();
  if (!def)
    await ctx.db.insert("definitions", {
      name,
      checksum: result.checksum,
      table: result.table,
      updatedAt: Date.now(),
    });
  else if (def.checksum !== result.checksum || def.table !== result.table)
    await ctx.db.patch("definitions", def._id, {
      checksum: result.checksum,
      table: result.table,
      updatedAt: Date.now(),
    });
  return result;
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
      visitedBefore: 0,
      visited: 0,
      changed: 0,
      unchanged: 0,
      failed: 0,
      pendingFailures: 0,
      batches: 0,
      fieldChanges: [],
      samples: [],
      samplesWanted: kind === "dryRun" ? DEFAULT_SAMPLES : 0,
      skipIds: [],
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

/** What rolled-back attempts of this transaction scheduled (it stays spent in production). */
type Spent = { functions: number; argsBytes: number; maxFunctions: number };

/**
 * Transaction limits for the batch: what is left, minus room for
 * bookkeeping. Scheduled functions count what earlier attempts in this
 * transaction scheduled before rolling back: production does not give that
 * budget back (convex-test does), so the larger of the two readings wins.
 */
async function batchLimits(
  ctx: MutationCtx,
  run: Doc<"runs">,
  base: { functions: number; argsBytes: number },
  spent: Spent,
) {
  const m = await requireTransactionMetrics(ctx);
  const reserveWrites =
    200 + MAX_SKIPS_PER_TRANSACTION + (run.journal ? run.batchSize : 0);
  const reserveBytes = 1024 * 1024 + (run.journal ? JOURNAL_BYTES : 0);
  const room = (remaining: number, reserve: number) =>
    Math.max(1, Math.floor(remaining - reserve));
  const scheduled = (
    metric: { used: number; remaining: number } | undefined,
    before: number,
    rolledBack: number,
    reserve: number,
  ) => {
    if (!metric) return undefined;
    const total = metric.used + metric.remaining;
    const used = Math.max(metric.used, before + rolledBack);
    return Math.max(0, Math.floor(total - used - reserve));
  };
  const functionsScheduled = scheduled(
    m.functionsScheduled,
    base.functions,
    spent.functions,
    SCHEDULE_RESERVE.functions,
  );
  const scheduledFunctionArgsBytes = scheduled(
    m.scheduledFunctionArgsBytes,
    base.argsBytes,
    spent.argsBytes,
    SCHEDULE_RESERVE.argsBytes,
  );
  return {
    documentsRead: room(m.documentsRead.remaining, 500),
    bytesRead: room(m.bytesRead.remaining, reserveBytes),
    documentsWritten: room(m.documentsWritten.remaining, reserveWrites),
    bytesWritten: room(m.bytesWritten.remaining, reserveBytes),
    databaseQueries: room(m.databaseQueries.remaining, 200),
    ...(functionsScheduled !== undefined ? { functionsScheduled } : {}),
    ...(scheduledFunctionArgsBytes !== undefined
      ? { scheduledFunctionArgsBytes }
      : {}),
  };
}

type StepOutcome = "continue" | "stopped";

/** Failure rows added in this transaction, folded into the run's counters. */
type Tally = { added: number; reopened: number };

function errorData(e: unknown): Record<string, unknown> | undefined {
  if (!(e instanceof ConvexError)) return undefined;
  const data = e.data as unknown;
  return data && typeof data === "object"
    ? (data as Record<string, unknown>)
    : undefined;
}

/**
 * Runs one batch of `run` and records it. Returns "continue" when more work
 * remains (the caller schedules it) and "stopped" when the run ended.
 */
export async function step(
  ctx: MutationCtx,
  run: Doc<"runs">,
): Promise<StepOutcome> {
  if (run.kind === "rollback") return await rollbackStep(ctx, run);
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
    await ctx.db.insert("batches", {
      runId: run._id,
      size: run.batchSize,
      outcome: "rolledBack",
      processed: 0,
      changed: 0,
      unchanged: 0,
      failed: skippedNow,
    });
    logEvent("migrations.batch", {
      name: run.name,
      runId: run._id,
      dryRun,
      phase: run.phase,
      batchSize: run.batchSize,
      outcome: "rolledBack",
      failed: skippedNow,
      skipped: skipIds.length,
      functionsScheduledRolledBack: spent.functions,
    });
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

async function applyBatch(
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
  await ctx.db.insert("batches", {
    runId: run._id,
    size: run.batchSize,
    outcome: dryRun ? "rolledBack" : "committed",
    processed: result.processed,
    changed: result.changed,
    unchanged: result.unchanged,
    failed: failedNow,
    usage: result.usage,
  });
  logEvent("migrations.batch", {
    name: run.name,
    runId: run._id,
    dryRun,
    phase: run.phase,
    batchSize: run.batchSize,
    processed: result.processed,
    changed: result.changed,
    unchanged: result.unchanged,
    failed: failedNow,
    skipped: skipIds.length,
    documentsRead: result.usage.documentsRead,
    documentsWritten: result.usage.documentsWritten,
    nextBatchSize: nextSize,
  });
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
async function recordFailure(
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

/** A batch hit a transaction limit: halve the batch and retry in a new transaction. */
async function shrink(
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
  await ctx.db.insert("batches", {
    runId: run._id,
    size: run.batchSize,
    outcome: "limit",
    processed: 0,
    changed: 0,
    unchanged: 0,
    failed: 0,
  });
  logEvent("migrations.batch", {
    name: run.name,
    runId: run._id,
    dryRun: run.kind === "dryRun",
    phase: run.phase,
    batchSize: run.batchSize,
    outcome: "limit",
    nextBatchSize: size,
    error: message,
  });
  await ctx.db.patch("runs", run._id, {
    batchSize: size,
    ...(run.fixedBatchSize !== undefined ? { fixedBatchSize: size } : {}),
  });
  return "continue";
}

/** Ends a run as failed; it resumes from its last committed batch when started again. */
async function fail(
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
async function finishWalk(
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
async function continueSeries(
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

/** Starts undoing a journaled run. */
export async function startRollback(
  ctx: MutationCtx,
  name: string,
): Promise<MigrationStatus> {
  const target = await latestRun(ctx, name, "migrate");
  if (!target)
    throw opskitError("NOT_FOUND", `Migration ${shown(name)} has never run`, {
      name: clipped(name),
    });
  if (!target.journal)
    throw opskitError(
      "INVALID_ARGUMENT",
      `The latest run of ${name} kept no journal (define it with journal: true or run it with { journal: true } to be able to roll back)`,
      { name },
    );
  const by = target.rolledBackBy
    ? await ctx.db.get("runs", target.rolledBackBy)
    : null;
  if (by?.state === "success")
    throw opskitError(
      "CONFLICT",
      `The latest run of ${name} was already rolled back`,
      { name },
    );
  if (target.state === "running" || target.state === "paused")
    throw opskitError(
      "CONFLICT",
      `${name} is ${target.state}; cancel it before rolling it back`,
      { name },
    );
  const now = Date.now();
  const earlier = await latestRun(ctx, name, "rollback");
  if (earlier?.target === target._id && earlier.state !== "success") {
    // A second rollback must not restore the journal again from its start:
    // that would overwrite what the app wrote since the first one restored
    // those documents. It continues the first one where it stopped.
    if (await isActive(ctx, earlier))
      throw opskitError(
        "CONFLICT",
        `A rollback of ${name} is already in progress`,
        { name, runId: earlier._id },
      );
    if (earlier.workerId) await cancelWorker(ctx, earlier.workerId);
    await ctx.db.patch("runs", target._id, { rolledBackBy: earlier._id });
    await ctx.db.patch("runs", earlier._id, {
      state: "running",
      error: undefined,
      endedAt: undefined,
      workerId: undefined,
      activeSince: now,
      visitedBefore: earlier.visited,
    });
    logEvent("migrations.start", {
      name,
      runId: earlier._id,
      rollback: true,
      resumed: true,
      target: target._id,
    });
    const resumed = (await ctx.db.get("runs", earlier._id))!;
    if ((await step(ctx, resumed)) === "continue")
      await scheduleNext(ctx, earlier._id);
    return await runStatus(ctx, (await ctx.db.get("runs", earlier._id))!, [
      `Resumed the unfinished rollback of ${name} where it stopped.`,
    ]);
  }
  const id = await ctx.db.insert("runs", {
    ...pickRunBase(target),
    kind: "rollback",
    state: "running",
    phase: "walk",
    cursor: null,
    batchSize: DEFAULT_POLICY.initial * 2,
    journal: false,
    args: {},
    startedAt: now,
    activeSince: now,
    visitedBefore: 0,
    visited: 0,
    changed: 0,
    unchanged: 0,
    failed: 0,
    pendingFailures: 0,
    batches: 0,
    fieldChanges: [],
    samples: [],
    samplesWanted: 0,
    skipIds: [],
    expectedTotal: target.changed,
    target: target._id,
  });
  // Marked at once: while documents are being restored the run's status
  // must not say "success".
  await ctx.db.patch("runs", target._id, { rolledBackBy: id });
  logEvent("migrations.start", {
    name,
    runId: id,
    rollback: true,
    target: target._id,
  });
  const run = (await ctx.db.get("runs", id))!;
  if ((await step(ctx, run)) === "continue") await scheduleNext(ctx, id);
  return await runStatus(ctx, (await ctx.db.get("runs", id))!);
}

function pickRunBase(target: Doc<"runs">) {
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
async function rollbackStep(
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
