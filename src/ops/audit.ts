/**
 * The audit section of `opsApi`: the trail, operations, one operation, verify and revert.
 */
import type { GenericDataModel } from "convex/server";
import { v, type Value } from "convex/values";
import type { Entry, Operation } from "../auditLog/shared/validators.js";
import { opskitError } from "../shared/errors.js";
import { documentSize } from "../shared/limits.js";
import type { OpsDeps } from "./deps.js";
import {
  FIRST_READ_ROWS,
  MAX_SCAN_BYTES,
  MAX_SCAN_PAGES,
  MIN_ROW_ESTIMATE,
} from "./options.js";
import {
  vOperationDetail,
  vOperationsPage,
  vPaginationOpts,
  vRevertOutcome,
  vTrailFilters,
  vTrailPage,
  vVerifySummary,
} from "./validators.js";

/** The `from`/`to` bounds a trail filter gave, as auditLog's list functions take them. */
function timeRange(filters: { from?: number; to?: number }) {
  return {
    ...(filters.from !== undefined ? { from: filters.from } : {}),
    ...(filters.to !== undefined ? { to: filters.to } : {}),
  };
}

/** Whether a row passes a trail filter's `actorId` and `functionName`, when given. */
function matchesWho(
  row: { actorId: string; functionName: string },
  filters: { actorId?: string; functionName?: string },
) {
  return (
    (filters.actorId === undefined || row.actorId === filters.actorId) &&
    (filters.functionName === undefined ||
      row.functionName === filters.functionName)
  );
}

/**
 * Reads component pages until `numItems` rows pass `keep`, or
 * MAX_SCAN_PAGES pages or MAX_SCAN_BYTES were read; at least one page is
 * read, so the cursor always moves forward. Each read asks for as many
 * rows as the byte budget holds (FIRST_READ_ROWS before any row is seen).
 *
 * A hand scan, not convex-helpers' `filter()`: `filter()` wraps a `ctx.db`
 * query of the app's own tables, while these rows are component pages read
 * through `ctx.runQuery`; and `filter()` reads until the page is full,
 * however many rows the predicate drops, where this stops at the bounds above.
 */
async function scan<T>(
  numItems: number,
  cursor: string | null,
  read: (
    cursor: string | null,
    numItems: number,
  ) => Promise<{ page: T[]; isDone: boolean; continueCursor: string }>,
  keep: (row: T) => boolean,
) {
  const page: T[] = [];
  let scanned = 0;
  let next = cursor;
  let isDone = false;
  let continueCursor = cursor ?? "";
  let bytes = 0;
  let largest = 0;
  for (
    let i = 0;
    i < MAX_SCAN_PAGES && page.length < numItems && bytes < MAX_SCAN_BYTES;
    i++
  ) {
    const want = numItems - page.length;
    const rows =
      i === 0
        ? Math.min(want, FIRST_READ_ROWS)
        : Math.max(
            1,
            Math.min(
              want,
              Math.floor(
                (MAX_SCAN_BYTES - bytes) / Math.max(largest, MIN_ROW_ESTIMATE),
              ),
            ),
          );
    const r = await read(next, rows);
    scanned += r.page.length;
    for (const row of r.page) {
      // As Convex counts a value (JSON.stringify throws on an int64 and
      // counts bytes as `{}`).
      const size = documentSize(row as Value);
      bytes += size;
      largest = Math.max(largest, size);
    }
    page.push(...r.page.filter(keep));
    isDone = r.isDone;
    continueCursor = r.continueCursor;
    next = r.continueCursor;
    if (r.isDone) break;
  }
  return { page, isDone, continueCursor, scanned };
}

/** What `auditTrail` and `auditOperations` take: a trail filter and a page. */
type TrailArgs = {
  from?: number;
  to?: number;
  actorId?: string;
  functionName?: string;
  paginationOpts: { cursor: string | null };
};

/**
 * One console page of an auditLog list (`auditTrail`, `auditOperations`):
 * {@link scan}s `list`'s pages in the trail's time range and keeps the rows
 * that pass the trail's `actorId` and `functionName` (when given) and `keep`.
 */
async function auditPage<T extends { actorId: string; functionName: string }>(
  numItems: number,
  args: TrailArgs,
  list: (
    range: { from?: number; to?: number },
    paginationOpts: { numItems: number; cursor: string | null },
  ) => Promise<{ page: T[]; isDone: boolean; continueCursor: string }>,
  keep: (row: T) => boolean,
) {
  return await scan<T>(
    numItems,
    args.paginationOpts.cursor,
    (cursor, numItems) => list(timeRange(args), { numItems, cursor }),
    (row) => matchesWho(row, args) && keep(row),
  );
}

/**
 * The audit section of {@link opsApi}: `auditTrail`, `auditOperations`,
 * `auditOperation`, `auditVerify` (`permissions.read`) and `auditRevert`
 * (`permissions.revert`).
 */
export function auditSection<
  DataModel extends GenericDataModel,
  Perm extends string,
>(deps: OpsDeps<DataModel, Perm>) {
  const auditTrail = deps.userQuery({
    permission: deps.perm.read,
    args: { ...vTrailFilters, paginationOpts: vPaginationOpts },
    returns: vTrailPage,
    handler: async (ctx, args) => {
      deps.checkRange(args);
      deps.validateTable(args.table);
      const n = deps.pageSize(args.paginationOpts.numItems);
      // One index serves the most selective filter (table and actor together
      // have their own); the rest filter rows.
      const by =
        args.table !== undefined
          ? args.actorId !== undefined
            ? { table: args.table, actorId: args.actorId }
            : { table: args.table }
          : args.actorId !== undefined
            ? { actorId: args.actorId }
            : {};
      return await auditPage<Entry>(
        n,
        args,
        (range, paginationOpts) =>
          deps.auditLog.list(ctx, { ...range, ...by, paginationOpts } as never),
        (e) => args.table === undefined || e.table === args.table,
      );
    },
  });

  const auditOperations = deps.userQuery({
    permission: deps.perm.read,
    args: { ...vTrailFilters, paginationOpts: vPaginationOpts },
    returns: vOperationsPage,
    handler: async (ctx, args) => {
      deps.checkRange(args);
      const n = deps.pageSize(args.paginationOpts.numItems);
      const by =
        args.actorId !== undefined
          ? { actorId: args.actorId }
          : args.functionName !== undefined
            ? { functionName: args.functionName }
            : {};
      return await auditPage<Operation>(
        n,
        args,
        (range, paginationOpts) =>
          deps.auditLog.listOperations(ctx, {
            ...range,
            ...by,
            paginationOpts,
          }),
        (o) => args.table === undefined || o.tables.includes(args.table),
      );
    },
  });

  const auditOperation = deps.userQuery({
    permission: deps.perm.read,
    args: { operationId: v.string() },
    returns: vOperationDetail,
    handler: async (ctx, { operationId }) =>
      await deps.auditLog.getOperation(ctx, { operationId }),
  });

  const auditVerify = deps.userAction({
    permission: deps.perm.read,
    args: {},
    returns: vVerifySummary,
    handler: async (ctx) => {
      const r = await deps.auditLog.verify(ctx, {});
      return {
        ok: r.ok,
        checked: r.checked,
        pendingSeal: r.pendingSeal,
        isDone: r.isDone,
        problemCount: r.problems.length,
        problems: r.problems.slice(0, 20).map((p) => ({
          kind: p.kind,
          seq: p.seq,
          ...(p.operationId !== undefined
            ? { operationId: p.operationId }
            : {}),
          message: p.message,
        })),
      };
    },
  });

  const auditRevert = deps.admin({
    name: "ops:auditRevert",
    permission: deps.perm.revert,
    tables: deps.options.revertTables,
    args: { operationId: v.string(), force: v.optional(v.boolean()) },
    returns: vRevertOutcome,
    handler: async (ctx, { operationId, force }) => {
      const r = await deps.auditLog.revert(ctx, {
        operationId,
        ...(force !== undefined ? { force } : {}),
      });
      // A change of component state (a grant, a reset, a migration run) has
      // no document entries: "reverting" it would record a revert that
      // restored nothing while the change stays in force. Throwing rolls
      // back the revert's record; checked after the revert so that the
      // operation's entries are read once.
      if (r.revertedEntries === 0)
        throw opskitError(
          "INVALID_ARGUMENT",
          `operation ${operationId.slice(0, 100)} changed no documents (grants, resets and migration runs change component state, which a revert cannot restore: undo them with the matching console action); there is nothing to revert`,
          { operationId: operationId.slice(0, 100) },
        );
      if (deps.options.afterRevert) {
        const op = await deps.auditLog.getOperation(ctx, { operationId });
        // A re-created document lives under a new id: hand the hook ids it can read.
        const newId = new Map(
          r.recreated.map((c) => [`${c.table}\u0000${c.oldDocId}`, c.newDocId]),
        );
        await deps.options.afterRevert(ctx, {
          operationId,
          entries: (op?.entries ?? []).map((e) => {
            const id = newId.get(`${e.table}\u0000${e.docId}`);
            return id === undefined ? e : { ...e, docId: id };
          }),
          recreated: r.recreated,
        });
      }
      return {
        revertedEntries: r.revertedEntries,
        recreated: r.recreated.length,
      };
    },
  });

  return {
    auditTrail,
    auditOperations,
    auditOperation,
    auditVerify,
    auditRevert,
  };
}
