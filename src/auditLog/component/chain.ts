// Over ~400 lines, not yet split: the split along its seams is issue 13's
// (architecture) work, planned file by file and kept out of the hardening
// sessions so the attack fixes could land without a concurrent reshape.
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
  appendHash,
  entryHash,
  entryHashV2,
  GENESIS_HASH,
  HASH_FORMAT,
  linkHash,
  operationContentHash,
  operationContentHashV2,
  type ChainedEntry,
  type ChainedOperation,
} from "../shared/chain.js";
import { hashValue } from "../shared/hash.js";
import { opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import {
  INLINE_ENTRY_BYTES,
  JOB_READ_BYTES,
  type SnapshotRef,
} from "../shared/snapshot.js";
import { MAX_ENTRIES_PER_OPERATION } from "./log.js";
import {
  Budget,
  checkSnapshot,
  snapshotReadBytes,
  snapshotTs,
} from "./storage.js";
import { vVerifyPage, type ChainProblem } from "../shared/validators.js";

/** Operations sealed per transaction at most (bytes usually bind first). */
const SEAL_BATCH_OPERATIONS = 100;
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
    .take(Math.max(op.entryCount, MAX_ENTRIES_PER_OPERATION) + 1);
}

/** The most an operation's entry rows can take to read (format 2 keeps rows small). */
function entryRowsBound(op: Doc<"operations">): number {
  return op.format === HASH_FORMAT
    ? (op.entryCount + 1) * INLINE_ENTRY_BYTES
    : 0;
}

function chained(op: Doc<"operations">): ChainedOperation {
  if (typeof op.commitTs !== "bigint")
    throw new Error("operation read before its commit timestamp resolved");
  return { ...op, commitTs: op.commitTs };
}

function chainedEntry(e: Doc<"entries">): ChainedEntry {
  return { ...e, operationId: e.operationId };
}

/** An entry row's hash as its operation's format defines it. */
export function rowEntryHash(op: Doc<"operations">, e: Doc<"entries">): string {
  if (op.format !== HASH_FORMAT) return entryHash(chainedEntry(e));
  return entryHashV2({
    entryId: e._id,
    operationId: e.operationId,
    index: e.index,
    table: e.table,
    docId: e.docId,
    kind: e.kind,
    beforeHash: e.beforeRef?.hash ?? hashValue(e.before),
    afterHash: e.afterRef?.hash ?? hashValue(e.after),
    changed: e.changed,
    ...(e.changedTotal !== undefined ? { changedTotal: e.changedTotal } : {}),
    actorId: e.actorId,
    functionName: e.functionName,
    time: e.time,
  });
}

/** An operation row's content hash as its format defines it. */
function rowContentHash(op: Doc<"operations">): string {
  if (op.format !== HASH_FORMAT)
    return operationContentHash(op._id, chained(op));
  const { args: _args, ...rest } = chained(op);
  return operationContentHashV2(
    op._id,
    rest,
    op.argsRef?.hash ?? hashValue(op.args),
  );
}

/**
 * The problems of an operation's entry rows against its entry hashes and
 * `entryCount`: missing, added, or edited entries (and a hash list that
 * does not match the count). Used by sealing and by `verify`.
 */
function entryProblems(
  op: Doc<"operations">,
  entries: Doc<"entries">[],
  stored: readonly string[],
  where: { seq: number; operationId: string },
): ChainProblem[] {
  const problems: ChainProblem[] = [];
  const byIndex = new Map<number, Doc<"entries">[]>();
  for (const e of entries)
    byIndex.set(e.index, [...(byIndex.get(e.index) ?? []), e]);
  const added: Doc<"entries">[] = [];
  const expected = Math.max(stored.length, op.entryCount);
  for (let i = 0; i < expected; i++) {
    const [e, ...extra] = byIndex.get(i) ?? [];
    byIndex.delete(i);
    added.push(...extra);
    if (!e || i >= stored.length) {
      problems.push({
        kind: "entryMissing",
        ...where,
        entryIndex: i,
        message:
          i >= stored.length
            ? `operation ${where.seq} recorded ${op.entryCount} entries but hashed ${stored.length}: entry ${i} is not covered`
            : `entry ${i} of operation ${where.seq} is missing`,
      });
      if (e) added.push(e);
      continue;
    }
    if (i >= op.entryCount) {
      added.push(e);
      continue;
    }
    if (rowEntryHash(op, e) !== stored[i])
      problems.push({
        kind: "entryEdited",
        ...where,
        entryId: e._id,
        entryIndex: i,
        message: `entry ${i} of operation ${where.seq} (${e.table} ${e.docId}) was edited, or moved to another id, after it was recorded`,
      });
  }
  for (const rest of byIndex.values()) added.push(...rest);
  for (const x of added)
    problems.push({
      kind: "entryAdded",
      ...where,
      entryId: x._id,
      entryIndex: x.index,
      message: `operation ${where.seq} has an entry (${x.table} ${x.docId}) that was not recorded with it`,
    });
  return problems;
}

/**
 * Seals committed, unsealed operations in commit order: assigns each the next
 * seq and its link hash. Only operations committed before this transaction's
 * snapshot are read, so racing appends never conflict with the sealer.
 *
 * Sized by bytes: each operation is sealed only if its rows (counted at the
 * most they can take) still fit `budget`, except the first, which always
 * does (an operation's rows are bounded to fit one transaction), so every
 * call makes progress and no batch can get stuck. Entries of format-2
 * operations are recounted and rehashed against what append recorded;
 * differences are logged as `auditLog.tamper` and left for `verify` to
 * report (the seal keeps the hashes fixed at append).
 * Returns how many were sealed and whether more are waiting.
 */
export async function sealBatch(
  ctx: MutationCtx,
  budget: Budget = new Budget(ctx, JOB_READ_BYTES),
): Promise<{ sealed: number; more: boolean }> {
  const upTo = snapshotTs(ctx);
  const pending = ctx.db
    .query("operations")
    .withIndex("by_pending", (q) =>
      upTo === null
        ? q.eq("sealed", false)
        : q.eq("sealed", false).lte("commitTs", upTo),
    );
  let head: Doc<"chain"> | null | undefined;
  /** The hash format of the operation sealed last (undefined: format 1 or none). */
  let prevFormat: number | undefined;
  let seq = 0;
  let prevHash = GENESIS_HASH;
  let sealed = 0;
  let more = false;
  for await (const op of pending) {
    if (sealed >= SEAL_BATCH_OPERATIONS) {
      more = true;
      break;
    }
    budget.chargeRow(op);
    if (sealed > 0 && !(await budget.fits(entryRowsBound(op), op.entryCount))) {
      more = true;
      break;
    }
    if (head === undefined) {
      head = await chainPoint(ctx, "head");
      seq = head?.seq ?? 0;
      prevHash = head?.hash ?? GENESIS_HASH;
      const last = head
        ? await ctx.db
            .query("operations")
            .withIndex("by_seq", (q) => q.eq("seq", head!.seq))
            .first()
        : null;
      if (last) budget.chargeRow(last);
      prevFormat = last?.format;
    }
    const entries = await entriesOf(ctx, op);
    for (const e of entries) budget.chargeRow(e);
    let entryHashes: string[];
    seq += 1;
    const downgraded = downgradeProblems(op, prevFormat, {
      seq,
      operationId: op._id,
    });
    prevFormat = op.format;
    if (downgraded.length > 0)
      logEvent("auditLog.tamper", {
        stage: "seal",
        seq,
        operationId: op._id,
        functionName: op.functionName,
        actorId: op.actorId,
        problems: downgraded.length,
        first: downgraded[0],
      });
    if (op.format === HASH_FORMAT) {
      entryHashes = op.entryHashes ?? [];
      const problems = [
        ...appendProblems(op, { seq, operationId: op._id }),
        ...entryProblems(op, entries, entryHashes, {
          seq,
          operationId: op._id,
        }),
      ];
      if (problems.length > 0)
        logEvent("auditLog.tamper", {
          stage: "seal",
          seq,
          operationId: op._id,
          functionName: op.functionName,
          actorId: op.actorId,
          problems: problems.length,
          first: problems[0],
        });
    } else entryHashes = entries.map((e) => entryHash(chainedEntry(e)));
    const hash = linkHash(prevHash, seq, rowContentHash(op), entryHashes);
    await ctx.db.patch("operations", op._id, {
      sealed: true,
      seq,
      prevHash,
      hash,
      entryHashes,
    });
    prevHash = hash;
    sealed += 1;
    if (budget.bytesUsed >= budget.maxBytes) {
      // Rows of format 1 are not bounded in advance; stop once over.
      more = true;
      break;
    }
  }
  if (sealed > 0) await setChainPoint(ctx, "head", seq, prevHash);
  return { sealed, more };
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

type StoredValue = {
  side: "before" | "after" | "args";
  entryIndex: number;
  entryId?: string;
  ref: SnapshotRef;
};

/** An operation's values stored across snapshot parts, in a fixed order: args, then each entry's before and after. */
function storedValues(
  op: Doc<"operations">,
  entries: Doc<"entries">[],
): StoredValue[] {
  const out: StoredValue[] = [];
  if (op.argsRef) out.push({ side: "args", entryIndex: -1, ref: op.argsRef });
  const ordered = [...entries].sort(
    (a, b) => a.index - b.index || a._creationTime - b._creationTime,
  );
  for (const e of ordered) {
    if (e.beforeRef)
      out.push({
        side: "before",
        entryIndex: e.index,
        entryId: e._id,
        ref: e.beforeRef,
      });
    if (e.afterRef)
      out.push({
        side: "after",
        entryIndex: e.index,
        entryId: e._id,
        ref: e.afterRef,
      });
  }
  return out;
}

function checkOperation(
  op: Doc<"operations">,
  entries: Doc<"entries">[],
  prevHash: string | null,
  problems: ChainProblem[],
): void {
  const seq = op.seq!;
  const where = { seq, operationId: op._id };
  if (prevHash !== null && op.prevHash !== prevHash)
    problems.push({
      kind: "brokenLink",
      ...where,
      message: `operation ${seq} does not link to the operation before it (deleted, inserted or reordered)`,
    });
  const stored = op.entryHashes ?? [];
  if (op.format === HASH_FORMAT)
    problems.push(...entryProblems(op, entries, stored, where));
  else problems.push(...legacyEntryProblems(entries, stored, where));
  let recomputed: string | null = null;
  try {
    recomputed = linkHash(op.prevHash ?? "", seq, rowContentHash(op), stored);
  } catch {
    recomputed = null;
  }
  if (recomputed !== op.hash)
    problems.push({
      kind: "operationEdited",
      ...where,
      message: `operation ${seq} (${op.functionName}) was edited after sealing`,
    });
  // Sealed as found: an edit made while it was pending shows only here.
  else problems.push(...appendProblems(op, where));
}

/**
 * An operation without format 2 (as 0.1 appended it) sealed after one with
 * it: never legitimate, since sealing follows commit order and this version
 * appends only format 2. A pending row passed off as 0.1's would otherwise
 * be hashed as found at seal, escaping every append-time check.
 */
function downgradeProblems(
  op: Doc<"operations">,
  prevFormat: number | undefined | null,
  where: { seq: number; operationId: string },
): ChainProblem[] {
  return prevFormat === HASH_FORMAT && op.format !== HASH_FORMAT
    ? [
        {
          kind: "operationEdited",
          ...where,
          message: `operation ${where.seq} (${op.functionName}) is stored in an older hash format than the operation before it: its append-time hashes were removed`,
        },
      ]
    : [];
}

/**
 * The operation row against the hash append fixed (format 2 rows that have
 * one): an edit of a pending operation's own fields, or of its entry count
 * and entry hashes together, is `operationEdited`.
 */
function appendProblems(
  op: Doc<"operations">,
  where: { seq: number; operationId: string },
): ChainProblem[] {
  if (op.format !== HASH_FORMAT) return [];
  let recomputed: string | null;
  try {
    recomputed = appendHash(op);
  } catch {
    recomputed = null;
  }
  return op.appendHash !== undefined && recomputed === op.appendHash
    ? []
    : [
        {
          kind: "operationEdited",
          ...where,
          message: `operation ${where.seq} (${op.functionName}) was edited after it was recorded, before it was sealed`,
        },
      ];
}

/** Entry checks for operations sealed by format 1 (hashes taken at seal time). */
function legacyEntryProblems(
  entries: Doc<"entries">[],
  stored: readonly string[],
  where: { seq: number; operationId: string },
): ChainProblem[] {
  const problems: ChainProblem[] = [];
  const seq = where.seq;
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
  return problems;
}
