import { v, type Value } from "convex/values";
import { mutation, type MutationCtx } from "./_generated/server.js";
import type { Doc } from "./_generated/dataModel.js";
import { opskitError } from "../../shared/errors.js";
import {
  checkDocument,
  describeViolation,
  documentSize,
} from "../../shared/limits.js";
import { appendHash, entryHashV2, HASH_FORMAT } from "./hashChain.js";
import { MAX_REASON_LENGTH } from "../shared/limits.js";
import {
  boundedChanged,
  encodeSnapshot,
  fitsInline,
  INLINE_ARGS_BYTES,
  INLINE_ENTRY_BYTES,
  MAX_STORED_ARGS_BYTES,
  type SnapshotRef,
} from "../shared/snapshot.js";
import {
  vEntryInput,
  vOperationFields,
  type EntryInput,
} from "../shared/validators.js";
import { storeSnapshot } from "./storage.js";

/** Upper bound on documents one admin call may touch (keeps sealing bounded). */
export const MAX_ENTRIES_PER_OPERATION = 1000;

/** Largest entry row without its before/after (ids, table, changed paths...). */
const MAX_ENTRY_METADATA_BYTES = 4 * 1024;

/**
 * Records one admin call and its entries. Called by the client inside the
 * admin mutation, so it commits (or rolls back) with the change itself.
 *
 * The append path only inserts: one operation plus one entry per touched
 * document (and snapshot parts for values too large for their row). It reads
 * nothing shared, so concurrent admin calls never conflict here; ordering
 * and chaining happen later in `chain.seal`. Each entry's hash is fixed
 * here, with its id, so the sealer never needs the values themselves.
 *
 * `entryCount` is the call's total when the entries arrive in several calls
 * (function arguments are capped at 16 MiB): the rest follow through
 * {@link appendEntries} in the same transaction.
 */
export const append = mutation({
  args: {
    operation: v.object(vOperationFields),
    entries: v.array(vEntryInput),
    entryCount: v.optional(v.number()),
  },
  returns: v.id("operations"),
  handler: async (ctx, { operation, entries, entryCount }) => {
    // The client enforces the configured policy; this guards direct callers.
    const reasonLength = operation.reason.trim().length;
    if (reasonLength === 0 || reasonLength > MAX_REASON_LENGTH)
      throw opskitError(
        "INVALID_ARGUMENT",
        `an audit reason of 1 to ${MAX_REASON_LENGTH} characters is required; got ${reasonLength}`,
      );
    const total = entryCount ?? entries.length;
    if (!Number.isInteger(total) || total < entries.length)
      throw opskitError(
        "INVALID_ARGUMENT",
        `entryCount must be an integer of at least the ${entries.length} entries sent; got ${total}`,
        { entryCount: total },
      );
    if (total > MAX_ENTRIES_PER_OPERATION)
      throw opskitError(
        "INVALID_ARGUMENT",
        `one admin operation may touch at most ${MAX_ENTRIES_PER_OPERATION} documents; this one touched ${total}`,
        { max: MAX_ENTRIES_PER_OPERATION, touched: total },
      );
    const argsText = encodeSnapshot(operation.args);
    if (argsText.bytes > MAX_STORED_ARGS_BYTES)
      throw opskitError(
        "INVALID_ARGUMENT",
        `stored args may take at most ${MAX_STORED_ARGS_BYTES} bytes as JSON; got ${argsText.bytes} (the client records larger args by size and hash)`,
        { max: MAX_STORED_ARGS_BYTES, bytes: argsText.bytes },
      );
    const argsValueBytes = documentSize(operation.args as Value);
    if (argsValueBytes > MAX_STORED_ARGS_BYTES)
      throw opskitError(
        "INVALID_ARGUMENT",
        `stored args may take at most ${MAX_STORED_ARGS_BYTES} bytes as a Convex value; got ${argsValueBytes} (the client records larger args by size and hash)`,
        { max: MAX_STORED_ARGS_BYTES, bytes: argsValueBytes },
      );
    const inlineArgs = fitsInline(operation.args, INLINE_ARGS_BYTES);
    const row = {
      ...operation,
      args: inlineArgs ? operation.args : null,
      entryCount: total,
      commitTs: ctx.db.vars.commitTs,
      sealed: false,
      format: HASH_FORMAT,
      entryHashes: [] as string[],
    };
    const fixed = checkDocument({ ...row, commitTs: 0 } as Record<
      string,
      Value
    >);
    if (fixed.length > 0)
      throw opskitError(
        "INVALID_ARGUMENT",
        `the operation record cannot be stored: ${describeViolation(fixed[0])}`,
        { violation: fixed[0].rule },
      );
    const operationId = await ctx.db.insert("operations", row);
    const argsRef = inlineArgs
      ? undefined
      : await storeSnapshot(ctx, operationId, -1, "args", argsText);
    const entryHashes = await storeEntries(
      ctx,
      { ...row, _id: operationId },
      0,
      entries,
    );
    await ctx.db.patch("operations", operationId, {
      entryHashes,
      ...(argsRef ? { argsRef } : {}),
      appendHash: appendHash({
        ...row,
        _id: operationId,
        entryHashes,
        ...(argsRef ? { argsRef } : {}),
      }),
    });
    return operationId;
  },
});

/**
 * The next entries of an operation {@link append} started with a larger
 * `entryCount`, from `fromIndex` (the number already stored). Refused once
 * the operation is sealed or complete.
 */
export const appendEntries = mutation({
  args: {
    operationId: v.id("operations"),
    fromIndex: v.number(),
    entries: v.array(vEntryInput),
  },
  returns: v.null(),
  handler: async (ctx, { operationId, fromIndex, entries }) => {
    const op = await ctx.db.get("operations", operationId);
    if (!op || op.sealed || op.format !== HASH_FORMAT)
      throw opskitError(
        "INVALID_ARGUMENT",
        `operation ${operationId} is not a pending operation taking entries`,
        { operationId },
      );
    const stored = op.entryHashes?.length ?? 0;
    if (fromIndex !== stored || stored + entries.length > op.entryCount)
      throw opskitError(
        "INVALID_ARGUMENT",
        `operation ${operationId} has ${stored} of ${op.entryCount} entries; got ${entries.length} from index ${fromIndex}`,
        { stored, entryCount: op.entryCount, fromIndex },
      );
    const entryHashes = await storeEntries(ctx, op, fromIndex, entries);
    await ctx.db.patch("operations", op._id, {
      entryHashes,
      appendHash: appendHash({ ...op, entryHashes }),
    });
    return null;
  },
});

type OperationRow = Pick<
  Doc<"operations">,
  "_id" | "actorId" | "functionName" | "time" | "entryHashes"
>;

/** Stores entries from `fromIndex`; returns the operation's entry hashes so far. */
async function storeEntries(
  ctx: MutationCtx,
  op: OperationRow,
  fromIndex: number,
  entries: EntryInput[],
): Promise<string[]> {
  const hashes = [...(op.entryHashes ?? [])];
  for (const [i, e] of entries.entries())
    hashes.push(await storeEntry(ctx, op, fromIndex + i, e));
  return hashes;
}

/**
 * Inserts one entry: inline when the row stays small and shallow, else with
 * its before and/or after in snapshot parts. Returns the entry's hash.
 */
async function storeEntry(
  ctx: MutationCtx,
  op: OperationRow,
  index: number,
  e: EntryInput,
): Promise<string> {
  const { changed, total } = boundedChanged(e.changed);
  const base = {
    operationId: op._id,
    index,
    table: e.table,
    docId: e.docId,
    kind: e.kind,
    changed,
    ...(total > changed.length ? { changedTotal: total } : {}),
    actorId: op.actorId,
    functionName: op.functionName,
    time: op.time,
  };
  const metadataBytes = documentSize(base as Value);
  if (metadataBytes > MAX_ENTRY_METADATA_BYTES)
    throw opskitError(
      "INVALID_ARGUMENT",
      `an entry's table, document id and names may take at most ${MAX_ENTRY_METADATA_BYTES} bytes; got ${metadataBytes}`,
      { bytes: metadataBytes },
    );
  const before = encodeSnapshot(e.before);
  const after = encodeSnapshot(e.after);
  // Spill the larger side first, then the other, until the row fits.
  const spill = { before: false, after: false };
  const inlineBytes = (side: "before" | "after") =>
    spill[side] ? 1 : documentSize(e[side] as Value);
  const fits = () =>
    metadataBytes + inlineBytes("before") + inlineBytes("after") + 64 <=
      INLINE_ENTRY_BYTES &&
    (spill.before || fitsInline(e.before as Value, INLINE_ENTRY_BYTES)) &&
    (spill.after || fitsInline(e.after as Value, INLINE_ENTRY_BYTES));
  const order: Array<"before" | "after"> =
    before.bytes >= after.bytes ? ["before", "after"] : ["after", "before"];
  for (const side of order) if (!fits()) spill[side] = true;
  const refs: { beforeRef?: SnapshotRef; afterRef?: SnapshotRef } = {};
  if (spill.before)
    refs.beforeRef = await storeSnapshot(ctx, op._id, index, "before", before);
  if (spill.after)
    refs.afterRef = await storeSnapshot(ctx, op._id, index, "after", after);
  const entryId = await ctx.db.insert("entries", {
    ...base,
    before: spill.before ? null : e.before,
    after: spill.after ? null : e.after,
    ...refs,
  });
  return entryHashV2({
    ...base,
    entryId,
    operationId: op._id,
    beforeHash: before.hash,
    afterHash: after.hash,
  });
}
