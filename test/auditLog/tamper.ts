/**
 * Test-only functions installed inside the auditLog component, so tests can
 * edit, delete and reorder its rows directly, as an attacker with database
 * access would, and check that `verify` notices.
 */
import { v } from "convex/values";
import {
  mutation,
  query,
} from "../../src/auditLog/component/_generated/server.js";
import type { Id } from "../../src/auditLog/component/_generated/dataModel.js";

export const patchEntry = mutation({
  args: { entryId: v.string(), patch: v.any() },
  returns: v.null(),
  handler: async (ctx, { entryId, patch }) => {
    await ctx.db.patch("entries", entryId as Id<"entries">, patch);
    return null;
  },
});
export const deleteEntry = mutation({
  args: { entryId: v.string() },
  returns: v.null(),
  handler: async (ctx, { entryId }) => {
    await ctx.db.delete("entries", entryId as Id<"entries">);
    return null;
  },
});
export const patchOperation = mutation({
  args: { operationId: v.string(), patch: v.any() },
  returns: v.null(),
  handler: async (ctx, { operationId, patch }) => {
    await ctx.db.patch("operations", operationId as Id<"operations">, patch);
    return null;
  },
});
export const deleteOperation = mutation({
  args: { operationId: v.string() },
  returns: v.null(),
  handler: async (ctx, { operationId }) => {
    await ctx.db.delete("operations", operationId as Id<"operations">);
    return null;
  },
});
export const patchChain = mutation({
  args: { name: v.union(v.literal("head"), v.literal("tail")), patch: v.any() },
  returns: v.null(),
  handler: async (ctx, { name, patch }) => {
    const row = await ctx.db
      .query("chain")
      .withIndex("by_name", (q) => q.eq("name", name))
      .unique();
    await ctx.db.patch("chain", row!._id, patch);
    return null;
  },
});
export const rows = query({
  args: {
    table: v.union(
      v.literal("operations"),
      v.literal("entries"),
      v.literal("chain"),
    ),
  },
  returns: v.any(),
  handler: async (ctx, { table }) => {
    const docs = await ctx.db.query(table).collect();
    // commitTs is an int64; return it as a string so the test can read it.
    return docs.map((d) =>
      "commitTs" in d ? { ...d, commitTs: String(d.commitTs) } : d,
    );
  },
});
