/**
 * How the component's list queries page: checks of the page size, cursors
 * and time range, cursors tagged with the list they came from, and pages cut
 * to what one query may read and return (./queries.ts serves them).
 */
import type { PaginationOptions } from "convex/server";
import { v, type Value } from "convex/values";
import type { QueryCtx } from "./_generated/server.js";
import schema from "./schema.js";
import {
  checkNumItems,
  checkPageCursor,
  opskitError,
} from "../../shared/errors.js";
import { documentSize } from "../../shared/limits.js";
import { hashValue } from "../shared/hash.js";
import { JOB_READ_BYTES, PAGE_RETURN_BYTES } from "../shared/snapshot.js";
import { loadCost } from "./convert.js";
import { Budget } from "./storage.js";
import { MAX_PAGE_SIZE } from "../shared/limits.js";

/** Largest page a list query serves (../shared/limits.ts). */
export { MAX_PAGE_SIZE };

export const vOrder = v.optional(v.union(v.literal("asc"), v.literal("desc")));

export function checkPage(opts: PaginationOptions): void {
  checkNumItems(opts.numItems, { max: MAX_PAGE_SIZE });
}

/** A cursor of this list is one key of the index it reads, or `[]`. */
function checkCursors(opts: PaginationOptions, keyLength: number): void {
  checkPageCursor(opts.cursor, "paginationOpts.cursor", keyLength);
  checkPageCursor(opts.endCursor, "paginationOpts.endCursor", keyLength);
}

export function checkRange(from?: number, to?: number): void {
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
export async function boundedPage<R extends Record<string, unknown>, T>(
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
export type ListKey = {
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
export function orderedPage<R extends Parameters<typeof loadCost>[0], T>(
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

/**
 * Which index serves a list's filters: rows of (`by`'s keys, index name, the
 * fields the index fixes by equality, in index order), most specific first.
 * Every index listed ends with `time`. A list reads exactly one index range,
 * so no filter is ever applied after reading.
 */
type IndexRow = readonly [
  keys: readonly string[],
  index: string,
  eq: readonly string[],
];

/** The indexes of `entries` the list of entries reads. */
export const ENTRY_INDEXES: readonly IndexRow[] = [
  [["document"], "by_document", ["table", "docId"]],
  [["table", "actorId"], "by_table_actor", ["table", "actorId"]],
  [["actorId", "kind"], "by_actor_kind", ["actorId", "kind"]],
  [["table"], "by_table", ["table"]],
  [["actorId"], "by_actor", ["actorId"]],
  [["kind"], "by_kind", ["kind"]],
  [[], "by_time", []],
];

/** The indexes of `operations` the list of operations reads. */
export const OPERATION_INDEXES: readonly IndexRow[] = [
  [["actorId"], "by_actor", ["actorId"]],
  [["functionName"], "by_function", ["functionName"]],
  [[], "by_time", []],
];

/**
 * The first row of `indexes` whose keys `by` all has: its index, and the
 * value of each equality field (a `document` filter gives `table`, `docId`).
 */
export function indexFor(
  indexes: readonly IndexRow[],
  by: object,
): { index: string; eq: Array<[string, unknown]> } {
  const [, index, fields] = indexes.find(([keys]) =>
    keys.every((k) => k in by),
  )!;
  const values = ("document" in by ? by.document : by) as Record<
    string,
    unknown
  >;
  return { index, eq: fields.map((f) => [f, values[f]]) };
}

/**
 * The range of {@link indexFor}'s equality values, plus an optional `time`
 * range (`from`/`to`, inclusive).
 */
export function indexRange(
  q: AnyRange,
  eq: Array<[string, unknown]>,
  from?: number,
  to?: number,
): AnyRange {
  let r = eq.reduce((r, [field, value]) => r.eq(field, value), q);
  if (from !== undefined) r = r.gte("time", from);
  if (to !== undefined) r = r.lte("time", to);
  return r;
}

// The index builder's type changes with every call and the index is chosen
// at runtime: `indexRange` only appends `eq` and the trailing `time` bounds.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyRange = any;
