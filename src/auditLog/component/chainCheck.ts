/**
 * The chain's rows and their checks: reading the `head`/`tail` points and an
 * operation's entries, hashing an operation or entry row as its hash format
 * defines it, and the problems `sealBatch` and `verify` (./chain.ts) report.
 */
import type { MutationCtx, QueryCtx } from "./_generated/server.js";
import type { Doc } from "./_generated/dataModel.js";
import {
  appendHash,
  entryHash,
  entryHashV2,
  HASH_FORMAT,
  linkHash,
  operationContentHash,
  operationContentHashV2,
  type ChainedEntry,
  type ChainedOperation,
} from "./hashChain.js";
import { hashValue } from "../shared/hash.js";
import { INLINE_ENTRY_BYTES, type SnapshotRef } from "../shared/snapshot.js";
import { MAX_ENTRIES_PER_OPERATION } from "./log.js";
import type { ChainProblem } from "../shared/validators.js";

export async function chainPoint(ctx: QueryCtx, name: "head" | "tail") {
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

export async function entriesOf(ctx: QueryCtx, op: Doc<"operations">) {
  return ctx.db
    .query("entries")
    .withIndex("by_operation", (q) => q.eq("operationId", op._id))
    .take(Math.max(op.entryCount, MAX_ENTRIES_PER_OPERATION) + 1);
}

/** The most an operation's entry rows can take to read (format 2 keeps rows small). */
export function entryRowsBound(op: Doc<"operations">): number {
  return op.format === HASH_FORMAT
    ? (op.entryCount + 1) * INLINE_ENTRY_BYTES
    : 0;
}

function chained(op: Doc<"operations">): ChainedOperation {
  if (typeof op.commitTs !== "bigint")
    throw new Error("operation read before its commit timestamp resolved");
  return { ...op, commitTs: op.commitTs };
}

export function chainedEntry(e: Doc<"entries">): ChainedEntry {
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
export function rowContentHash(op: Doc<"operations">): string {
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
export function entryProblems(
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
  return [...problems, ...addedProblems(added, where, "recorded with it")];
}

/** An `entryAdded` problem per row in `added`: an entry that was not `when`. */
function addedProblems(
  added: Doc<"entries">[],
  where: { seq: number; operationId: string },
  when: string,
): ChainProblem[] {
  return added.map((x) => ({
    kind: "entryAdded",
    ...where,
    entryId: x._id,
    entryIndex: x.index,
    message: `operation ${where.seq} has an entry (${x.table} ${x.docId}) that was not ${when}`,
  }));
}

type StoredValue = {
  side: "before" | "after" | "args";
  entryIndex: number;
  entryId?: string;
  ref: SnapshotRef;
};

/** An operation's values stored across snapshot parts, in a fixed order: args, then each entry's before and after. */
export function storedValues(
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

export function checkOperation(
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
export function downgradeProblems(
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
export function appendProblems(
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
  return [
    ...problems,
    ...addedProblems(added, where, "there when it was sealed"),
  ];
}
