/**
 * One batch's accounting: changed, unchanged and failed documents, field
 * counts, samples, journal entries and the transaction usage it spent.
 */
import type { GenericDataModel, GenericMutationCtx } from "convex/server";
import { getConvexSize } from "convex/values";
import { addFieldCounts, changedFields, priorValues } from "../shared/diff.js";
import { requireTransactionMetrics } from "../../shared/meta.js";
import type { BatchResult, JournalEntry } from "../shared/wire.js";
import type { AnyDoc } from "./define.js";
import { splitJournalEntry } from "./journal.js";

/** Largest before+after pair kept as a dry-run sample. */
const MAX_SAMPLE_BYTES = 64 * 1024;

/** Accumulates one batch's accounting. */
export class BatchTally {
  changed = 0;
  unchanged = 0;
  missing = 0;
  succeeded: string[] = [];
  failures: Array<{ id: string; message: string }> = [];
  fields = new Map<string, number>();
  samples: BatchResult["samples"] = [];
  journal: JournalEntry[] = [];
  journalBytes = 0;
  /** The journal outgrew the budget the runner set: the batch must shrink. */
  journalOver = false;
  constructor(
    private readonly samplesWanted: number,
    private readonly keepJournal: boolean,
    private readonly journalBudget = Infinity,
  ) {}

  /** The journal entries of a changed document, checked before anything is counted. */
  journalFor(before: AnyDoc, after: AnyDoc | null): JournalEntry[] {
    if (!this.keepJournal || after === null) return [];
    const fields = changedFields(before, after);
    if (fields.length === 0) return [];
    return splitJournalEntry({
      id: before._id,
      ...priorValues(before, fields),
    });
  }

  record(before: AnyDoc, after: AnyDoc | null, entries: JournalEntry[] = []) {
    this.succeeded.push(before._id);
    if (after === null) {
      this.changed++;
      this.count(["(deleted)"]);
      this.sample(before, null);
      return;
    }
    const fields = changedFields(before, after);
    if (fields.length === 0) {
      this.unchanged++;
      return;
    }
    this.changed++;
    this.count(fields);
    this.sample(before, after);
    for (const entry of entries) {
      this.journal.push(entry);
      this.journalBytes += getConvexSize(entry);
    }
    if (this.journalBytes > this.journalBudget) this.journalOver = true;
  }

  private count(fields: string[]) {
    for (const f of fields) this.fields.set(f, (this.fields.get(f) ?? 0) + 1);
  }

  private sample(before: AnyDoc, after: AnyDoc | null) {
    if (this.samples.length >= this.samplesWanted) return;
    // Samples live in the run's row (1 MiB max): large documents are skipped.
    const size = getConvexSize(before) + (after ? getConvexSize(after) : 0);
    if (size <= MAX_SAMPLE_BYTES)
      this.samples.push({ id: before._id, before, after });
  }

  fieldChanges() {
    return addFieldCounts(
      [],
      [...this.fields].map(([field, count]) => ({ field, count })),
    );
  }
}

export async function usageSince(
  ctx: GenericMutationCtx<GenericDataModel>,
  start: Awaited<
    ReturnType<
      GenericMutationCtx<GenericDataModel>["meta"]["getTransactionMetrics"]
    >
  >,
  startedAt: number,
): Promise<BatchResult["usage"]> {
  const end = await requireTransactionMetrics(ctx);
  return {
    documentsRead: end.documentsRead.used - start.documentsRead.used,
    documentsWritten: end.documentsWritten.used - start.documentsWritten.used,
    bytesRead: end.bytesRead.used - start.bytesRead.used,
    bytesWritten: end.bytesWritten.used - start.bytesWritten.used,
    databaseQueries: end.databaseQueries.used - start.databaseQueries.used,
    ...scheduledSince(start, end),
    durationMs: Date.now() - startedAt,
  };
}

type Metrics = Awaited<ReturnType<typeof requireTransactionMetrics>>;

/**
 * Functions (and argument bytes) scheduled between two metric readings.
 * A rolled-back batch reports these with its error: production does not
 * give the scheduled-function budget back when a sub-mutation rolls back.
 */
export function scheduledSince(start: Metrics, end: Metrics) {
  return {
    functionsScheduled:
      (end.functionsScheduled?.used ?? 0) -
      (start.functionsScheduled?.used ?? 0),
    scheduledFunctionArgsBytes:
      (end.scheduledFunctionArgsBytes?.used ?? 0) -
      (start.scheduledFunctionArgsBytes?.used ?? 0),
  };
}
