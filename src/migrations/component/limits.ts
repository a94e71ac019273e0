/**
 * The run engine's limits (constants, the transaction limits a batch gets)
 * and the shape of a call to the app's migration function, shared by the
 * walk (`walk.ts`) and the rollback (`rollback.ts`).
 */
import type { FunctionHandle } from "convex/server";
import { MAX_ARRAY_LENGTH } from "../../shared/limits.js";
import { requireTransactionMetrics } from "../../shared/meta.js";
import {
  type BatchResult,
  type DescribeResult,
  type MigrationArgs,
  type RestoreResult,
} from "../shared/wire.js";
import type { Doc } from "./_generated/dataModel.js";
import type { MutationCtx } from "./_generated/server.js";

/** What the app's migration function returns to the component's ops. */
export type AppResult = BatchResult | DescribeResult | RestoreResult;
/** The stored handle of the app's migration function, as the component calls it. */
export type MigrationHandle = FunctionHandle<
  "mutation",
  MigrationArgs,
  AppResult
>;

/** Dry-run samples kept per run unless the caller asks otherwise. */
export const DEFAULT_SAMPLES = 5;
/** Failing documents retried around within one transaction before yielding. */
export const MAX_SKIPS_PER_TRANSACTION = 16;
/** Failures stored per run for a dry run (counts continue past it). */
export const MAX_DRY_RUN_FAILURES = 1_000;
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
export const JOURNAL_BYTES = 4 * 1024 * 1024;

/** After a step: "continue" (schedule the next batch) or "stopped" (the run ended). */
export type StepOutcome = "continue" | "stopped";

/** What rolled-back attempts of this transaction scheduled (it stays spent in production). */
export type Spent = {
  functions: number;
  argsBytes: number;
  maxFunctions: number;
};

/**
 * Transaction limits for the batch: what is left, minus room for
 * bookkeeping. Scheduled functions count what earlier attempts in this
 * transaction scheduled before rolling back: production does not give that
 * budget back (convex-test does), so the larger of the two readings wins.
 */
export async function batchLimits(
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
