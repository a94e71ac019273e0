// Over ~400 lines, not yet split: the split along its seams is issue 13's
// (architecture) work, planned file by file and kept out of the hardening
// sessions so the attack fixes could land without a concurrent reshape.
import { paginationOptsValidator, type PaginationOptions } from "convex/server";
import { v } from "convex/values";
import { paginator } from "convex-helpers/server/pagination";
import { query } from "./_generated/server.js";
import schema from "./schema.js";
import { checkPageCursor, opskitError } from "../../shared/errors.js";
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

/** A cursor of this list is one key of the index it reads, or `[]`. */
function checkCursors(opts: PaginationOptions, keyLength: number): void {
  checkPageCursor(opts.cursor, "paginationOpts.cursor", keyLength);
  checkPageCursor(opts.endCursor, "paginationOpts.endCursor", keyLength);
}

function checkRange(from?: number, to?: number): void {
  for (const [name, bound] of [
    ["from", from],
    ["to", to],
  ] as const)
    if (bound !== undefined && Number.isNaN(bound))
      throw opskitError(
        "INVALID_ARGUMENT",
        `${name} must be a time in ms; got NaN`,
        { field: name },
      );
  if (from !== undefined && to !== undefined && from > to)
    throw opskitError(
      "INVALID_ARGUMENT",
      `from (${from}) is after to (${to})`,
      { from, to },
    );
}

type Page<R> = {
  page: R[];
  isDone: boolean;
  continueCursor: string;
  splitCursor?: string | null;
  pageStatus?: "SplitRecommended" | "SplitRequired" | null;
};

/**
 * Rows a refetch up to `endCursor` reads at most (reactive pagination keeps
 * a page's end fixed, so its range grows with every row inserted into it).
 */
const REFETCH_MAX_ROWS = 1000;

/**
 * A page cut to what one query may read and return: items are loaded (with
 * their values stored across snapshot parts) while they fit the read budget
 * and {@link PAGE_RETURN_BYTES}; the first always is. When the page is cut
 * short, it is fetched again with that many items to get the right cursor.
 *
 * A refetch up to `endCursor` (`usePaginatedQuery` keeps each loaded page's
 * end fixed) cannot end early: when its range grew past those budgets (or
 * past {@link REFETCH_MAX_ROWS} rows), it returns what fits with
 * `pageStatus: "SplitRequired"` and `splitCursor` after the last item, and
 * its `continueCursor` stays `endCursor`: the client splits it into
 * (cursor, splitCursor] and (splitCursor, endCursor], each served within
 * the limits.
 */
async function boundedPage<R extends Record<string, unknown>, T>(
  ctx: QueryCtx,
  opts: PaginationOptions,
  run: (opts: PaginationOptions) => Promise<Page<R>>,
  load: (row: R) => Promise<T>,
  cost: (row: R) => number,
): Promise<Page<T>> {
  const budget = new Budget(ctx, JOB_READ_BYTES);
  const endCursor = opts.endCursor ?? null;
  const result = await run(
    endCursor === null ? opts : { ...opts, maximumRowsRead: REFETCH_MAX_ROWS },
  );
  const page: T[] = [];
  let returned = 0;
  for (const row of result.page) {
    const bytes = cost(row);
    if (
      page.length > 0 &&
      (returned >= PAGE_RETURN_BYTES || !(await budget.fits(bytes)))
    )
      break;
    const item = await load(row);
    budget.charge(bytes);
    returned += documentSize(item as Value);
    page.push(item);
  }
  if (page.length === result.page.length) {
    if (endCursor === null)
      return {
        page,
        isDone: result.isDone,
        continueCursor: result.continueCursor,
      };
    if (result.pageStatus === "SplitRequired")
      // The row limit stopped the refetch at `result.continueCursor`.
      return {
        page,
        isDone: false,
        continueCursor: endCursor,
        splitCursor: result.continueCursor,
        pageStatus: "SplitRequired",
      };
    return {
      page,
      isDone: result.isDone,
      continueCursor: result.continueCursor,
      ...(result.pageStatus === "SplitRecommended" && result.splitCursor
        ? { splitCursor: result.splitCursor, pageStatus: "SplitRecommended" }
        : {}),
    };
  }
  const cut = await run({
    numItems: page.length,
    cursor: opts.cursor,
  });
  if (endCursor === null)
    return { page, isDone: false, continueCursor: cut.continueCursor };
  return {
    page,
    isDone: false,
    continueCursor: endCursor,
    splitCursor: cut.continueCursor,
    pageStatus: "SplitRequired",
  };
}

/** Which list a cursor belongs to: the table, index, its equality values, time range and order. */
type ListKey = {
  table: "entries" | "operations";
  index: string;
  by: Record<string, unknown>;
  from?: number;
  to?: number;
  order?: "asc" | "desc";
};

/** Fields of `index` on `table`, plus the two Convex appends to every index key. */
function indexKeyLength(table: ListKey["table"], index: string): number {
  const indexes = (
    schema.tables[table] as unknown as {
      " indexes"(): Array<{ indexDescriptor: string; fields: string[] }>;
    }
  )[" indexes"]();
  const found = indexes.find((i) => i.indexDescriptor === index);
  return (found?.fields.length ?? 0) + 2;
}

/**
 * Cursors name a position in one index range, so each is tagged with the
 * list it came from and refused (`INVALID_ARGUMENT`) by any other: reused
 * with other filters, another time range or order, it would otherwise be
 * served from a wrong position (a silently wrong page).
 */
function cursorTag(key: ListKey): string {
  return hashValue({
    table: key.table,
    index: key.index,
    by: key.by as Value,
    from: key.from ?? null,
    to: key.to ?? null,
    order: key.order ?? "desc",
  }).slice(0, 16);
}

function tagCursor(key: ListKey, cursor: string): string {
  return `${cursorTag(key)}.${cursor}`;
}

/** The index cursor inside a tagged cursor, or `INVALID_ARGUMENT`. */
function untagCursor(
  key: ListKey,
  cursor: string,
  field: "cursor" | "endCursor",
): string {
  const tag = `${cursorTag(key)}.`;
  const refuse = (why: string): never => {
    throw opskitError(
      "INVALID_ARGUMENT",
      `paginationOpts.${field} ${why}; pass null to start from the first page`,
      { field, length: cursor.length },
    );
  };
  if (!cursor.startsWith(tag))
    refuse(
      "is not a cursor of this list (it came from other filters, another time range or order, or was made up)",
    );
  const inner = cursor.slice(tag.length);
  let parsed: unknown;
  try {
    parsed = JSON.parse(inner);
  } catch {
    return refuse("is not a cursor this list returned");
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== indexKeyLength(key.table, key.index)
  )
    refuse("is not a cursor this list returned");
  return inner;
}

/** {@link boundedPage} over an index range read in `order`, newest first by default. */
function orderedPage<R extends Parameters<typeof loadCost>[0], T>(
  ctx: QueryCtx,
  key: ListKey,
  indexed: {
    order(order: "asc" | "desc"): {
      paginate(opts: PaginationOptions): Promise<Page<R>>;
    };
    getIndexFields(): string[];
  },
  opts: PaginationOptions,
  load: (row: R) => Promise<T>,
): Promise<Page<T>> {
  const inner: PaginationOptions = {
    ...opts,
    cursor:
      opts.cursor === null ? null : untagCursor(key, opts.cursor, "cursor"),
    ...(typeof opts.endCursor === "string"
      ? { endCursor: untagCursor(key, opts.endCursor, "endCursor") }
      : {}),
  };
  // The tag says which list a cursor came from; the key values inside it
  // must still be ones this index can read (a forged value is refused).
  checkCursors(inner, indexed.getIndexFields().length);
  return boundedPage(
    ctx,
    inner,
    (o) => indexed.order(key.order ?? "desc").paginate(o),
    load,
    loadCost,
  ).then((page) => ({
    ...page,
    continueCursor: tagCursor(key, page.continueCursor),
    ...(page.splitCursor
      ? { splitCursor: tagCursor(key, page.splitCursor) }
      : {}),
  }));
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
    const index =
      "document" in by
        ? "by_document"
        : "table" in by && "actorId" in by
          ? "by_table_actor"
          : "actorId" in by && "kind" in by
            ? "by_actor_kind"
            : "table" in by
              ? "by_table"
              : "actorId" in by
                ? "by_actor"
                : "kind" in by
                  ? "by_kind"
                  : "by_time";
    const key: ListKey = { table: "entries", index, by, from, to, order };
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
    const ops = paginator(ctx.db, schema).query("operations");
    const key: ListKey = {
      table: "operations",
      index:
        "actorId" in by
          ? "by_actor"
          : "functionName" in by
            ? "by_function"
            : "by_time",
      by,
      from,
      to,
      order,
    };
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
 */
export const recordedDocuments = query({
  args: {
    table: v.string(),
    afterDocId: v.union(v.string(), v.null()),
    limit: v.number(),
  },
  returns: v.object({
    documents: v.array(
      v.object({ docId: v.string(), entry: vRecordedVersion }),
    ),
    continueCursor: v.union(v.string(), v.null()),
    isDone: v.boolean(),
  }),
  handler: async (ctx, { table, afterDocId, limit }) => {
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
