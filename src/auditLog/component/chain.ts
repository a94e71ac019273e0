import { v } from "convex/values";
import {
  internalMutation,
  mutation,
  query,
  type MutationCtx,
  type QueryCtx,
} from "./_generated/server.js";
import { internal } from "./_generated/api.js";
import type { Doc } from "./_generated/dataModel.js";
import {
  entryHash,
  GENESIS_HASH,
  linkHash,
  operationContentHash,
  type ChainedEntry,
  type ChainedOperation,
} from "../chain.js";
import { opskitError } from "../../shared/errors.js";
import { MAX_ENTRIES_PER_OPERATION } from "./log.js";
import { vVerifyPage, type ChainProblem } from "../validators.js";

/** Operations sealed per transaction, and entries hashed per transaction. */
const SEAL_BATCH_OPERATIONS = 100;
const SEAL_BATCH_ENTRIES = 2000;
/** Operations checked per `verify` page by default, and at most. */
const VERIFY_PAGE = 100;
const VERIFY_PAGE_MAX = 500;

async function chainPoint(ctx: QueryCtx, name: "head" | "tail") {
  return ctx.db
    .query("chain")
    .withIndex("by_name", (q) => q.eq("name", name))
    .unique();
}

/** Writes the `head` or `tail` bookkeeping row. */
export async function setChainPoint(
  ctx: MutationCtx,
  name: "head" | "tail",
  seq: number,
  hash: string,
): Promise<void> {
  const row = await chainPoint(ctx, name);
  if (row) await ctx.db.patch("chain", row._id, { seq, hash });
  else await ctx.db.insert("chain", { name, seq, hash });
}

async function entriesOf(ctx: QueryCtx, op: Doc<"operations">) {
  return ctx.db
    .query("entries")
    .withIndex("by_operation", (q) => q.eq("operationId", op._id))
    .take(MAX_ENTRIES_PER_OPERATION + 1);
}

function chained(op: Doc<"operations">): ChainedOperation {
  if (typeof op.commitTs !== "bigint")
    throw new Error("operation read before its commit timestamp resolved");
  return { ...op, commitTs: op.commitTs };
}

function chainedEntry(e: Doc<"entries">): ChainedEntry {
  return { ...e, operationId: e.operationId };
}

/**
 * Seals committed, unsealed operations in commit order: assigns each the next
 * seq and its link hash. Only operations committed before this transaction's
 * snapshot are read, so racing appends never conflict with the sealer.
 * Returns how many were sealed and whether more are waiting.
 */
export async function sealBatch(
  ctx: MutationCtx,
): Promise<{ sealed: number; more: boolean }> {
  const snapshotTs = ctx.meta.getSnapshotTs();
  const pending = await ctx.db
    .query("operations")
    .withIndex("by_pending", (q) =>
      q.eq("sealed", false).lte("commitTs", snapshotTs),
    )
    .take(SEAL_BATCH_OPERATIONS + 1);
  if (pending.length === 0) return { sealed: 0, more: false };
  const head = await chainPoint(ctx, "head");
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  let sealed = 0;
  let hashedEntries = 0;
  for (const op of pending.slice(0, SEAL_BATCH_OPERATIONS)) {
    if (sealed > 0 && hashedEntries + op.entryCount > SEAL_BATCH_ENTRIES) break;
    const entries = await entriesOf(ctx, op);
    const entryHashes = entries.map((e) => entryHash(chainedEntry(e)));
    seq += 1;
    const hash = linkHash(
      prevHash,
      seq,
      operationContentHash(op._id, chained(op)),
      entryHashes,
    );
    await ctx.db.patch("operations", op._id, {
      sealed: true,
      seq,
      prevHash,
      hash,
      entryHashes,
    });
    prevHash = hash;
    sealed += 1;
    hashedEntries += entries.length;
  }
  await setChainPoint(ctx, "head", seq, prevHash);
  return { sealed, more: pending.length > sealed };
}

/**
 * Seals what is waiting, in bounded batches: seals one batch now and, while
 * more is waiting, schedules itself for the next. Run it from a cron.
 */
export const seal = mutation({
  args: {},
  returns: v.object({ sealed: v.number(), more: v.boolean() }),
  handler: async (ctx) => {
    const result = await sealBatch(ctx);
    if (result.more)
      await ctx.scheduler.runAfter(0, internal.chain.sealContinue, {});
    return result;
  },
});

/** The self-rescheduling continuation of {@link seal}; stops when nothing is left. */
export const sealContinue = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    const result = await sealBatch(ctx);
    if (result.more)
      await ctx.scheduler.runAfter(0, internal.chain.sealContinue, {});
    return null;
  },
});

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
 * ids and entry index. Stops after `limit` operations or past time `to`.
 */
export const verify = query({
  args: {
    fromSeq: v.optional(v.number()),
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
    if (startSeq === tailSeq + 1) prevHash = tail?.hash ?? GENESIS_HASH;
    else {
      const prev = await ctx.db
        .query("operations")
        .withIndex("by_seq", (q) => q.eq("seq", startSeq - 1))
        .first();
      prevHash = prev?.hash ?? null;
    }

    const ops = await ctx.db
      .query("operations")
      .withIndex("by_seq", (q) => q.gte("seq", startSeq))
      .take(limit);
    let expected = startSeq;
    let checked = 0;
    let firstSeq: number | null = null;
    let lastSeq: number | null = null;
    let stoppedByTime = false;
    for (const op of ops) {
      if (args.to !== undefined && op.time > args.to) {
        stoppedByTime = true;
        break;
      }
      const seq = op.seq!;
      firstSeq ??= seq;
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
      await checkOperation(ctx, op, prevHash, problems);
      prevHash = op.hash ?? null;
      expected = seq + 1;
      lastSeq = seq;
      checked += 1;
    }
    const reachedEnd = !stoppedByTime && ops.length < limit;
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
      isDone: stoppedByTime || reachedEnd,
      pendingSeal,
      firstSeq,
      lastSeq,
    };
  },
});

async function checkOperation(
  ctx: QueryCtx,
  op: Doc<"operations">,
  prevHash: string | null,
  problems: ChainProblem[],
): Promise<void> {
  const seq = op.seq!;
  const where = { seq, operationId: op._id };
  if (prevHash !== null && op.prevHash !== prevHash)
    problems.push({
      kind: "brokenLink",
      ...where,
      message: `operation ${seq} does not link to the operation before it (deleted, inserted or reordered)`,
    });
  const entries = await entriesOf(ctx, op);
  const stored = op.entryHashes ?? [];
  const byIndex = new Map<number, Doc<"entries">[]>();
  for (const e of entries)
    byIndex.set(e.index, [...(byIndex.get(e.index) ?? []), e]);
  const added: Doc<"entries">[] = [];
  for (let i = 0; i < stored.length; i++) {
    const [e, ...extra] = byIndex.get(i) ?? [];
    byIndex.delete(i);
    if (!e) {
      problems.push({
        kind: "entryMissing",
        ...where,
        entryIndex: i,
        message: `entry ${i} of operation ${seq} is missing`,
      });
      continue;
    }
    if (entryHash(chainedEntry(e)) !== stored[i])
      problems.push({
        kind: "entryEdited",
        ...where,
        entryId: e._id,
        entryIndex: i,
        message: `entry ${i} of operation ${seq} (${e.table} ${e.docId}) was edited after sealing`,
      });
    added.push(...extra);
  }
  for (const rest of byIndex.values()) added.push(...rest);
  for (const x of added)
    problems.push({
      kind: "entryAdded",
      ...where,
      entryId: x._id,
      entryIndex: x.index,
      message: `operation ${seq} has an entry (${x.table} ${x.docId}) that was not there when it was sealed`,
    });
  let recomputed: string | null = null;
  try {
    recomputed = linkHash(
      op.prevHash ?? "",
      seq,
      operationContentHash(op._id, chained(op)),
      stored,
    );
  } catch {
    recomputed = null;
  }
  if (recomputed !== op.hash)
    problems.push({
      kind: "operationEdited",
      ...where,
      message: `operation ${seq} (${op.functionName}) was edited after sealing`,
    });
}
