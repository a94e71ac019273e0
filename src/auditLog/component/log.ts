import { v } from "convex/values";
import { mutation } from "./_generated/server.js";
import { opskitError } from "../../shared/errors.js";
import { vEntryInput, vOperationInput } from "../validators.js";

/** Upper bound on documents one admin call may touch (keeps sealing bounded). */
export const MAX_ENTRIES_PER_OPERATION = 1000;

/**
 * Records one admin call and its entries. Called by the client inside the
 * admin mutation, so it commits (or rolls back) with the change itself.
 *
 * The append path only inserts: one operation plus one entry per touched
 * document. It reads nothing shared, so concurrent admin calls never conflict
 * here; ordering and hashing happen later in `chain.seal`.
 */
export const append = mutation({
  args: { operation: v.object(vOperationInput), entries: v.array(vEntryInput) },
  returns: v.id("operations"),
  handler: async (ctx, { operation, entries }) => {
    // The client enforces the configured policy; this guards direct callers.
    const reasonLength = operation.reason.trim().length;
    if (reasonLength === 0 || reasonLength > 2000)
      throw opskitError(
        "INVALID_ARGUMENT",
        `an audit reason of 1 to 2000 characters is required; got ${reasonLength}`,
      );
    if (entries.length > MAX_ENTRIES_PER_OPERATION)
      throw opskitError(
        "INVALID_ARGUMENT",
        `one admin operation may touch at most ${MAX_ENTRIES_PER_OPERATION} documents; this one touched ${entries.length}`,
        { max: MAX_ENTRIES_PER_OPERATION, touched: entries.length },
      );
    const operationId = await ctx.db.insert("operations", {
      ...operation,
      entryCount: entries.length,
      commitTs: ctx.db.vars.commitTs,
      sealed: false,
    });
    for (const [index, e] of entries.entries()) {
      await ctx.db.insert("entries", {
        operationId,
        index,
        table: e.table,
        docId: e.docId,
        kind: e.kind,
        before: e.before,
        after: e.after,
        changed: e.changed,
        actorId: operation.actorId,
        functionName: operation.functionName,
        time: operation.time,
      });
    }
    return operationId;
  },
});
