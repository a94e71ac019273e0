/**
 * Return validators for what the auditLog client gives back, for apps that
 * pass those results through their own functions
 * (`returns: vEntriesPage`). Pages are built on `paginationResultValidator`
 * from `convex/server`.
 */
import { paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { vEntry, vOperation, vRetentionRun } from "../shared/validators.js";

/** A page of `list` (entries, newest first). */
export const vEntriesPage = paginationResultValidator(vEntry);

/** A page of `listOperations`. */
export const vOperationsPage = paginationResultValidator(vOperation);

/** What `getOperation` returns: the operation with its entries, or null. */
export const vOperationWithEntries = v.union(
  v.object({ operation: vOperation, entries: v.array(vEntry) }),
  v.null(),
);

/** What `retentionRuns` lists. */
export { vRetentionRun };
