/**
 * Grant expiry by a scheduled write.
 *
 * A reactive query is recomputed when a document it read changes, never
 * because time passes: a grant that only *counts* as expired after
 * `expiresAt` would keep a subscribed client's old result alive. So each
 * user with expiring grants has one pending job, at the earliest expiry, that
 * removes what has expired from the user's grant document and from the
 * scope's membership rows — writes that re-run every query that read them.
 *
 * Invariant: whenever a user's grant document holds a grant with
 * `expiresAt`, a job is pending at or before the earliest such expiry (at
 * most {@link EXPIRY_HORIZON_MS} ahead: a later expiry is reached in hops), and
 * the document's `expiryCheckAt` names the time of the earliest pending job.
 * Jobs are idempotent (they remove only what is expired at their own `now`,
 * so a regrant or an extension is kept) and a superseded job that runs later
 * finds the newer job recorded and schedules nothing: one pending job per
 * user in the steady state, at most one scheduled per mutation.
 */
import { v } from "convex/values";
import { documentSize } from "../../shared/limits.js";
import { logEvent } from "../../shared/log.js";
import { internal } from "./_generated/api.js";
import type { Id } from "./_generated/dataModel.js";
import { internalMutation, type MutationCtx } from "./_generated/server.js";

/** Membership rows a single expiry run deletes at most; the rest continues in a follow-up run. */
export const EXPIRY_BATCH = 256;

/**
 * The furthest ahead an expiry job is scheduled: a deployment refuses to
 * schedule more than 5 years ahead, and a timer (convex-test's scheduler)
 * past 2^31 - 1 ms (24.8 days) fires at once. A later expiry is reached in
 * hops of this length, each a job that finds nothing expired and schedules
 * the next.
 */
export const EXPIRY_HORIZON_MS = 21 * 24 * 60 * 60 * 1000;

/** Stored scope for global grants (valid scopes always contain ":"). */
const GLOBAL = "";

/**
 * Called after a grant with `expiresAt` is written to the user's document:
 * schedules the expiry job unless one is already pending at or before
 * `expiresAt`. Schedules at most one function; returns whether it did.
 */
export async function scheduleExpiry(
  ctx: MutationCtx,
  grantsDocId: Id<"userGrants">,
  userId: string,
  expiresAt: number,
): Promise<boolean> {
  const doc = await ctx.db.get("userGrants", grantsDocId);
  if (doc === null) return false;
  const now = Date.now();
  const pending = doc.expiryCheckAt;
  if (pending !== undefined && pending > now && pending <= expiresAt)
    return false;
  const at = Math.min(expiresAt, now + EXPIRY_HORIZON_MS);
  await ctx.scheduler.runAt(at, internal.expiry.removeExpiredGrants, {
    userId,
  });
  await ctx.db.patch("userGrants", doc._id, { expiryCheckAt: at });
  return true;
}

/**
 * Deletes the membership rows of those `grants` that have expired by `now`
 * (a grant write drops expired grants from the user's document; their rows
 * go with them, so no row outlives its grant unwritten). At most
 * `MAX_GRANTS_PER_USER` grants: one indexed read and one delete each.
 */
export async function deleteExpiredMembers(
  ctx: MutationCtx,
  userId: string,
  grants: ReadonlyArray<{ role: string; scope?: string; expiresAt?: number }>,
  now: number,
): Promise<void> {
  for (const grant of grants) {
    if (grant.expiresAt === undefined || grant.expiresAt > now) continue;
    const member = await ctx.db
      .query("members")
      .withIndex("by_scope_user_role", (q) =>
        q
          .eq("scope", grant.scope ?? GLOBAL)
          .eq("userId", userId)
          .eq("role", grant.role),
      )
      .unique();
    if (
      member !== null &&
      member.expiresAt !== undefined &&
      member.expiresAt <= now
    )
      await ctx.db.delete("members", member._id);
  }
}

/**
 * Removes the user's grants that have expired by now from their grant
 * document and the matching membership rows (at most {@link EXPIRY_BATCH} a
 * run, continuing in a follow-up run), then makes sure the next expiry has a
 * job. Safe to run any number of times, at any time.
 */
export const removeExpiredGrants = internalMutation({
  args: { userId: v.string() },
  returns: v.object({
    removed: v.number(),
    next: v.union(v.null(), v.number()),
  }),
  handler: async (ctx, { userId }) => {
    const now = Date.now();
    const doc = await ctx.db
      .query("userGrants")
      .withIndex("by_userId", (q) => q.eq("userId", userId))
      .unique();
    if (doc === null) return { removed: 0, next: null };

    const expired = doc.grants
      .filter((g) => g.expiresAt !== undefined && g.expiresAt <= now)
      .slice(0, EXPIRY_BATCH);
    await deleteExpiredMembers(ctx, userId, expired, now);
    const removed = new Set(expired);
    const grants = doc.grants.filter((g) => !removed.has(g));

    // The next job: now, to finish a long backlog; else the earliest expiry left.
    const more = grants.some(
      (g) => g.expiresAt !== undefined && g.expiresAt <= now,
    );
    const earliest = grants.reduce<number | null>(
      (min, g) =>
        g.expiresAt === undefined || (min !== null && min <= g.expiresAt)
          ? min
          : g.expiresAt,
      null,
    );
    const next = more ? now : earliest;
    // Another job is already pending at or before `next` when the recorded
    // one is still ahead: this run was superseded, and schedules nothing.
    const pending = doc.expiryCheckAt;
    const covered =
      pending !== undefined &&
      pending > now &&
      next !== null &&
      pending <= next;
    let expiryCheckAt = covered ? pending : undefined;
    if (next !== null && !covered) {
      const at = Math.min(next, now + EXPIRY_HORIZON_MS);
      await ctx.scheduler.runAt(at, internal.expiry.removeExpiredGrants, {
        userId,
      });
      expiryCheckAt = at;
    }

    if (grants.length === 0) await ctx.db.delete("userGrants", doc._id);
    else if (removed.size > 0 || expiryCheckAt !== doc.expiryCheckAt)
      await ctx.db.replace("userGrants", doc._id, {
        userId: doc.userId,
        grants,
        ...(expiryCheckAt === undefined ? {} : { expiryCheckAt }),
      });
    if (removed.size > 0)
      logEvent("authz.expire", {
        userId,
        removed: removed.size,
        next,
      });
    return { removed: removed.size, next };
  },
});

/** Grant documents one backfill run reads at most, and bytes: it continues in a follow-up run. */
export const BACKFILL_DOCUMENTS = 200;
const BACKFILL_BYTES = 4 << 20;

/**
 * For data written before expiry jobs existed (convex-opskit 0.1): gives
 * every user with an expiring grant and no pending job one, reading at most
 * {@link BACKFILL_DOCUMENTS} grant documents or 4 MiB a run and continuing
 * in a follow-up run until every document was seen. Idempotent. Run it once
 * after upgrading: `npx convex run --component authz expiry:backfill`.
 */
export const backfill = internalMutation({
  args: { after: v.optional(v.number()) },
  returns: v.object({
    scanned: v.number(),
    scheduled: v.number(),
    done: v.boolean(),
  }),
  handler: async (ctx, { after }) => {
    const docs =
      after === undefined
        ? ctx.db.query("userGrants")
        : ctx.db
            .query("userGrants")
            .withIndex("by_creation_time", (q) => q.gt("_creationTime", after));
    let scanned = 0;
    let scheduled = 0;
    let bytes = 0;
    for await (const doc of docs) {
      scanned += 1;
      bytes += documentSize(doc);
      const earliest = doc.grants.reduce<number | null>(
        (min, g) =>
          g.expiresAt === undefined || (min !== null && min <= g.expiresAt)
            ? min
            : g.expiresAt,
        null,
      );
      if (earliest !== null) {
        if (await scheduleExpiry(ctx, doc._id, doc.userId, earliest))
          scheduled += 1;
      }
      if (scanned >= BACKFILL_DOCUMENTS || bytes >= BACKFILL_BYTES) {
        await ctx.scheduler.runAfter(0, internal.expiry.backfill, {
          after: doc._creationTime,
        });
        return { scanned, scheduled, done: false };
      }
    }
    return { scanned, scheduled, done: true };
  },
});
