/**
 * Bounded storage: state documents that have refilled to full (and whose
 * penalty has ended) carry no information, so a scheduled sweep deletes them
 * in bounded batches. The chain runs only while states exist, so storage stays
 * proportional to the keys active within about a period.
 */
import { v } from "convex/values";
import { internal } from "./_generated/api.js";
import { internalMutation, type MutationCtx } from "./_generated/server.js";

/** Most documents one sweep deletes; keeps each sweep far below transaction limits. */
export const SWEEP_BATCH = 256;
/** Least time between two sweeps while states remain, so sweeps stay rare. */
export const SWEEP_INTERVAL = 60_000;

/**
 * Makes sure a sweep is scheduled once some state exists. Called only when a
 * state document is inserted, so the common path (patching an existing key)
 * never reads the singleton.
 */
export async function ensureSweep(
  ctx: MutationCtx,
  firstFullAt: number,
): Promise<void> {
  const marker = await ctx.db.query("sweeps").first();
  if (marker && marker.scheduledFor !== null) return;
  const now = Date.now();
  const at = Math.max(firstFullAt, now + SWEEP_INTERVAL);
  await ctx.scheduler.runAt(at, internal.sweep.run, {});
  if (marker) await ctx.db.patch("sweeps", marker._id, { scheduledFor: at });
  else await ctx.db.insert("sweeps", { scheduledFor: at });
}

/** Deletes up to {@link SWEEP_BATCH} full states, then schedules the next sweep if any state remains. */
export const run = internalMutation({
  args: {},
  returns: v.object({
    deleted: v.number(),
    next: v.union(v.number(), v.null()),
  }),
  handler: async (ctx) => {
    const now = Date.now();
    const done = await ctx.db
      .query("limitStates")
      .withIndex("by_fullAt", (q) => q.lte("fullAt", now))
      .take(SWEEP_BATCH);
    for (const doc of done) await ctx.db.delete("limitStates", doc._id);
    let next: number | null = null;
    if (done.length === SWEEP_BATCH) next = now;
    else {
      const earliest = await ctx.db
        .query("limitStates")
        .withIndex("by_fullAt")
        .first();
      if (earliest) next = Math.max(earliest.fullAt, now + SWEEP_INTERVAL);
    }
    if (next !== null) await ctx.scheduler.runAt(next, internal.sweep.run, {});
    const marker = await ctx.db.query("sweeps").first();
    if (marker)
      await ctx.db.patch("sweeps", marker._id, { scheduledFor: next });
    else await ctx.db.insert("sweeps", { scheduledFor: next });
    return { deleted: done.length, next };
  },
});
