/**
 * Test-only tampering installed inside the auditLog component for the
 * model-based test (next to ./tamper.ts): forging an entry and swapping the
 * contents of two entries, as an attacker with database access would.
 */
import { v } from "convex/values";
import {
  auditLogMutation as mutation,
  type AuditLogId as Id,
} from "../internal.js";

/** Inserts a copy of `entryId` with `index` (and a changed `after`) into its operation, or into `operationId`. */
export const forgeEntry = mutation({
  args: {
    entryId: v.string(),
    index: v.number(),
    operationId: v.optional(v.string()),
  },
  returns: v.null(),
  handler: async (ctx, { entryId, index, operationId }) => {
    const e = await ctx.db.get("entries", entryId as Id<"entries">);
    if (!e) throw new Error("no such entry");
    const { _id, _creationTime, ...rest } = e;
    void _id;
    void _creationTime;
    await ctx.db.insert("entries", {
      ...rest,
      ...(operationId ? { operationId: operationId as Id<"operations"> } : {}),
      index,
      after: { forged: true },
    });
    return null;
  },
});

/** Swaps every stored field of two entries: each id now holds the other's contents. */
export const swapEntries = mutation({
  args: { a: v.string(), b: v.string() },
  returns: v.null(),
  handler: async (ctx, { a, b }) => {
    const x = await ctx.db.get("entries", a as Id<"entries">);
    const y = await ctx.db.get("entries", b as Id<"entries">);
    if (!x || !y) throw new Error("no such entry");
    const strip = (d: typeof x) => {
      const { _id, _creationTime, ...rest } = d;
      void _id;
      void _creationTime;
      return rest;
    };
    await ctx.db.replace("entries", x._id, strip(y));
    await ctx.db.replace("entries", y._id, strip(x));
    return null;
  },
});
