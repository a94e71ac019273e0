import { paginationOptsValidator, type PaginationOptions } from "convex/server";
import { v } from "convex/values";
import { paginator } from "convex-helpers/server/pagination";
import { query } from "./_generated/server.js";
import schema from "./schema.js";
import { opskitError } from "../../shared/errors.js";
import { vEntry, vEntryKind, vOperation, vPage } from "../validators.js";
import { toEntry, toOperation } from "./convert.js";
import { MAX_ENTRIES_PER_OPERATION } from "./log.js";

/** Largest page a list query serves; bigger requests are refused, not truncated. */
export const MAX_PAGE_SIZE = 500;

const vOrder = v.optional(v.union(v.literal("asc"), v.literal("desc")));

function checkPage(opts: PaginationOptions): void {
  if (
    !Number.isInteger(opts.numItems) ||
    opts.numItems < 1 ||
    opts.numItems > MAX_PAGE_SIZE
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      `paginationOpts.numItems must be an integer from 1 to ${MAX_PAGE_SIZE}; got ${opts.numItems}`,
      { numItems: opts.numItems },
    );
}

function checkRange(from?: number, to?: number): void {
  if (from !== undefined && to !== undefined && from > to)
    throw opskitError(
      "INVALID_ARGUMENT",
      `from (${from}) is after to (${to})`,
      { from, to },
    );
}

/** Adds an optional `time` range to an index range that already fixed its equality prefix. */
// The index builder's type changes with every call; this helper only appends
// the trailing `time` bounds, which every index used here ends with.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function withTime(q: any, from?: number, to?: number): any {
  let r = q;
  if (from !== undefined) r = r.gte("time", from);
  if (to !== undefined) r = r.lte("time", to);
  return r;
}

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
    const entries = paginator(ctx.db, schema).query("entries");
    const indexed =
      "document" in by
        ? entries.withIndex("by_document", (q) =>
            withTime(
              q.eq("table", by.document.table).eq("docId", by.document.docId),
              from,
              to,
            ),
          )
        : "table" in by && "actorId" in by
          ? entries.withIndex("by_table_actor", (q) =>
              withTime(
                q.eq("table", by.table).eq("actorId", by.actorId),
                from,
                to,
              ),
            )
          : "actorId" in by && "kind" in by
            ? entries.withIndex("by_actor_kind", (q) =>
                withTime(
                  q.eq("actorId", by.actorId).eq("kind", by.kind),
                  from,
                  to,
                ),
              )
            : "table" in by
              ? entries.withIndex("by_table", (q) =>
                  withTime(q.eq("table", by.table), from, to),
                )
              : "actorId" in by
                ? entries.withIndex("by_actor", (q) =>
                    withTime(q.eq("actorId", by.actorId), from, to),
                  )
                : "kind" in by
                  ? entries.withIndex("by_kind", (q) =>
                      withTime(q.eq("kind", by.kind), from, to),
                    )
                  : entries.withIndex("by_time", (q) => withTime(q, from, to));
    const result = await indexed
      .order(order ?? "desc")
      .paginate(paginationOpts);
    return {
      page: result.page.map(toEntry),
      isDone: result.isDone,
      continueCursor: result.continueCursor,
    };
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
    const ops = paginator(ctx.db, schema).query("operations");
    const indexed =
      "actorId" in by
        ? ops.withIndex("by_actor", (q) =>
            withTime(q.eq("actorId", by.actorId), from, to),
          )
        : "functionName" in by
          ? ops.withIndex("by_function", (q) =>
              withTime(q.eq("functionName", by.functionName), from, to),
            )
          : ops.withIndex("by_time", (q) => withTime(q, from, to));
    const result = await indexed
      .order(order ?? "desc")
      .paginate(paginationOpts);
    return {
      page: result.page.map(toOperation),
      isDone: result.isDone,
      continueCursor: result.continueCursor,
    };
  },
});

/** One operation with all its entries (at most 1000), or null. */
export const getOperation = query({
  args: { operationId: v.string() },
  returns: v.union(
    v.object({ operation: vOperation, entries: v.array(vEntry) }),
    v.null(),
  ),
  handler: async (ctx, { operationId }) => {
    const id = ctx.db.normalizeId("operations", operationId);
    const row = id && (await ctx.db.get("operations", id));
    if (!row) return null;
    const entries = await ctx.db
      .query("entries")
      .withIndex("by_operation", (q) => q.eq("operationId", row._id))
      .take(MAX_ENTRIES_PER_OPERATION);
    return { operation: toOperation(row), entries: entries.map(toEntry) };
  },
});

/** One entry, or null. */
export const getEntry = query({
  args: { entryId: v.string() },
  returns: v.union(vEntry, v.null()),
  handler: async (ctx, { entryId }) => {
    const id = ctx.db.normalizeId("entries", entryId);
    const row = id && (await ctx.db.get("entries", id));
    return row ? toEntry(row) : null;
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
    if (last) return { known: true, doc: last.after, entryId: last._id };
    const next = await ctx.db
      .query("entries")
      .withIndex("by_document", (q) =>
        q.eq("table", table).eq("docId", docId).gt("time", at),
      )
      .first();
    if (next) return { known: true, doc: next.before, entryId: next._id };
    return { known: false, doc: null };
  },
});

/** The newest entry of each given document (one indexed read each); for reconcile and revert. */
export const latestEntries = query({
  args: { table: v.string(), docIds: v.array(v.string()) },
  returns: v.array(
    v.object({ docId: v.string(), entry: v.union(vEntry, v.null()) }),
  ),
  handler: async (ctx, { table, docIds }) => {
    if (docIds.length > MAX_PAGE_SIZE)
      throw opskitError(
        "INVALID_ARGUMENT",
        `at most ${MAX_PAGE_SIZE} documents per call; got ${docIds.length}`,
      );
    return Promise.all(
      docIds.map(async (docId) => {
        const row = await ctx.db
          .query("entries")
          .withIndex("by_document", (q) =>
            q.eq("table", table).eq("docId", docId),
          )
          .order("desc")
          .first();
        return { docId, entry: row ? toEntry(row) : null };
      }),
    );
  },
});

/**
 * The documents of a table the log has entries for, in id order, each with
 * its newest entry: a seek per document (two indexed reads), so a page costs
 * the same however long each history is. For finding out-of-band deletes.
 */
export const recordedDocuments = query({
  args: {
    table: v.string(),
    afterDocId: v.union(v.string(), v.null()),
    limit: v.number(),
  },
  returns: v.object({
    documents: v.array(v.object({ docId: v.string(), entry: vEntry })),
    continueCursor: v.union(v.string(), v.null()),
    isDone: v.boolean(),
  }),
  handler: async (ctx, { table, afterDocId, limit }) => {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE)
      throw opskitError(
        "INVALID_ARGUMENT",
        `limit must be an integer from 1 to ${MAX_PAGE_SIZE}; got ${limit}`,
      );
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
      const latest = await ctx.db
        .query("entries")
        .withIndex("by_document", (q) =>
          q.eq("table", table).eq("docId", next.docId),
        )
        .order("desc")
        .first();
      documents.push({ docId: next.docId, entry: toEntry(latest ?? next) });
      cursor = next.docId;
    }
    return { documents, continueCursor: cursor, isDone: false };
  },
});
