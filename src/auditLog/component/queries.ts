import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { paginator } from "convex-helpers/server/pagination";
import { query } from "./_generated/server.js";
import schema from "./schema.js";
import { opskitError } from "../../shared/errors.js";
import {
  vEntry,
  vEntryKind,
  vOperation,
  vPage,
  vRecordedVersion,
  type RecordedVersion,
} from "../shared/validators.js";
import { entrySide, loadCost, toEntry, toOperation } from "./convert.js";
import { MAX_ENTRIES_PER_OPERATION } from "./log.js";
import { documentSize } from "../../shared/limits.js";
import { hashValue } from "../shared/hash.js";
import { JOB_READ_BYTES, PAGE_RETURN_BYTES } from "../shared/snapshot.js";
import { Budget, snapshotReadBytes } from "./storage.js";
import type { Doc } from "./_generated/dataModel.js";
import type { Value } from "convex/values";
import type { QueryCtx } from "./_generated/server.js";
import {
  checkPage,
  checkRange,
  MAX_PAGE_SIZE,
  ENTRY_INDEXES,
  indexFor,
  indexRange,
  OPERATION_INDEXES,
  orderedPage,
  vOrder,
  type ListKey,
} from "./paging.js";

/**
 * A page of entries, newest first by default, from exactly one index:
 * a document's history, a table, an actor, an entry kind, an actor in a
 * table, an actor's entries of one kind, or all entries — each optionally
 * limited to a time range. Every filter is part of the index range (none is
 * applied after reading), so a page's cost depends on the page size, never
 * on the size of the log or on how many entries the filters leave out.
 */
export const listEntries = query({
  args: {
    by: v.union(
      v.object({
        document: v.object({ table: v.string(), docId: v.string() }),
      }),
      v.object({ table: v.string() }),
      v.object({ actorId: v.string() }),
      v.object({ kind: vEntryKind }),
      v.object({ table: v.string(), actorId: v.string() }),
      v.object({ actorId: v.string(), kind: vEntryKind }),
      v.object({}),
    ),
    from: v.optional(v.number()),
    to: v.optional(v.number()),
    order: vOrder,
    paginationOpts: paginationOptsValidator,
  },
  returns: vPage(vEntry),
  handler: async (ctx, { by, from, to, order, paginationOpts }) => {
    checkPage(paginationOpts);
    checkRange(from, to);
    const { index, eq } = indexFor(ENTRY_INDEXES, by);
    const key: ListKey = { table: "entries", index, by, from, to, order };
    // The row type is the same whatever index of the table is read.
    const indexed = paginator(ctx.db, schema)
      .query("entries")
      .withIndex(index as "by_time", (q) => indexRange(q, eq, from, to));
    return orderedPage(ctx, key, indexed, paginationOpts, (row) =>
      toEntry(ctx, row),
    );
  },
});

/** A page of operations, newest first by default: all, by actor, or by function. */
export const listOperations = query({
  args: {
    by: v.union(
      v.object({ actorId: v.string() }),
      v.object({ functionName: v.string() }),
      v.object({}),
    ),
    from: v.optional(v.number()),
    to: v.optional(v.number()),
    order: vOrder,
    paginationOpts: paginationOptsValidator,
  },
  returns: vPage(vOperation),
  handler: async (ctx, { by, from, to, order, paginationOpts }) => {
    checkPage(paginationOpts);
    checkRange(from, to);
    const { index, eq } = indexFor(OPERATION_INDEXES, by);
    const key: ListKey = { table: "operations", index, by, from, to, order };
    const indexed = paginator(ctx.db, schema)
      .query("operations")
      .withIndex(index as "by_time", (q) => indexRange(q, eq, from, to));
    return orderedPage(ctx, key, indexed, paginationOpts, (row) =>
      toOperation(ctx, row),
    );
  },
});

/**
 * One operation with its entries from index `fromIndex` (default 0), or
 * null: as many entries as one query may read and return (at most 1,000),
 * and at most `limit` when given; `nextIndex` is where to continue, null
 * when all were returned.
 */
export const getOperation = query({
  args: {
    operationId: v.string(),
    fromIndex: v.optional(v.number()),
    limit: v.optional(v.number()),
  },
  returns: v.union(
    v.object({
      operation: vOperation,
      entries: v.array(vEntry),
      nextIndex: v.union(v.number(), v.null()),
    }),
    v.null(),
  ),
  handler: async (ctx, { operationId, fromIndex, limit }) => {
    const start = fromIndex ?? 0;
    if (!Number.isInteger(start) || start < 0)
      throw opskitError(
        "INVALID_ARGUMENT",
        `fromIndex must be a non-negative integer; got ${start}`,
      );
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1))
      throw opskitError(
        "INVALID_ARGUMENT",
        `limit must be a positive integer; got ${limit}`,
      );
    const id = ctx.db.normalizeId("operations", operationId);
    const row = id && (await ctx.db.get("operations", id));
    if (!row) return null;
    const budget = new Budget(ctx, JOB_READ_BYTES);
    budget.charge(loadCost(row));
    const operation = await toOperation(ctx, row);
    let returned = documentSize(operation as Value);
    const rows = await ctx.db
      .query("entries")
      .withIndex("by_operation", (q) =>
        q.eq("operationId", row._id).gte("index", start),
      )
      .take(Math.min(MAX_ENTRIES_PER_OPERATION, (limit ?? Infinity) + 1));
    const entries = [];
    let nextIndex: number | null = null;
    for (const e of rows) {
      const bytes = loadCost(e);
      if (
        entries.length === limit ||
        (entries.length > 0 &&
          (returned >= PAGE_RETURN_BYTES || !(await budget.fits(bytes))))
      ) {
        nextIndex = e.index;
        break;
      }
      const entry = await toEntry(ctx, e);
      budget.charge(bytes);
      returned += documentSize(entry as Value);
      entries.push(entry);
    }
    return { operation, entries, nextIndex };
  },
});

/** One entry, or null. */
export const getEntry = query({
  args: { entryId: v.string() },
  returns: v.union(vEntry, v.null()),
  handler: async (ctx, { entryId }) => {
    const id = ctx.db.normalizeId("entries", entryId);
    const row = id && (await ctx.db.get("entries", id));
    return row ? toEntry(ctx, row) : null;
  },
});

/**
 * A document as it was at time `at`: the `after` of its last entry at or
 * before `at`, or else the `before` of its first entry after `at`. `known` is
 * false when the log has nothing on the document either side of `at`.
 */
export const documentAt = query({
  args: { table: v.string(), docId: v.string(), at: v.number() },
  returns: v.object({
    known: v.boolean(),
    doc: v.union(v.any(), v.null()),
    entryId: v.optional(v.string()),
  }),
  handler: async (ctx, { table, docId, at }) => {
    const last = await ctx.db
      .query("entries")
      .withIndex("by_document", (q) =>
        q.eq("table", table).eq("docId", docId).lte("time", at),
      )
      .order("desc")
      .first();
    if (last)
      return {
        known: true,
        doc: await entrySide(ctx, last, "after"),
        entryId: last._id,
      };
    const next = await ctx.db
      .query("entries")
      .withIndex("by_document", (q) =>
        q.eq("table", table).eq("docId", docId).gt("time", at),
      )
      .first();
    if (next)
      return {
        known: true,
        doc: await entrySide(ctx, next, "before"),
        entryId: next._id,
      };
    return { known: false, doc: null };
  },
});

/**
 * A document's last recorded version, its `after` loaded if `budget` allows
 * and the page has returned less than {@link PAGE_RETURN_BYTES} so far
 * (`returned.bytes`, counted as Convex counts a return value: a value's JSON
 * text, which the read budget counts, can be 4.5 times smaller, e.g. `[0,0]`).
 */
async function recordedVersion(
  ctx: QueryCtx,
  row: Doc<"entries">,
  budget: Budget,
  first: boolean,
  returned: { bytes: number },
): Promise<RecordedVersion> {
  const afterHash = row.afterRef?.hash ?? hashValue(row.after);
  const cost = row.afterRef ? snapshotReadBytes(row.afterRef) : 0;
  const load =
    cost === 0 ||
    (returned.bytes < PAGE_RETURN_BYTES &&
      (await (first ? budget.fitsTransaction(cost) : budget.fits(cost))));
  if (load) budget.charge(cost);
  const after = load ? await entrySide(ctx, row, "after") : null;
  returned.bytes += documentSize(after) + 200;
  return {
    entryId: row._id,
    kind: row.kind,
    after,
    afterHash,
    afterLoaded: load,
  };
}

/**
 * The newest entry of each given document (one indexed read each), for
 * reconcile: its `after`, loaded while the read budget allows, and its hash.
 */
export const latestEntries = query({
  args: { table: v.string(), docIds: v.array(v.string()) },
  returns: v.array(
    v.object({ docId: v.string(), entry: v.union(vRecordedVersion, v.null()) }),
  ),
  handler: async (ctx, { table, docIds }) => {
    if (docIds.length > MAX_PAGE_SIZE)
      throw opskitError(
        "INVALID_ARGUMENT",
        `at most ${MAX_PAGE_SIZE} documents per call; got ${docIds.length}`,
      );
    const budget = new Budget(ctx, JOB_READ_BYTES);
    const returned = { bytes: 0 };
    const out = [];
    for (const [i, docId] of docIds.entries()) {
      const row = await ctx.db
        .query("entries")
        .withIndex("by_document", (q) =>
          q.eq("table", table).eq("docId", docId),
        )
        .order("desc")
        .first();
      if (row) budget.chargeRow(row);
      out.push({
        docId,
        entry: row
          ? await recordedVersion(ctx, row, budget, i === 0, returned)
          : null,
      });
    }
    return out;
  },
});

/**
 * The documents of a table the log has entries for, in id order, each with
 * its newest entry: a seek per document (two indexed reads), so a page costs
 * the same however long each history is. For finding out-of-band deletes.
 * Recorded versions are loaded while the read budget, less room for the
 * live documents the caller reads next, allows; the rest carry their hash.
 * With `upToDocId` the walk also stops before the first document after it
 * (a page refetched up to its fixed end).
 */
export const recordedDocuments = query({
  args: {
    table: v.string(),
    afterDocId: v.union(v.string(), v.null()),
    limit: v.number(),
    upToDocId: v.optional(v.string()),
  },
  returns: v.object({
    documents: v.array(
      v.object({ docId: v.string(), entry: vRecordedVersion }),
    ),
    continueCursor: v.union(v.string(), v.null()),
    isDone: v.boolean(),
  }),
  handler: async (ctx, { table, afterDocId, limit, upToDocId }) => {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)
      throw opskitError(
        "INVALID_ARGUMENT",
        `limit must be an integer from 1 to ${MAX_PAGE_SIZE}; got ${limit}`,
      );
    const budget = new Budget(ctx, JOB_READ_BYTES);
    const returned = { bytes: 0 };
    const documents = [];
    let cursor = afterDocId;
    for (let i = 0; i < limit; i++) {
      const after = cursor;
      const next = await ctx.db
        .query("entries")
        .withIndex("by_document", (q) =>
          after === null
            ? q.eq("table", table)
            : q.eq("table", table).gt("docId", after),
        )
        .first();
      if (!next) return { documents, continueCursor: cursor, isDone: true };
      if (upToDocId !== undefined && next.docId > upToDocId)
        return { documents, continueCursor: cursor, isDone: false };
      const latest =
        (await ctx.db
          .query("entries")
          .withIndex("by_document", (q) =>
            q.eq("table", table).eq("docId", next.docId),
          )
          .order("desc")
          .first()) ?? next;
      budget.chargeRow(next);
      budget.chargeRow(latest);
      // The caller reads each live document next, in this transaction:
      // keep room for it (about the size of its last recorded version).
      budget.charge(
        latest.afterRef?.bytes ?? documentSize(latest.after as Value),
        0,
      );
      documents.push({
        docId: next.docId,
        entry: await recordedVersion(ctx, latest, budget, i === 0, returned),
      });
      cursor = next.docId;
    }
    return { documents, continueCursor: cursor, isDone: false };
  },
});
