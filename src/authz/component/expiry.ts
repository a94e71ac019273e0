/**
 * Grant expiry by a scheduled write.
 *
 * A reactive query is recomputed when a document it read changes, never
 * because time passes: a grant that only *counts* as expired after
 * `expiresAt` would keep a subscribed client's old result alive. So a job
 * runs at each expiry and removes what has expired from the user's grant
 * document and from the scope's membership rows — writes that re-run every
 * query that read them.
 *
 * One job serves the whole component. Each grant document keeps
 * `nextExpiry`, its earliest `expiresAt` (index `by_nextExpiry`), and the
 * singleton `expirySchedule` row says when the sweep next runs. A grant with
 * `expiresAt` reads that row and schedules only when no sweep is pending at or
 * before its expiry, so one mutation granting to any number of users schedules
 * a handful of functions, not one per user (a deployment refuses more than
 * 1,000 a mutation). The sweep expires the users due by its `now` (budgeted
 * by users, bytes and membership rows) and schedules itself again: at `now`
 * when more are due, else at the earliest `nextExpiry`.
 *
 * Invariant: whenever a grant document holds a grant with `expiresAt`, its
 * `nextExpiry` is the earliest one, and a sweep is pending at or before it
 * (at most {@link EXPIRY_HORIZON_MS} ahead: a later expiry is reached in
 * hops); the singleton's `at` names a sweep that has not run yet. Sweeps are
 * idempotent (they remove only what is expired at their own `now`, so a
 * regrant or an extension is kept) and a superseded sweep that runs later
 * finds a newer one recorded and schedules nothing. The singleton is written
 * only when a new earliest expiry appears or a sweep runs.
 */
import { v } from "convex/values";
import { documentSize } from "../../shared/limits.js";
import { logEvent } from "../../shared/log.js";
import { internal } from "./_generated/api.js";
import type { Doc } from "./_generated/dataModel.js";
import { internalMutation, type MutationCtx } from "./_generated/server.js";
// A cycle (grants.ts imports this file), safe: each side uses the other's
// functions only when a handler runs, never while the modules load.
import { findMember } from "./grants.js";

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

/**
 * How long past its time a recorded sweep may be before the next expiring
 * grant treats it as lost and schedules another (scheduled functions can
 * run late under load; one cancelled or failed for good never runs).
 */
export const EXPIRY_STALLED_MS = 10 * 60 * 1000;

/** Sweeps scheduled at one `Date.now()` (one transaction) at their own time; past it, one sweep at `now`. */
export const EXPIRY_SCHEDULES_PER_TRANSACTION = 8;

/** Grant documents one sweep reads at most, and bytes: the rest waits for a follow-up sweep at `now`. */
export const SWEEP_DOCUMENTS = 100;
const SWEEP_BYTES = 4 << 20;

/** The earliest `expiresAt` among `grants`, or undefined when none expires. */
export function earliestExpiry(
  grants: ReadonlyArray<{ expiresAt?: number }>,
): number | undefined {
  let min: number | undefined;
  for (const g of grants)
    if (g.expiresAt !== undefined && (min === undefined || g.expiresAt < min))
      min = g.expiresAt;
  return min;
}

/**
 * Makes sure the expiry sweep runs at or before `expiresAt` (or, beyond
 * {@link EXPIRY_HORIZON_MS}, at the horizon, from where it hops on). Reads the
 * singleton schedule row; schedules (and writes the row) only when no sweep is
 * recorded at or before that time. Within one transaction (one frozen
 * `Date.now()`) at most {@link EXPIRY_SCHEDULES_PER_TRANSACTION} sweeps are
 * scheduled at their own time; past that, one sweep at `now` covers every
 * later expiry (it runs after the commit and reschedules for the earliest).
 * Returns whether it scheduled.
 */
export async function ensureSweep(
  ctx: MutationCtx,
  expiresAt: number,
): Promise<boolean> {
  const now = Date.now();
  const row = await ctx.db.query("expirySchedule").first();
  // Whole milliseconds: a sweep's Date.now() is truncated to the millisecond,
  // so one scheduled at 1000.5 may read 1000 and find 1000.5 not yet expired.
  const wanted = Math.max(
    now,
    Math.ceil(Math.min(expiresAt, now + EXPIRY_HORIZON_MS)),
  );
  // A recorded sweep long overdue was lost (cancelled from the dashboard, or
  // failed): it covers nothing, or no expiry would ever run again. A merely
  // late one that still runs finds the newer row and schedules nothing.
  const lost = row !== null && row.at < now - EXPIRY_STALLED_MS;
  if (row !== null && !lost && row.at <= wanted) return false;
  const made = row !== null && row.madeAt === now ? row.made : 0;
  // After a lost sweep, expiries may be overdue: sweep now, which then
  // reschedules for the earliest one left.
  const at = lost || made >= EXPIRY_SCHEDULES_PER_TRANSACTION ? now : wanted;
  await ctx.scheduler.runAt(at, internal.expiry.sweepExpired, {});
  const next = { at, madeAt: now, made: made + 1 };
  if (row === null) await ctx.db.insert("expirySchedule", next);
  else await ctx.db.replace("expirySchedule", row._id, next);
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
    const member = await findMember(ctx, grant.scope, userId, grant.role);
    if (
      member !== null &&
      member.expiresAt !== undefined &&
      member.expiresAt <= now
    )
      await ctx.db.delete("members", member._id);
  }
}

/**
 * Removes from one grant document the grants expired by `now` (at most
 * `budget` of them, with their membership rows) and rewrites it with its new
 * `nextExpiry` (≤ `now` while expired grants are left for a later run), or
 * deletes it when no grant is left. Logs `authz.expire` when it removed any.
 */
async function expireUser(
  ctx: MutationCtx,
  doc: Doc<"userGrants">,
  now: number,
  budget: number,
): Promise<{ removed: number; nextExpiry: number | undefined }> {
  const expired = doc.grants
    .filter((g) => g.expiresAt !== undefined && g.expiresAt <= now)
    .slice(0, Math.max(0, budget));
  await deleteExpiredMembers(ctx, doc.userId, expired, now);
  const removed = new Set(expired);
  const grants = doc.grants.filter((g) => !removed.has(g));
  const nextExpiry = earliestExpiry(grants);
  if (grants.length === 0) await ctx.db.delete("userGrants", doc._id);
  else if (
    removed.size > 0 ||
    nextExpiry !== doc.nextExpiry ||
    doc.expiryCheckAt !== undefined
  )
    await ctx.db.replace("userGrants", doc._id, {
      userId: doc.userId,
      grants,
      ...(nextExpiry === undefined ? {} : { nextExpiry }),
    });
  if (removed.size > 0)
    logEvent("authz.expire", {
      userId: doc.userId,
      removed: removed.size,
      next: nextExpiry ?? null,
    });
  return { removed: removed.size, nextExpiry };
}

/**
 * The per-user expiry job of the previous version, kept so the jobs it
 * already scheduled still run: removes the user's grants that have expired
 * by now (at most {@link EXPIRY_BATCH}) and hands the rest to the sweep.
 * Safe to run any number of times, at any time.
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
    const { removed, nextExpiry } = await expireUser(
      ctx,
      doc,
      now,
      EXPIRY_BATCH,
    );
    if (nextExpiry !== undefined) await ensureSweep(ctx, nextExpiry);
    return { removed, next: nextExpiry ?? null };
  },
});

/**
 * The component's expiry sweep: expires the grants of the users whose
 * `nextExpiry` has passed — at most {@link SWEEP_DOCUMENTS} grant documents,
 * 4 MiB of them and {@link EXPIRY_BATCH} membership rows a run — then
 * schedules itself again: at `now` when more are due, else at the earliest
 * `nextExpiry` left (in hops beyond {@link EXPIRY_HORIZON_MS}), unless a
 * newer sweep is already recorded at or before that. Safe to run any number
 * of times, at any time.
 */
export const sweepExpired = internalMutation({
  args: {},
  returns: v.object({
    users: v.number(),
    removed: v.number(),
    next: v.union(v.null(), v.number()),
  }),
  handler: async (ctx) => {
    const now = Date.now();
    const due = ctx.db
      .query("userGrants")
      .withIndex("by_nextExpiry", (q) =>
        q.gte("nextExpiry", -Infinity).lte("nextExpiry", now),
      );
    const docs: Array<Doc<"userGrants">> = [];
    let bytes = 0;
    for await (const doc of due) {
      docs.push(doc);
      bytes += documentSize(doc);
      if (docs.length >= SWEEP_DOCUMENTS || bytes >= SWEEP_BYTES) break;
    }
    let removed = 0;
    let users = 0;
    for (const doc of docs) {
      if (removed >= EXPIRY_BATCH) break;
      users += 1;
      removed += (await expireUser(ctx, doc, now, EXPIRY_BATCH - removed))
        .removed;
    }

    const first = await ctx.db
      .query("userGrants")
      .withIndex("by_nextExpiry", (q) => q.gte("nextExpiry", -Infinity))
      .first();
    // Whole milliseconds (see ensureSweep): at a fraction before the expiry
    // this sweep would find it not expired and, recorded, schedule nothing.
    const next =
      first?.nextExpiry === undefined
        ? null
        : Math.max(now, Math.ceil(first.nextExpiry));
    const row = await ctx.db.query("expirySchedule").first();
    // A sweep recorded ahead of now is a newer one: it covers `next` or reschedules.
    const superseded = row !== null && row.at > now;
    if (next === null) {
      if (row !== null && !superseded)
        await ctx.db.delete("expirySchedule", row._id);
    } else if (!(superseded && row.at <= next)) {
      const at = Math.min(next, now + EXPIRY_HORIZON_MS);
      await ctx.scheduler.runAt(at, internal.expiry.sweepExpired, {});
      const record = { at, madeAt: now, made: 1 };
      if (row === null) await ctx.db.insert("expirySchedule", record);
      else await ctx.db.replace("expirySchedule", row._id, record);
    }
    return { users, removed, next };
  },
});

/** Grant documents one backfill run reads at most, and bytes: it continues in a follow-up run. */
export const BACKFILL_DOCUMENTS = 200;
const BACKFILL_BYTES = 4 << 20;

/**
 * For data written before the expiry sweep existed (convex-opskit 0.1, or a
 * grant document not written since): gives every grant document with an
 * expiring grant its `nextExpiry` and makes sure the sweep covers it, reading
 * at most {@link BACKFILL_DOCUMENTS} grant documents or 4 MiB a run and
 * continuing in a follow-up run until every document was seen. `scheduled`
 * counts the documents it put on the expiry index. Idempotent. Run it once
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
      const earliest = earliestExpiry(doc.grants);
      if (earliest !== undefined) {
        if (doc.nextExpiry !== earliest) {
          await ctx.db.patch("userGrants", doc._id, { nextExpiry: earliest });
          scheduled += 1;
        }
        await ensureSweep(ctx, earliest);
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
