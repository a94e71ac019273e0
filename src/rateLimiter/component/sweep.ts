/**
 * Bounded storage: state documents that have refilled to full (and whose
 * penalty has ended) carry no information, so a sweep deletes them.
 *
 * The sweep runs from the component's cron (`crons.ts`, once a minute), never
 * from `limit`: a call schedules nothing, so an app's own tests that drain
 * scheduled work (`t.finishAllScheduledFunctions(vi.runAllTimers)`) see only
 * their own jobs and their own clock. Each run is budgeted by documents and
 * bytes (and by the transaction's own metrics where the deployment reports
 * them); when the budget ends before the backlog does, the run chains one
 * continuation, and the cron does not start a second chain while one is
 * pending. Every run deletes at least one full state when any exists, and the
 * states it deletes are gone, so no run can repeat the same batch.
 */
import { v } from "convex/values";
import { logEvent } from "../../shared/log.js";
import { internal } from "./_generated/api.js";
import type { Doc } from "./_generated/dataModel.js";
import { internalMutation, type MutationCtx } from "./_generated/server.js";

/** Most state documents one sweep run deletes. */
export const SWEEP_MAX_DOCUMENTS = 500;
/** Most bytes of state documents one sweep run reads and deletes (estimated). */
export const SWEEP_MAX_BYTES = 4 * 1024 * 1024;
/** What each run leaves unused of the transaction's limits, for its bookkeeping. */
const RESERVE = { documents: 100, bytes: 256 * 1024 };
/** How many deletions pass between two looks at the transaction's metrics. */
const METRICS_EVERY = 100;

/**
 * An upper estimate of a Convex value's stored size in bytes: strings by
 * their UTF-8 length, numbers as 8 bytes, plus a few bytes of framing per
 * value and field. State documents are small (names and keys are at most
 * 256 characters), so this only guards the byte budget against surprises.
 */
export function estimateBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === "boolean")
    return 1;
  if (typeof value === "number" || typeof value === "bigint") return 9;
  if (typeof value === "string")
    return 3 + new TextEncoder().encode(value).length;
  if (value instanceof ArrayBuffer) return 3 + value.byteLength;
  if (Array.isArray(value))
    return value.reduce((sum: number, x) => sum + estimateBytes(x), 3);
  let sum = 3;
  for (const [k, x] of Object.entries(value as Record<string, unknown>))
    sum += 2 + k.length + estimateBytes(x);
  return sum;
}

type Room = { documents: number; bytes: number };

/**
 * What the transaction may still read and write, from
 * `ctx.meta.getTransactionMetrics()` when the deployment provides it (Convex
 * backends from 2026); `null` where it does not, and the fixed budget applies.
 */
async function transactionRoom(ctx: MutationCtx): Promise<Room | null> {
  const meta = ctx.meta as
    | {
        getTransactionMetrics?: () => Promise<
          Record<string, { used: number; remaining: number }>
        >;
      }
    | undefined;
  if (typeof meta?.getTransactionMetrics !== "function") return null;
  let m: Record<string, { used: number; remaining: number }>;
  try {
    m = await meta.getTransactionMetrics();
  } catch {
    return null;
  }
  const left = (key: string) => m[key]?.remaining ?? Infinity;
  return {
    documents:
      Math.min(left("documentsRead"), left("documentsWritten")) -
      RESERVE.documents,
    bytes: Math.min(left("bytesRead"), left("bytesWritten")) - RESERVE.bytes,
  };
}

/** The result of one sweep run. */
export const vSweepResult = v.object({
  /** State documents deleted by this run. */
  deleted: v.number(),
  /** Their estimated size in bytes. */
  bytes: v.number(),
  /** Whether full states remain (a continuation was scheduled, or one is pending). */
  more: v.boolean(),
});

/**
 * Deletes full states within this run's budget. Called by the cron (no
 * arguments) and by its own continuation (`chained: true`). A cron run
 * finding a continuation pending leaves the work to it.
 */
export const run = internalMutation({
  args: { chained: v.optional(v.boolean()) },
  returns: vSweepResult,
  handler: async (ctx, args) => {
    const marker = await ctx.db.query("sweeps").first();
    if (!args.chained && marker?.continuation) {
      const job = await ctx.db.system.get(
        "_scheduled_functions",
        marker.continuation,
      );
      if (job?.state.kind === "pending" || job?.state.kind === "inProgress")
        return { deleted: 0, bytes: 0, more: true };
    }
    const now = Date.now();
    const room = await transactionRoom(ctx);
    let maxDocuments = SWEEP_MAX_DOCUMENTS;
    let maxBytes = SWEEP_MAX_BYTES;
    if (room) {
      maxDocuments = Math.min(maxDocuments, room.documents);
      maxBytes = Math.min(maxBytes, room.bytes);
    }
    let deleted = 0;
    let bytes = 0;
    let more = false;
    const due = ctx.db
      .query("limitStates")
      .withIndex("by_fullAt", (q) => q.lte("fullAt", now));
    for await (const doc of due as AsyncIterable<Doc<"limitStates">>) {
      const size = estimateBytes(doc);
      // The first due state is always deleted: every run makes progress.
      if (deleted > 0 && (deleted >= maxDocuments || bytes + size > maxBytes)) {
        more = true;
        break;
      }
      await ctx.db.delete("limitStates", doc._id);
      deleted++;
      bytes += size;
      if (deleted % METRICS_EVERY === 0) {
        const left = await transactionRoom(ctx);
        if (left && (left.documents <= 0 || left.bytes <= 0)) {
          more = true;
          break;
        }
      }
    }
    const continuation = more
      ? await ctx.scheduler.runAfter(0, internal.sweep.run, { chained: true })
      : undefined;
    if (marker) {
      if (marker.continuation !== continuation || marker.scheduledFor != null)
        await ctx.db.replace("sweeps", marker._id, {
          ...(continuation ? { continuation } : {}),
        });
    } else if (continuation) await ctx.db.insert("sweeps", { continuation });
    if (deleted > 0 || more)
      logEvent("rateLimiter.sweep", { deleted, bytes, more });
    return { deleted, bytes, more };
  },
});
