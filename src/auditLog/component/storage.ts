/**
 * Values stored across snapshot parts, and the byte budget every job of the
 * component sizes its work by.
 */
import type { Value } from "convex/values";
import type { MutationCtx, QueryCtx } from "./_generated/server.js";
import type { Doc, Id } from "./_generated/dataModel.js";
import { sha256Hex } from "../shared/hash.js";
import {
  decodeSnapshot,
  encodeSnapshot,
  SNAPSHOT_PART_BYTES,
  splitUtf8,
  type SnapshotRef,
} from "../shared/snapshot.js";
import { documentSize } from "../../shared/limits.js";
import type { MetaCtx } from "../../shared/ctx.js";
import { transactionMetricsOrNull } from "../../shared/meta.js";

type Side = "before" | "after" | "args";

/** Bytes a snapshot part row takes besides its text. */
const PART_OVERHEAD = 200;

/**
 * What one transaction of a job may still read. It counts what the job
 * itself read (row sizes as Convex counts them) and, where the runtime
 * provides `ctx.meta.getTransactionMetrics` (backends from 2026 on, typed
 * since convex 1.48; absent on older self-hosted ones, and guarded here),
 * also what the whole
 * transaction has read so far, caller included. A job asks `fits(bytes)`
 * before each unit of work, and always does its first unit (every unit is
 * sized to fit a fresh transaction), so it always makes progress.
 */
export class Budget {
  private used = 0;
  private docs = 0;
  private readonly ctx: MetaCtx;

  constructor(
    ctx: MetaCtx,
    readonly maxBytes: number,
    readonly maxDocuments = 4000,
  ) {
    this.ctx = ctx;
  }

  /** Counts `bytes` (and `documents`) read or written by the job. */
  charge(bytes: number, documents = 1): void {
    this.used += bytes;
    this.docs += documents;
  }

  /** Counts a row read. */
  chargeRow(row: Record<string, unknown>): void {
    this.charge(documentSize(row as Record<string, Value>));
  }

  /** Bytes counted so far. */
  get bytesUsed(): number {
    return this.used;
  }

  /** Whether another `bytes` (and `documents`) still fit the job's budget and the transaction. */
  async fits(bytes: number, documents = 1): Promise<boolean> {
    if (this.used + bytes > this.maxBytes) return false;
    if (this.docs + documents > this.maxDocuments) return false;
    return this.fitsTransaction(bytes, documents);
  }

  /**
   * Whether another `bytes` (and `documents`) fit what the transaction has
   * left (true where metrics are unavailable). A job's first unit of work
   * checks only this: units are sized to fit a fresh transaction.
   */
  async fitsTransaction(bytes: number, documents = 1): Promise<boolean> {
    const metrics = await transactionMetricsOrNull(this.ctx);
    if (metrics) {
      // Keep a margin for the rows the job writes after its reads.
      const margin = 1024 * 1024;
      if (metrics.bytesRead.remaining - margin < bytes) return false;
      if (metrics.documentsRead.remaining - 100 < documents) return false;
    }
    return true;
  }
}

/** Bytes reading a snapshot costs (its parts' rows). */
export function snapshotReadBytes(ref: SnapshotRef): number {
  return ref.bytes + ref.parts * PART_OVERHEAD;
}

/** Writes a value's text as snapshot parts; returns where it lives. */
export async function storeSnapshot(
  ctx: MutationCtx,
  operationId: Id<"operations">,
  entryIndex: number,
  side: Side,
  encoded: { text: string; hash: string; bytes: number },
): Promise<SnapshotRef> {
  const parts = splitUtf8(encoded.text, SNAPSHOT_PART_BYTES);
  for (const [part, text] of parts.entries())
    await ctx.db.insert("snapshots", {
      operationId,
      entryIndex,
      side,
      part,
      text,
    });
  return { hash: encoded.hash, bytes: encoded.bytes, parts: parts.length };
}

/**
 * Reads a stored value back. Throws when its parts are missing or do not
 * hash to the recorded hash (the log was tampered with).
 */
export async function loadSnapshot(
  ctx: QueryCtx,
  operationId: Id<"operations">,
  entryIndex: number,
  side: Side,
  ref: SnapshotRef,
): Promise<Value> {
  const check = await checkSnapshot(ctx, operationId, entryIndex, side, ref);
  if (check.problem !== null || check.text === null)
    throw new Error(
      `audit snapshot ${side} of ${operationId}#${entryIndex} is damaged: ${check.problem}`,
    );
  return decodeSnapshot(check.text);
}

/** Reads a stored value's parts and checks them against `ref`. */
export async function checkSnapshot(
  ctx: QueryCtx,
  operationId: Id<"operations">,
  entryIndex: number,
  side: Side,
  ref: SnapshotRef,
): Promise<{ text: string | null; problem: string | null }> {
  // Read part by part, and stop past the recorded size: a tampered ref or
  // forged parts must not make a reader exceed its budget.
  const rows: Doc<"snapshots">[] = [];
  let chars = 0;
  for await (const row of ctx.db
    .query("snapshots")
    .withIndex("by_owner", (q) =>
      q
        .eq("operationId", operationId)
        .eq("entryIndex", entryIndex)
        .eq("side", side),
    )) {
    rows.push(row);
    chars += row.text.length;
    if (rows.length > ref.parts || chars > ref.bytes)
      return {
        text: null,
        problem: `snapshot parts exceed the recorded ${ref.parts} parts of ${ref.bytes} bytes`,
      };
  }
  if (rows.length !== ref.parts)
    return {
      text: null,
      problem: `${rows.length} of ${ref.parts} snapshot parts found`,
    };
  if (rows.some((r, i) => r.part !== i))
    return { text: null, problem: "snapshot parts out of order" };
  const text = rows.map((r) => r.text).join("");
  if (sha256Hex(text) !== ref.hash)
    return { text: null, problem: "snapshot text does not match its hash" };
  return { text, problem: null };
}

export { encodeSnapshot };
