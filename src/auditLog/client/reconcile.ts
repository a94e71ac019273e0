/**
 * Reconcile: compare the app's tables with the log, both ways — a page of a
 * table against each document's last recorded version (`reconcile`), and a
 * page of the documents the log recorded against the table
 * (`reconcileRecorded`) — reporting changes made outside admin mutations.
 */
import type {
  GenericDataModel,
  GenericQueryCtx,
  PaginationOptions,
  TableNamesInDataModel,
} from "convex/server";
import { getConvexSize, type Value } from "convex/values";
import { logEvent } from "../../shared/log.js";
import { hashValue } from "../shared/hash.js";
import type { RecordedVersion } from "../shared/validators.js";
import type { AuditCore } from "./core.js";
import { driftedPaths, redactDocument, sameVersion } from "./diff.js";
import { checkPaginationOpts, walkCursor, walkPosition } from "./read.js";
import { MAX_PAGE_SIZE } from "../shared/limits.js";
import { checkNumItems } from "../../shared/errors.js";
import type {
  Drift,
  ReconcileRecordedCursorResult,
  ReconcileRecordedPage,
  ReconcileResult,
} from "./queryTypes.js";

/** `AuditLog.reconcile`: one page of the app's table against the log. */
export async function reconcile<
  DataModel extends GenericDataModel,
  Table extends TableNamesInDataModel<DataModel>,
>(
  log: AuditCore,
  ctx: GenericQueryCtx<DataModel>,
  args: { table: Table; paginationOpts: PaginationOptions },
): Promise<ReconcileResult> {
  const page = await ctx.db.query(args.table).paginate(args.paginationOpts);
  const docs = page.page as unknown as Array<
    Record<string, Value> & { _id: string }
  >;
  const latest =
    docs.length === 0
      ? []
      : await ctx.runQuery(log.component.queries.latestEntries, {
          table: args.table,
          docIds: docs.map((d) => d._id),
        });
  const redacted = log.redactedPaths(args.table);
  const drift: Drift[] = [];
  docs.forEach((doc, i) => {
    const entry = latest[i].entry;
    if (!entry)
      drift.push({
        docId: doc._id,
        status: "unrecorded",
        changed: driftedPaths(null, doc, redacted),
        lastEntryId: null,
      });
    else if (entry.kind === "delete")
      drift.push({
        docId: doc._id,
        status: "deletedInLog",
        changed: driftedPaths(null, doc, redacted),
        lastEntryId: entry.entryId,
      });
    else {
      const changed = versionDrift(entry, doc, redacted);
      if (changed)
        drift.push({
          docId: doc._id,
          status: "changed",
          ...changed,
          lastEntryId: entry.entryId,
        });
    }
  });
  logDrift(args.table, drift);
  return {
    checked: docs.length,
    drift,
    continueCursor: page.continueCursor,
    isDone: page.isDone,
  };
}

/**
 * `AuditLog.reconcileRecorded`, both argument forms: `paginationOpts` (its
 * cursor names the table and the last document id walked, see
 * {@link walkCursor}) or the deprecated `cursor` and `limit`.
 */
export async function reconcileRecorded<
  DataModel extends GenericDataModel,
  Table extends TableNamesInDataModel<DataModel>,
>(
  log: AuditCore,
  ctx: GenericQueryCtx<DataModel>,
  args:
    | { table: Table; paginationOpts: PaginationOptions }
    | { table: Table; cursor: string | null; limit?: number },
): Promise<ReconcileRecordedPage | ReconcileRecordedCursorResult> {
  if ("paginationOpts" in args) {
    checkPaginationOpts("reconcileRecorded", args.paginationOpts);
    const { cursor, numItems } = args.paginationOpts;
    checkNumItems(numItems, { max: MAX_PAGE_SIZE, where: "reconcileRecorded" });
    const walk = { walk: "reconcileRecorded", of: args.table };
    const after =
      cursor === null
        ? ""
        : walkPosition("reconcileRecorded", "table", walk, cursor);
    const { endCursor } = args.paginationOpts;
    // A refetch up to its fixed end (usePaginatedQuery): the page is
    // (cursor, endCursor], whatever numItems, or split where it was cut.
    const upTo =
      typeof endCursor === "string"
        ? walkPosition("reconcileRecorded", "table", walk, endCursor)
        : undefined;
    const { result: r, reachedEnd } = await recordedPage(log, ctx, {
      table: args.table,
      cursor: after === "" ? null : after,
      limit: upTo === undefined ? numItems : MAX_PAGE_SIZE,
      upTo,
    });
    const page = { page: r.drift, checked: r.checked };
    if (upTo === undefined)
      return {
        ...page,
        continueCursor: walkCursor(walk, r.continueCursor ?? ""),
        isDone: r.isDone,
      };
    if (reachedEnd)
      return { ...page, continueCursor: endCursor!, isDone: r.isDone };
    return {
      ...page,
      continueCursor: endCursor!,
      isDone: false,
      splitCursor: walkCursor(walk, r.continueCursor ?? ""),
      pageStatus: "SplitRequired",
    };
  }
  return (await recordedPage(log, ctx, args)).result;
}

/**
 * One page of the log's documents of `table` from `cursor` (up to `upTo`,
 * when given), against the table; `reachedEnd`: the page walked every
 * document up to `upTo` (or the end of the log).
 */
async function recordedPage<DataModel extends GenericDataModel>(
  log: AuditCore,
  ctx: GenericQueryCtx<DataModel>,
  args: {
    table: string;
    cursor: string | null;
    limit?: number;
    upTo?: string;
  },
): Promise<{ result: ReconcileRecordedCursorResult; reachedEnd: boolean }> {
  const limit = args.limit ?? 100;
  const page = await ctx.runQuery(log.component.queries.recordedDocuments, {
    table: args.table,
    afterDocId: args.cursor,
    limit,
    ...(args.upTo !== undefined ? { upToDocId: args.upTo } : {}),
  });
  const last = page.documents[page.documents.length - 1];
  let reachedEnd =
    page.isDone ||
    page.documents.length < limit ||
    (last !== undefined && last.docId === args.upTo);
  const redacted = log.redactedPaths(args.table);
  const drift: Drift[] = [];
  let checked = 0;
  let liveBytes = 0;
  let continueCursor = page.continueCursor;
  let isDone = page.isDone;
  for (const { docId, entry } of page.documents) {
    if (checked > 0 && liveBytes >= RECONCILE_LIVE_BYTES) {
      // The rest of the component's page is walked by the next call.
      continueCursor = page.documents[checked - 1].docId;
      isDone = false;
      reachedEnd = false;
      break;
    }
    checked += 1;
    const id = ctx.db.normalizeId(args.table, docId);
    const live = id
      ? ((await ctx.db.get(id)) as Record<string, Value> | null)
      : null;
    if (live !== null) liveBytes += getConvexSize(live);
    const deletedInLog = entry.kind === "delete";
    if (live === null && !deletedInLog)
      drift.push({
        docId,
        status: "deletedOutside",
        changed: entry.afterLoaded
          ? driftedPaths(entry.after, null, redacted)
          : [],
        ...(entry.afterLoaded ? {} : { changedUnknown: true }),
        lastEntryId: entry.entryId,
      });
    else if (live !== null && deletedInLog)
      drift.push({
        docId,
        status: "deletedInLog",
        changed: driftedPaths(null, live, redacted),
        lastEntryId: entry.entryId,
      });
    else if (live !== null) {
      const changed = versionDrift(entry, live, redacted);
      if (changed)
        drift.push({
          docId,
          status: "changed",
          ...changed,
          lastEntryId: entry.entryId,
        });
    }
  }
  logDrift(args.table, drift);
  return { result: { checked, drift, continueCursor, isDone }, reachedEnd };
}

/**
 * Bytes of live documents one {@link AuditLog.reconcileRecorded} page reads
 * at most (plus one document): with the component's own reads (at most
 * 8 MiB), a page stays inside a transaction's 16 MiB.
 */
const RECONCILE_LIVE_BYTES = 6 * 1024 * 1024;

/**
 * Whether a live document differs from its last recorded version (ignoring
 * redacted paths), and which paths: compared value by value when the
 * version was loaded, else by hash (the recorded version is stored
 * redacted, so the live one is redacted the same way before hashing).
 */
function versionDrift(
  entry: RecordedVersion,
  live: Record<string, Value>,
  redacted: readonly string[],
): { changed: string[]; changedUnknown?: true } | null {
  if (entry.afterLoaded) {
    if (sameVersion(entry.after, live, redacted)) return null;
    return { changed: driftedPaths(entry.after, live, redacted) };
  }
  if (hashValue(redactDocument(live, redacted)) === entry.afterHash)
    return null;
  return { changed: [], changedUnknown: true };
}

function logDrift(table: string, drift: Drift[]): void {
  if (drift.length > 0)
    logEvent("auditLog.drift", {
      table,
      documents: drift.length,
      docIds: drift.slice(0, 20).map((d) => d.docId),
    });
}
