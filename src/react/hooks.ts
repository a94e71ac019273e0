/**
 * Live queries for the console on the standard `convex/react` hooks
 * (`useQueries`), returning errors as values so a refused query is shown in
 * words instead of throwing through the app's error boundary.
 */
import { useQueries } from "convex/react";
import {
  getFunctionName,
  type FunctionArgs,
  type FunctionReference,
  type FunctionReturnType,
} from "convex/server";
import type { Value } from "convex/values";
import { useMemo, useState } from "react";

/** A query's state: loading (`data` and `error` undefined), data, or error. */
export type QueryState<T> = { data: T | undefined; error: Error | undefined };

/** `useQuery` that returns the server's error instead of throwing it. */
export function useOpsQuery<Q extends FunctionReference<"query">>(
  query: Q,
  args: FunctionArgs<Q> | "skip",
): QueryState<FunctionReturnType<Q>> {
  const key = args === "skip" ? "skip" : JSON.stringify(args);
  const queries = useMemo(
    (): Record<string, { query: Q; args: Record<string, Value> }> =>
      args === "skip"
        ? {}
        : { q: { query, args: args as Record<string, Value> } },
    // As useQuery does: the reference by name (api proxies are new objects
    // on every access), args by value.
    [getFunctionName(query), key],
  );
  const result = useQueries(queries).q as unknown;
  if (result instanceof Error) return { data: undefined, error: result };
  return {
    data: result as FunctionReturnType<Q> | undefined,
    error: undefined,
  };
}

type PageResult<Row> = {
  page: Row[];
  isDone: boolean;
  continueCursor: string;
};

/** What {@link useOpsPages} returns. */
export type PagesState<Row> = {
  rows: Row[];
  /** `"loading"` until the first page arrives; `"more"` while more pages exist. */
  status: "loading" | "more" | "done" | "error";
  error: Error | undefined;
  loadMore: () => void;
};

/**
 * Pages of a paginated query, all live: each loaded page stays subscribed, so
 * new and changed rows appear without reloading. Rows are deduplicated by
 * `idOf` (a page that grew at the top can repeat rows of the next).
 */
export function useOpsPages<
  Q extends FunctionReference<
    "query",
    "public",
    { paginationOpts: { numItems: number; cursor: string | null } }
  >,
  Row = FunctionReturnType<Q> extends PageResult<infer R> ? R : never,
>(
  query: Q,
  args: Omit<FunctionArgs<Q>, "paginationOpts"> | "skip",
  pageSize: number,
  idOf: (row: Row) => string,
): PagesState<Row> {
  const argsKey = args === "skip" ? "skip" : JSON.stringify(args);
  const [pages, setPages] = useState<{ key: string; count: number }>({
    key: argsKey,
    count: 1,
  });
  const count = pages.key === argsKey ? pages.count : 1;
  const cursorsKey = `${argsKey}|${count}`;
  // Cursors are learned page by page from the previous page's result.
  const [cursors, setCursors] = useState<{
    key: string;
    list: Array<string | null>;
  }>({ key: argsKey, list: [null] });
  const list = cursors.key === argsKey ? cursors.list : [null];
  const queries = useMemo(() => {
    if (args === "skip") return {};
    const out: Record<string, { query: Q; args: Record<string, unknown> }> = {};
    list.slice(0, count).forEach((cursor, i) => {
      out[String(i)] = {
        query,
        args: { ...args, paginationOpts: { numItems: pageSize, cursor } },
      };
    });
    return out;
  }, [getFunctionName(query), cursorsKey, list.length, pageSize]);
  const results = useQueries(queries as never) as Record<string, unknown>;
  const rows: Row[] = [];
  const seen = new Set<string>();
  let error: Error | undefined;
  let loading = args !== "skip" && count > 0;
  let isDone = false;
  let lastCursor: string | null = null;
  for (let i = 0; i < Math.min(count, list.length); i++) {
    const r = results[String(i)];
    if (r instanceof Error) {
      error = r;
      break;
    }
    if (r === undefined) break;
    const page = r as PageResult<Row>;
    if (i === 0) loading = false;
    for (const row of page.page) {
      const id = idOf(row);
      if (!seen.has(id)) {
        seen.add(id);
        rows.push(row);
      }
    }
    isDone = page.isDone;
    lastCursor = page.continueCursor;
  }
  const loadMore = () => {
    if (isDone || lastCursor === null) return;
    setCursors({ key: argsKey, list: [...list.slice(0, count), lastCursor] });
    setPages({ key: argsKey, count: count + 1 });
  };
  return {
    rows,
    status: error ? "error" : loading ? "loading" : isDone ? "done" : "more",
    error,
    loadMore,
  };
}
