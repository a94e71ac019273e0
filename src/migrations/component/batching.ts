/**
 * Adaptive batch sizing. Each batch reports what it used of the transaction
 * budget; the next batch is sized so the same per-document cost fills at most
 * a fraction of Convex's limits, growing geometrically so a run starts small
 * (safe on unknown documents) and reaches large batches within a few steps.
 */

/** Convex's per-transaction limits (https://docs.convex.dev/production/state/limits). */
export const CONVEX_LIMITS = {
  documentsRead: 32_000,
  bytesRead: 16 * 1024 * 1024,
  documentsWritten: 16_000,
  bytesWritten: 16 * 1024 * 1024,
  databaseQueries: 4_096,
  functionsScheduled: 1_000,
  scheduledFunctionArgsBytes: 16 * 1024 * 1024,
  durationMs: 1_000,
} as const;

/** The usage measures batch sizing looks at: counts and bytes, never time. */
const SIZED_BY = [
  "documentsRead",
  "bytesRead",
  "documentsWritten",
  "bytesWritten",
  "databaseQueries",
  "functionsScheduled",
  "scheduledFunctionArgsBytes",
] as const;

/** What one batch used, measured with `ctx.meta.getTransactionMetrics()` around it. */
export type BatchUsage = {
  documentsRead: number;
  documentsWritten: number;
  bytesRead: number;
  bytesWritten: number;
  /** `db.get` calls and index ranges (absent from older reports). */
  databaseQueries?: number;
  /** Functions scheduled (absent from older reports). */
  functionsScheduled?: number;
  /** Bytes of scheduled functions' arguments (absent from older reports). */
  scheduledFunctionArgsBytes?: number;
  /**
   * Wall time inside the batch. Reported only: production freezes
   * `Date.now()` for a whole function (nested calls included), so it is 0
   * there and sizing never looks at it.
   */
  durationMs: number;
};

/** Per-document costs the runner adds on top of the batch's own usage. */
export type ExtraPerDoc = { documentsWritten?: number; bytesWritten?: number };

/** Tuning for {@link nextBatchSize}; the defaults suit nearly every table. */
export type BatchPolicy = {
  /** First batch when none is configured. */
  initial: number;
  /** Upper bound on any batch. */
  max: number;
  /** Fraction of each limit a batch may use (the rest is headroom for variance). */
  target: number;
  /** Largest growth factor between two batches. */
  growth: number;
};

/**
 * The default policy: start at 100, grow up to ×4 per batch, use at most 40%
 * of any limit, and never exceed 4,000 documents. The cap guards the 1 s
 * mutation time limit, which cannot be measured reliably from inside a
 * mutation (the clock may not advance during one) and which, unlike the
 * read/write limits, cannot be caught and retried: it ends the transaction.
 */
export const DEFAULT_POLICY: BatchPolicy = {
  initial: 100,
  max: 4_000,
  target: 0.4,
  growth: 4,
};

/**
 * The next batch size from the last batch's measured usage: documents and
 * bytes read and written, index ranges and scheduled functions. Elapsed time
 * plays no part (it cannot be measured inside a Convex function).
 *
 * @param current - the size of the batch just run.
 * @param processed - documents that batch actually handled (0: keep `current`).
 * @param usage - its measured usage.
 * @param extra - writes the runner adds per document (a journal row: count,
 *   or `{ documentsWritten, bytesWritten }`).
 * @example
 * nextBatchSize(100, 100, { documentsRead: 101, documentsWritten: 100, bytesRead: 9e3, bytesWritten: 9e3, durationMs: 20 }); // 400
 */
export function nextBatchSize(
  current: number,
  processed: number,
  usage: BatchUsage,
  extra: number | ExtraPerDoc = 0,
  policy: BatchPolicy = DEFAULT_POLICY,
): number {
  if (processed <= 0) return current;
  const add: ExtraPerDoc =
    typeof extra === "number" ? { documentsWritten: extra } : extra;
  let fits = Infinity;
  for (const key of SIZED_BY) {
    const extraCost =
      key === "documentsWritten" || key === "bytesWritten"
        ? (add[key] ?? 0)
        : 0;
    const cost = (usage[key] ?? 0) / processed + extraCost;
    if (cost > 0)
      fits = Math.min(fits, (policy.target * CONVEX_LIMITS[key]) / cost);
  }
  const grown = Math.min(fits, current * policy.growth, policy.max);
  return Math.max(1, Math.floor(grown));
}

/** Half of `size`, at least 1: the retry size after a batch hit a limit. */
export function halve(size: number): number {
  return Math.max(1, Math.floor(size / 2));
}

/**
 * Whether an error message is Convex refusing a transaction for its size or
 * duration (as opposed to a bug in `migrateOne`), so a smaller batch may pass.
 */
export function isLimitError(message: string): boolean {
  return (
    /(too many|too much|too large).*(single function execution|transaction)/i.test(
      message,
    ) ||
    // Production's scheduling limits, e.g. "Too many functions scheduled by
    // this mutation (limit: 1000)" and "Too large total size of the
    // arguments of scheduled functions from this mutation".
    /too (many|large).*scheduled (functions|by this)|scheduled.*(too many|too large)/i.test(
      message,
    ) ||
    /(function execution|transaction).*(timed out|took too long)/i.test(
      message,
    ) ||
    /this is a convex limit/i.test(message)
  );
}
