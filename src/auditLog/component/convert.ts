/**
 * Conversions from stored rows to the shapes the component's queries
 * return, loading values stored across snapshot parts.
 */
import type { Value } from "convex/values";
import type { QueryCtx } from "./_generated/server.js";
import type { Doc } from "./_generated/dataModel.js";
import type { Entry, Operation } from "../shared/validators.js";
import { documentSize } from "../../shared/limits.js";
import { loadSnapshot, snapshotReadBytes } from "./storage.js";

/** An operation row as returned to the app (internal chain fields left out), its args loaded. */
export async function toOperation(
  ctx: QueryCtx,
  row: Doc<"operations">,
): Promise<Operation> {
  const args = row.argsRef
    ? await loadSnapshot(ctx, row._id, -1, "args", row.argsRef)
    : row.args;
  return {
    operationId: row._id,
    actorId: row.actorId,
    actorKind: row.actorKind,
    roles: row.roles,
    functionName: row.functionName,
    reason: row.reason,
    args,
    request: row.request,
    time: row.time,
    tables: row.tables,
    ...(row.revertOf ? { revertOf: row.revertOf } : {}),
    entryCount: row.entryCount,
    ...(row.seq !== undefined ? { seq: row.seq, hash: row.hash } : {}),
  };
}

/** One side of an entry, loaded from its snapshot parts when it did not fit the row. */
export async function entrySide(
  ctx: QueryCtx,
  row: Doc<"entries">,
  side: "before" | "after",
): Promise<Value> {
  const ref = side === "before" ? row.beforeRef : row.afterRef;
  if (!ref) return row[side] as Value;
  return loadSnapshot(ctx, row.operationId, row.index, side, ref);
}

/** An entry row as returned to the app, its before and after loaded. */
export async function toEntry(
  ctx: QueryCtx,
  row: Doc<"entries">,
): Promise<Entry> {
  return {
    entryId: row._id,
    operationId: row.operationId,
    index: row.index,
    table: row.table,
    docId: row.docId,
    kind: row.kind,
    before: await entrySide(ctx, row, "before"),
    after: await entrySide(ctx, row, "after"),
    changed: row.changed,
    ...(row.changedTotal !== undefined
      ? { changedTotal: row.changedTotal }
      : {}),
    actorId: row.actorId,
    functionName: row.functionName,
    time: row.time,
  };
}

/** Bytes loading a row's stored values costs to read, besides the row. */
export function loadCost(row: Doc<"entries"> | Doc<"operations">): number {
  let bytes = documentSize(row as unknown as Value);
  if ("beforeRef" in row && row.beforeRef)
    bytes += snapshotReadBytes(row.beforeRef);
  if ("afterRef" in row && row.afterRef)
    bytes += snapshotReadBytes(row.afterRef);
  if ("argsRef" in row && row.argsRef) bytes += snapshotReadBytes(row.argsRef);
  return bytes;
}
