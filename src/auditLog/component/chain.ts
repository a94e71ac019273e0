/**
 * The hash chain's registered functions: `seal`, `sealContinue`, `head`,
 * `verify`. Sealing itself is ./sealing.ts; the row hashing and the checks
 * they report with are ./chainCheck.ts.
 */
import { v } from "convex/values";
import {
  internalMutation,
  mutation,
  query,
  type MutationCtx,
} from "./_generated/server.js";
import { internal } from "./_generated/api.js";
import { GENESIS_HASH } from "./hashChain.js";
import { opskitError } from "../../shared/errors.js";
import { JOB_READ_BYTES } from "../shared/snapshot.js";
import { Budget, checkSnapshot, snapshotReadBytes } from "./storage.js";
import { vVerifyPage, type ChainProblem } from "../shared/validators.js";
import {
  chainPoint,
  checkOperation,
  downgradeProblems,
  entriesOf,
  entryRowsBound,
  storedValues,
} from "./chainCheck.js";
import { sealBatch } from "./sealing.js";

/** Operations checked per `verify` page by default, and at most. */
const VERIFY_PAGE = 100;
const VERIFY_PAGE_MAX = 500;

/**
 * Seals what is waiting, in bounded batches: seals one batch now and, while
 * more is waiting, schedules itself for the next. Run it from a cron.
 */
export const seal = mutation({
  args: {},
  returns: v.object({ sealed: v.number(), more: v.boolean() }),
  handler: async (ctx) => await sealAndContinue(ctx),
});

/** The self-rescheduling continuation of {@link seal}; stops when nothing is left. */
export const sealContinue = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await sealAndContinue(ctx);
    return null;
  },
});

/** Seals one batch and, while more is waiting, schedules {@link sealContinue}. */
async function sealAndContinue(
  ctx: MutationCtx,
): Promise<{ sealed: number; more: boolean }> {
  const result = await sealBatch(ctx);
  if (result.more)
    await ctx.scheduler.runAfter(0, internal.chain.sealContinue, {});
  return result;
}

/** The last sealed seq and hash (publish it elsewhere to anchor the log), and where the chain starts. */
export const head = query({
  args: {},
  returns: v.object({
    seq: v.number(),
    hash: v.string(),
    tailSeq: v.number(),
    tailHash: v.string(),
  }),
  handler: async (ctx) => {
    const head = await chainPoint(ctx, "head");
    const tail = await chainPoint(ctx, "tail");
    return {
      seq: head?.seq ?? 0,
      hash: head?.hash ?? GENESIS_HASH,
      tailSeq: tail?.seq ?? 0,
      tailHash: tail?.hash ?? GENESIS_HASH,
    };
  },
});

/**
 * Checks one page of the sealed chain, in seq order, from `fromSeq` (or from
 * the first operation at or after time `from`, or from the start). Reports
 * every edited, missing, added or reordered operation or entry with its seq,
 * ids and entry index, and every damaged snapshot part (values stored
 * across rows are rehashed byte for byte). Stops after `limit` operations,
 * past time `to`, or when the next unit of work (an operation's rows, or one
 * stored value) would not fit the transaction's read budget; an operation
 * with more stored values than fit one page is resumed with `fromSnapshot`
 * (return values `nextSeq` and `nextSnapshot`).
 */
export const verify = query({
  args: {
    fromSeq: v.optional(v.number()),
    fromSnapshot: v.optional(v.number()),
    from: v.optional(v.number()),
    to: v.optional(v.number()),
    limit: v.optional(v.number()),
  },
  returns: vVerifyPage,
  handler: async (ctx, args) => {
    const limit = args.limit ?? VERIFY_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > VERIFY_PAGE_MAX)
      throw opskitError(
        "INVALID_ARGUMENT",
        `limit must be an integer from 1 to ${VERIFY_PAGE_MAX}; got ${limit}`,
      );
    const fromSnapshot = args.fromSnapshot ?? 0;
    if (!Number.isInteger(fromSnapshot) || fromSnapshot < 0)
      throw opskitError(
        "INVALID_ARGUMENT",
        `fromSnapshot must be a non-negative integer; got ${fromSnapshot}`,
      );
    const budget = new Budget(ctx, JOB_READ_BYTES);
    const head = await chainPoint(ctx, "head");
    const tail = await chainPoint(ctx, "tail");
    const headSeq = head?.seq ?? 0;
    const tailSeq = tail?.seq ?? 0;
    const pendingSeal =
      (await ctx.db
        .query("operations")
        .withIndex("by_pending", (q) => q.eq("sealed", false))
        .first()) !== null;

    let startSeq = Math.max(args.fromSeq ?? tailSeq + 1, tailSeq + 1);
    if (args.fromSeq === undefined && args.from !== undefined) {
      const first = await ctx.db
        .query("operations")
        .withIndex("by_sealed_time", (q) =>
          q.eq("sealed", true).gte("time", args.from!),
        )
        .first();
      startSeq = first?.seq ?? headSeq + 1;
    }

    const problems: ChainProblem[] = [];
    // The hash the first checked operation must link to.
    let prevHash: string | null;
    // The hash format of the operation before (null: unknown, deleted by retention).
    let prevFormat: number | undefined | null = null;
    if (startSeq === tailSeq + 1) prevHash = tail?.hash ?? GENESIS_HASH;
    else {
      const prev = await ctx.db
        .query("operations")
        .withIndex("by_seq", (q) => q.eq("seq", startSeq - 1))
        .first();
      prevHash = prev?.hash ?? null;
      prevFormat = prev ? prev.format : null;
    }

    const ops = ctx.db
      .query("operations")
      .withIndex("by_seq", (q) => q.gte("seq", startSeq));
    let expected = startSeq;
    let checked = 0;
    let firstSeq: number | null = null;
    let lastSeq: number | null = null;
    let stoppedByTime = false;
    let stoppedByBudget = false;
    let resumeAt = fromSnapshot;
    let nextSnapshot = 0;
    let seen = 0;
    let units = 0;
    let snapshotsChecked = 0;
    for await (const op of ops) {
      if (seen >= limit) break;
      seen += 1;
      if (args.to !== undefined && op.time > args.to) {
        stoppedByTime = true;
        break;
      }
      // Resuming inside an operation applies only to that operation (it may
      // have been deleted by retention since the last page).
      if (resumeAt > 0 && op.seq !== args.fromSeq) resumeAt = 0;
      budget.chargeRow(op);
      const rows = entryRowsBound(op);
      if (
        !(await (units === 0
          ? budget.fitsTransaction(rows, op.entryCount)
          : budget.fits(rows, op.entryCount)))
      ) {
        stoppedByBudget = true;
        nextSnapshot = resumeAt;
        expected = resumeAt > 0 ? op.seq! : expected;
        break;
      }
      const seq = op.seq!;
      const where = { seq, operationId: op._id };
      const entries = await entriesOf(ctx, op);
      for (const e of entries) budget.chargeRow(e);
      units += 1;
      if (resumeAt === 0) {
        if (seq !== expected) {
          problems.push({
            kind: "missingOperation",
            seq: expected,
            message:
              seq > expected
                ? `sealed operations ${expected}..${seq - 1} are missing`
                : `operation ${op._id} repeats seq ${seq}`,
          });
          // A gap means the link below cannot match either; report it once.
          prevHash = null;
        }
        firstSeq ??= seq;
        problems.push(...downgradeProblems(op, prevFormat, where));
        checkOperation(op, entries, prevHash, problems);
      }
      prevFormat = op.format;
      // Values stored across snapshot parts, each rehashed in full.
      const stored = storedValues(op, entries);
      let k = resumeAt;
      for (; k < stored.length; k++) {
        const s = stored[k];
        const bytes = snapshotReadBytes(s.ref);
        if (
          !(await (snapshotsChecked === 0
            ? budget.fitsTransaction(bytes, s.ref.parts)
            : budget.fits(bytes, s.ref.parts)))
        )
          break;
        snapshotsChecked += 1;
        const check = await checkSnapshot(
          ctx,
          op._id,
          s.entryIndex,
          s.side,
          s.ref,
        );
        budget.charge(snapshotReadBytes(s.ref), s.ref.parts);
        units += 1;
        if (check.problem !== null)
          problems.push(
            s.side === "args"
              ? {
                  kind: "operationEdited",
                  ...where,
                  message: `the arguments of operation ${seq} were edited after they were recorded (${check.problem})`,
                }
              : {
                  kind: "entryEdited",
                  ...where,
                  entryId: s.entryId,
                  entryIndex: s.entryIndex,
                  message: `the ${s.side} of entry ${s.entryIndex} of operation ${seq} was edited after it was recorded (${check.problem})`,
                },
          );
      }
      resumeAt = 0;
      if (k < stored.length) {
        // Not all of this operation's values fit: resume here next page.
        stoppedByBudget = true;
        nextSnapshot = k;
        expected = seq;
        firstSeq ??= seq;
        break;
      }
      prevHash = op.hash ?? null;
      expected = seq + 1;
      lastSeq = seq;
      checked += 1;
    }
    const reachedEnd = !stoppedByTime && !stoppedByBudget && seen < limit;
    if (reachedEnd && expected <= headSeq) {
      problems.push({
        kind: "missingOperation",
        seq: expected,
        message: `the head says seq ${headSeq} was sealed, but the chain ends at ${expected - 1}`,
      });
    }
    // `prevHash` is now the hash of seq `expected - 1`, also when this page
    // was empty because the previous one ended exactly at the head.
    if (
      reachedEnd &&
      head &&
      expected - 1 === headSeq &&
      prevHash !== null &&
      prevHash !== head.hash
    ) {
      problems.push({
        kind: "headMismatch",
        seq: headSeq,
        message: `the last operation's hash differs from the recorded head`,
      });
    }
    return {
      checked,
      problems,
      nextSeq: expected,
      nextSnapshot,
      isDone: stoppedByTime || reachedEnd,
      pendingSeal,
      firstSeq,
      lastSeq,
    };
  },
});
