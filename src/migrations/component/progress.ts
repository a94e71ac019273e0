/**
 * Progress estimates for the status query: percent done, throughput and ETA.
 * Convex has no cheap row count, so the total is estimated from a previous
 * complete run of the same migration, or from where the cursor sits between
 * the table's first and last `_creationTime` when walking in default order.
 */

/** What the estimate is built from; all plain numbers from the run row. */
export type ProgressInput = {
  visited: number;
  isDone: boolean;
  /** Paginator cursor (`[_creationTime, _id]` for the default order). */
  cursor: string | null;
  /** `_creationTime` of the first and last document when the run started. */
  span?: { first: number; last: number };
  /** Documents a previous complete run of the same migration visited. */
  expectedTotal?: number;
  /** When the current stretch of work started, and how many documents were visited before it. */
  activeSince: number;
  visitedBefore: number;
  now: number;
};

/** Percent done (0–100), documents per second and milliseconds left; absent when unknown. */
export type Progress = {
  percent?: number;
  docsPerSecond?: number;
  etaMs?: number;
};

/** The leading `_creationTime` of a default-order paginator cursor, if it is one. */
export function cursorCreationTime(cursor: string | null): number | undefined {
  if (cursor === null || !cursor.startsWith("[")) return undefined;
  try {
    const key = JSON.parse(cursor) as unknown;
    return Array.isArray(key) && typeof key[0] === "number"
      ? key[0]
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Estimates progress.
 * @example
 * estimateProgress({ visited: 500, isDone: false, cursor: null, expectedTotal: 1000,
 *   activeSince: 0, visitedBefore: 0, now: 5000 }); // { percent: 50, docsPerSecond: 100, etaMs: 5000 }
 */
export function estimateProgress(input: ProgressInput): Progress {
  const out: Progress = {};
  if (input.isDone) out.percent = 100;
  else if (input.expectedTotal !== undefined && input.expectedTotal > 0)
    out.percent = clamp((input.visited / input.expectedTotal) * 100);
  else if (input.cursor === null) out.percent = 0;
  else if (input.span) {
    const at = cursorCreationTime(input.cursor);
    const width = input.span.last - input.span.first;
    if (at !== undefined && width > 0)
      out.percent = clamp(((at - input.span.first) / width) * 100);
  }
  const elapsed = input.now - input.activeSince;
  const recent = input.visited - input.visitedBefore;
  if (elapsed > 0 && recent > 0) out.docsPerSecond = recent / (elapsed / 1000);
  if (
    !input.isDone &&
    out.percent !== undefined &&
    out.percent > 0 &&
    out.docsPerSecond !== undefined
  ) {
    const remaining = (input.visited * (100 - out.percent)) / out.percent;
    out.etaMs = Math.round((remaining / out.docsPerSecond) * 1000);
  }
  return out;
}

// Never report 100% before the walk ends: estimates can run ahead of reality.
function clamp(percent: number): number {
  return Math.min(99.9, Math.max(0, percent));
}
