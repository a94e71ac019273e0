/**
 * Byte and document budgets for the component's multi-document jobs
 * (`clearAll`, the `getStatus` scan): work is sized from the transaction's
 * measured usage, never from a row count alone, so rows of any size (up to
 * Convex's 1 MiB per document) fit, and every transaction makes progress.
 */
import type { TransactionMetrics } from "convex/server";
import { requireTransactionMetrics } from "../../shared/meta.js";
import { MAX_DOCUMENT_BYTES } from "../../shared/limits.js";

/** Largest document Convex stores: the size assumed for a row not yet seen. */

const MEASURES = [
  "bytesRead",
  "bytesWritten",
  "documentsRead",
  "documentsWritten",
  "databaseQueries",
] as const;

/**
 * A share of each transaction limit a job may use. `fits()` says whether
 * another chunk may start; `chunk()` says how many rows it may hold so that
 * even rows as large as the largest seen keep it within the share.
 */
export class Budget {
  /** Rows noted with {@link saw} (for logs). */
  rows = 0;
  private last: TransactionMetrics | undefined;

  private constructor(
    private readonly ctx: { meta?: unknown },
    private readonly share: number,
    private readonly maxChunk: number,
  ) {}

  /**
   * @param share - fraction of every limit the job may use (default 0.5;
   *   the rest stays for bookkeeping and the caller).
   * @param maxChunk - most rows per chunk.
   */
  static async start(
    ctx: { meta?: unknown },
    share = 0.5,
    maxChunk = 256,
  ): Promise<Budget> {
    const b = new Budget(ctx, share, maxChunk);
    await b.fits();
    return b;
  }

  /** Notes a row read. */
  saw(_row: unknown): void {
    this.rows++;
  }

  /** Whether another chunk may start (re-reads the transaction metrics). */
  async fits(): Promise<boolean> {
    const m = await requireTransactionMetrics(this.ctx);
    this.last = m;
    return MEASURES.every((k) => {
      const total = m[k].used + m[k].remaining;
      return m[k].used < this.share * total;
    });
  }

  /**
   * Rows the next chunk may hold (at least 1): as many as fit the bytes left
   * if every row were as large as a document may be, since a table's rows
   * vary (a journal row holds whatever a document's fields held).
   */
  chunk(): number {
    const m = this.last;
    if (!m) return 1;
    const left = (k: (typeof MEASURES)[number]) =>
      this.share * (m[k].used + m[k].remaining) - m[k].used;
    const byBytes =
      Math.min(left("bytesRead"), left("bytesWritten")) / MAX_DOCUMENT_BYTES;
    const byDocs = Math.min(left("documentsRead"), left("documentsWritten"));
    // One index range per chunk: no limit on queries per row.
    return Math.max(
      1,
      Math.min(this.maxChunk, Math.floor(Math.min(byBytes, byDocs))),
    );
  }
}
