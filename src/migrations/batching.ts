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
  durationMs: 1_000,
} as const;

/** What one batch used, measured with `ctx.meta.getTransactionMetrics()` around it. */
export type BatchUsage = {
  documentsRead: number;
  documentsWritten: number;
  bytesRead: number;
  bytesWritten: number;
  /** `db.get` calls and index ranges (absent from older reports). */
  databaseQueries?: number;
  durationMs: number;
};

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
 * The next batch size from the last batch's measured usage.
 *
 * @param current - the size of the batch just run.
 * @param processed - documents that batch actually handled (0: keep `current`).
 * @param usage - its measured usage.
 * @param extraWritesPerDoc - writes the runner adds per document (e.g. a journal row).
 * @example
 * nextBatchSize(100, 100, { documentsRead: 101, documentsWritten: 100, bytesRead: 9e3, bytesWritten: 9e3, durationMs: 20 }); // 400
 */
export function nextBatchSize(
  current: number,
  processed: number,
  usage: BatchUsage,
  extraWritesPerDoc = 0,
  policy: BatchPolicy = DEFAULT_POLICY,
): number {
  if (processed <= 0) return current;
  const perDoc = {
    documentsRead: usage.documentsRead / processed,
    bytesRead: usage.bytesRead / processed,
    documentsWritten: usage.documentsWritten / processed + extraWritesPerDoc,
    bytesWritten: usage.bytesWritten / processed,
    databaseQueries: (usage.databaseQueries ?? 0) / processed,
    durationMs: usage.durationMs / processed,
  };
  let fits = Infinity;
  for (const key of Object.keys(perDoc) as Array<keyof typeof perDoc>) {
    const cost = perDoc[key];
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
    /(function execution|transaction).*(timed out|took too long)/i.test(
      message,
    ) ||
    /this is a convex limit/i.test(message)
  );
}
