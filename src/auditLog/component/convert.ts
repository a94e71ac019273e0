/** Conversions from stored rows to the shapes the component's queries return. */
import type { Doc } from "./_generated/dataModel.js";
import type { Entry, Operation } from "../validators.js";

/** An operation row as returned to the app (internal chain fields left out). */
export function toOperation(row: Doc<"operations">): Operation {
  return {
    operationId: row._id,
    actorId: row.actorId,
    actorKind: row.actorKind,
    roles: row.roles,
    functionName: row.functionName,
    reason: row.reason,
    args: row.args,
    request: row.request,
    time: row.time,
    tables: row.tables,
    ...(row.revertOf ? { revertOf: row.revertOf } : {}),
    entryCount: row.entryCount,
    ...(row.seq !== undefined ? { seq: row.seq, hash: row.hash } : {}),
  };
}

/** An entry row as returned to the app. */
export function toEntry(row: Doc<"entries">): Entry {
  return {
    entryId: row._id,
    operationId: row.operationId,
    index: row.index,
    table: row.table,
    docId: row.docId,
    kind: row.kind,
    before: row.before,
    after: row.after,
    changed: row.changed,
    actorId: row.actorId,
    functionName: row.functionName,
    time: row.time,
  };
}
