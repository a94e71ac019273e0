/**
 * Reading the log: the checks and index choice of `list` and
 * `listOperations` (every filter an index serves, `INVALID_ARGUMENT` for
 * anything else, never a silently dropped filter), a whole operation
 * collected page by page, and a document's versions.
 */
import type {
  DocumentByName,
  GenericDataModel,
  PaginationOptions,
  PaginationResult,
  TableNamesInDataModel,
} from "convex/server";
import type { RunQueryCtx } from "../../shared/ctx.js";
import { checkNumItems, opskitError, shown } from "../../shared/errors.js";
import type { ComponentApi } from "../component/_generated/component.js";
import type { Entry, EntryKind, Operation } from "../shared/validators.js";
import { hashValue } from "../shared/hash.js";
import type {
  HistoryArgs,
  ListArgs,
  OperationFromIndex,
  OperationPage,
  ListRange,
  Version,
} from "./queryTypes.js";

/** The filter combinations `list` serves, each from one index. */
export const LIST_FILTERS = [
  [],
  ["table"],
  ["table", "docId"],
  ["table", "actorId"],
  ["actorId"],
  ["actorId", "kind"],
  ["kind"],
] as const;

/** The kinds of change an entry records. */
export const ENTRY_KINDS: readonly EntryKind[] = [
  "insert",
  "patch",
  "replace",
  "delete",
];

/** The arguments `list` knows. */
export const LIST_KEYS = new Set([
  "table",
  "docId",
  "actorId",
  "kind",
  "from",
  "to",
  "order",
  "paginationOpts",
]);

/** `AuditLog.list`'s arguments for the component: the one index, the range. */
export function listEntriesArgs(args: ListRange) {
  return {
    by: listIndex(args as unknown as Record<string, unknown>),
    ...range(args),
  };
}

/** `AuditLog.listOperations`' arguments for the component, checked. */
export function listOperationsArgs(
  args: ListRange & { actorId?: string; functionName?: string },
) {
  checkListArgs(
    "listOperations",
    args as unknown as Record<string, unknown>,
    LIST_OPERATIONS_KEYS,
  );
  for (const k of ["actorId", "functionName"] as const)
    if (args[k] !== undefined && typeof args[k] !== "string")
      throw opskitError(
        "INVALID_ARGUMENT",
        `listOperations' ${k} must be a string; got ${typeof args[k]}`,
      );
  if (args.actorId !== undefined && args.functionName !== undefined)
    throw opskitError(
      "INVALID_ARGUMENT",
      "list operations by actorId or by functionName, not both",
    );
  const by =
    args.actorId !== undefined
      ? { actorId: args.actorId }
      : args.functionName !== undefined
        ? { functionName: args.functionName }
        : {};
  return { by, ...range(args) };
}

/** `AuditLog.getOperation`: every page of one operation, in this transaction. */
export async function getOperation(
  component: ComponentApi,
  ctx: RunQueryCtx,
  args: { operationId: string },
): Promise<{ operation: Operation; entries: Entry[] } | null> {
  const first = await ctx.runQuery(component.queries.getOperation, args);
  if (!first) return null;
  const entries = [...first.entries];
  let next = first.nextIndex;
  while (next !== null) {
    const page = await ctx.runQuery(component.queries.getOperation, {
      operationId: args.operationId,
      fromIndex: next,
    });
    if (!page) break;
    entries.push(...page.entries);
    next = page.nextIndex;
  }
  return { operation: first.operation, entries };
}

/**
 * `AuditLog.getOperationPage`, both argument forms: `paginationOpts` (its
 * cursor names the operation and the index of the next entry, see
 * {@link walkCursor}) or the deprecated
 * `fromIndex`, passed to the component as it came.
 */
export async function getOperationPage(
  component: ComponentApi,
  ctx: RunQueryCtx,
  args:
    | { operationId: string; paginationOpts: PaginationOptions }
    | { operationId: string; fromIndex?: number },
): Promise<OperationPage | OperationFromIndex | null> {
  if (!("paginationOpts" in args))
    return ctx.runQuery(component.queries.getOperation, args);
  checkPaginationOpts("getOperationPage", args.paginationOpts);
  const { cursor, numItems } = args.paginationOpts;
  checkNumItems(numItems, { where: "getOperationPage" });
  const walk = { walk: "getOperationPage", of: args.operationId };
  const position =
    cursor === null
      ? "0"
      : walkPosition("getOperationPage", "operation", walk, cursor);
  if (!/^(0|[1-9][0-9]{0,8})$/.test(position))
    throw refusedCursor("getOperationPage", "operation", cursor!);
  const fromIndex = Number(position);
  const r = await ctx.runQuery(component.queries.getOperation, {
    operationId: args.operationId,
    fromIndex,
    limit: numItems,
  });
  if (!r) return null;
  return {
    operation: r.operation,
    page: r.entries,
    continueCursor: walkCursor(
      walk,
      String(r.nextIndex ?? fromIndex + r.entries.length),
    ),
    isDone: r.nextIndex === null,
  };
}

/**
 * The cursors of the client's own paged walks (`getOperationPage`,
 * `reconcileRecorded`): `<tag>.<position>`, the tag naming the walk (which
 * operation, which table), so a cursor passed to another walk — or made up,
 * or the deprecated forms' bare index or id — is refused as the component's
 * lists refuse theirs, never served from a wrong position.
 */
export function walkCursor(
  walk: { walk: string; of: string },
  position: string,
): string {
  return `${walkTag(walk)}.${position}`;
}

/** The position inside a {@link walkCursor} of `walk`, or `INVALID_ARGUMENT`. */
export function walkPosition(
  fn: string,
  what: string,
  walk: { walk: string; of: string },
  cursor: string,
): string {
  const tag = `${walkTag(walk)}.`;
  if (!cursor.startsWith(tag)) throw refusedCursor(fn, what, cursor);
  return cursor.slice(tag.length);
}

function walkTag(walk: { walk: string; of: string }): string {
  return hashValue(walk).slice(0, 16);
}

function refusedCursor(fn: string, what: string, cursor: string) {
  return opskitError(
    "INVALID_ARGUMENT",
    `${fn}'s paginationOpts.cursor must be null or the continueCursor of an earlier page of this ${what}; got ${shown(cursor)}`,
    { field: "paginationOpts.cursor" },
  );
}

/** `AuditLog.history`: a page of a document's entries, as versions. */
export async function history<
  DataModel extends GenericDataModel,
  Table extends TableNamesInDataModel<DataModel>,
>(
  component: ComponentApi,
  ctx: RunQueryCtx,
  args: HistoryArgs<Table>,
): Promise<PaginationResult<Version<DocumentByName<DataModel, Table>>>> {
  const page = await ctx.runQuery(
    component.queries.listEntries,
    listEntriesArgs({
      table: args.table,
      docId: args.docId,
      paginationOpts: args.paginationOpts,
      ...(args.order ? { order: args.order } : {}),
    } as ListArgs<DataModel>),
  );
  return {
    ...page,
    page: page.page.map((e) => ({
      entryId: e.entryId,
      operationId: e.operationId,
      time: e.time,
      actorId: e.actorId,
      functionName: e.functionName,
      kind: e.kind,
      doc: e.after,
      changed: e.changed.slice(0, 20),
      ...(e.changed.length > 20 ? { changedTotal: e.changed.length } : {}),
    })),
  };
}

/**
 * The one index a `list` call reads, or `INVALID_ARGUMENT` for a combination
 * no index serves (never a silently dropped filter).
 */
export function listIndex(
  args: Record<string, unknown>,
):
  | { document: { table: string; docId: string } }
  | { table: string; actorId: string }
  | { actorId: string; kind: EntryKind }
  | { table: string }
  | { actorId: string }
  | { kind: EntryKind }
  | Record<string, never> {
  checkListArgs("list", args, LIST_KEYS);
  const given = (["table", "docId", "actorId", "kind"] as const).filter(
    (k) => args[k] !== undefined,
  );
  for (const k of given)
    if (typeof args[k] !== "string")
      throw opskitError(
        "INVALID_ARGUMENT",
        `list's ${k} must be a string; got ${typeof args[k]}`,
      );
  if (args.kind !== undefined && !ENTRY_KINDS.includes(args.kind as EntryKind))
    throw opskitError(
      "INVALID_ARGUMENT",
      `list's kind must be one of ${ENTRY_KINDS.join(", ")}; got ${JSON.stringify(String(args.kind).slice(0, 40))}`,
    );
  const key = given.join("+");
  if (!LIST_FILTERS.some((combo) => combo.join("+") === key))
    throw opskitError(
      "INVALID_ARGUMENT",
      `list cannot filter by ${given.join(" + ")} together: no index serves it. Supported: ${LIST_FILTERS.map((c) => (c.length === 0 ? "(none)" : c.join(" + "))).join(", ")}`,
      { filters: given, supported: LIST_FILTERS.map((c) => c.join("+")) },
    );
  const s = args as Record<string, string>;
  switch (key) {
    case "table+docId":
      return { document: { table: s.table, docId: s.docId } };
    case "table+actorId":
      return { table: s.table, actorId: s.actorId };
    case "actorId+kind":
      return { actorId: s.actorId, kind: s.kind as EntryKind };
    case "table":
      return { table: s.table };
    case "actorId":
      return { actorId: s.actorId };
    case "kind":
      return { kind: s.kind as EntryKind };
    default:
      return {};
  }
}

/** The arguments `listOperations` knows. */
export const LIST_OPERATIONS_KEYS = new Set([
  "actorId",
  "functionName",
  "from",
  "to",
  "order",
  "paginationOpts",
]);

/**
 * The checks `list` and `listOperations` share, for untyped callers (the
 * dashboard, `npx convex run`, `any`): an object of known keys only, time
 * bounds that are numbers (not NaN), an order of "asc" or "desc", and
 * `paginationOpts` with a numeric `numItems` and a string or null `cursor`.
 * Each failure is `INVALID_ARGUMENT`; no argument is ever ignored.
 */
export function checkListArgs(
  fn: "list" | "listOperations",
  args: unknown,
  keys: ReadonlySet<string>,
): asserts args is Record<string, unknown> {
  if (typeof args !== "object" || args === null || Array.isArray(args))
    throw opskitError("INVALID_ARGUMENT", `${fn} takes an object of filters`);
  const a = args as Record<string, unknown>;
  const unknown = Object.keys(a).filter(
    (k) => !keys.has(k) && a[k] !== undefined,
  );
  if (unknown.length > 0)
    throw opskitError(
      "INVALID_ARGUMENT",
      `${fn} does not know ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(", ")}; it takes ${[...keys].join(", ")}`,
      { unknown: unknown.map((k) => k.slice(0, 40)) },
    );
  for (const k of ["from", "to"] as const)
    if (a[k] !== undefined && (typeof a[k] !== "number" || Number.isNaN(a[k])))
      throw opskitError(
        "INVALID_ARGUMENT",
        `${fn}'s ${k} must be a time in ms; got ${typeof a[k] === "number" ? "NaN" : typeof a[k]}`,
      );
  if (a.order !== undefined && a.order !== "asc" && a.order !== "desc")
    throw opskitError(
      "INVALID_ARGUMENT",
      `${fn}'s order must be "asc" or "desc"; got ${typeof a.order === "string" ? JSON.stringify(a.order.slice(0, 40)) : a.order === null ? "null" : typeof a.order}`,
    );
  checkPaginationOpts(fn, a.paginationOpts);
}

/** The range and page arguments of a list call, without the undefined ones. */
export function range(args: ListRange) {
  return {
    paginationOpts: args.paginationOpts,
    ...(args.from !== undefined ? { from: args.from } : {}),
    ...(args.to !== undefined ? { to: args.to } : {}),
    ...(args.order !== undefined ? { order: args.order } : {}),
  };
}

/**
 * `paginationOpts` as Convex shapes it, for untyped callers: an object with
 * a numeric `numItems` and a string or null `cursor`; `INVALID_ARGUMENT`
 * naming `fn` otherwise.
 */
export function checkPaginationOpts(
  fn: string,
  paginationOpts: unknown,
): asserts paginationOpts is PaginationOptions {
  const p = paginationOpts as Record<string, unknown> | null | undefined;
  if (
    typeof p !== "object" ||
    p === null ||
    typeof p.numItems !== "number" ||
    !(p.cursor === null || typeof p.cursor === "string")
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      `${fn} needs paginationOpts: { numItems: number, cursor: string | null }; got ${p === null ? "null" : typeof p === "object" ? `{ numItems: ${typeof p.numItems}, cursor: ${p.cursor === null ? "null" : typeof p.cursor} }` : typeof p}`,
    );
}
