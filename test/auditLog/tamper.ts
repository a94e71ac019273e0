/**
 * Test-only functions installed inside the auditLog component, so tests can
 * edit, delete and reorder its rows directly, as an attacker with database
 * access would, and check that `verify` notices.
 */
import { v } from "convex/values";
import {
  auditLogMutation as mutation,
  auditLogQuery as query,
  type AuditLogId as Id,
} from "../internal.js";

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
/**
 * Removes fields of an operation row. (`patchOperation` cannot: a function
 * argument drops keys whose value is `undefined`, so `{ format: undefined }`
 * arrives as `{}` and patches nothing.)
 */
export const unsetOperationFields = mutation({
  args: { operationId: v.string(), fields: v.array(v.string()) },
  returns: v.null(),
  handler: async (ctx, { operationId, fields }) => {
    await ctx.db.patch(
      "operations",
      operationId as Id<"operations">,
      Object.fromEntries(fields.map((f) => [f, undefined])),
    );
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
/** Adds a forged entry to an operation (as an attacker with database access could). */
export const insertEntry = mutation({
  args: { entry: v.any() },
  returns: v.string(),
  handler: async (ctx, { entry }) => ctx.db.insert("entries", entry),
});
/** Swaps the contents of two entries, keeping their ids. */
export const swapEntries = mutation({
  args: { a: v.string(), b: v.string() },
  returns: v.null(),
  handler: async (ctx, { a, b }) => {
    const x = await ctx.db.get("entries", a as Id<"entries">);
    const y = await ctx.db.get("entries", b as Id<"entries">);
    const strip = (d: typeof x) => {
      const { _id, _creationTime, ...rest } = d!;
      void _id;
      void _creationTime;
      return rest;
    };
    await ctx.db.replace("entries", a as Id<"entries">, strip(y));
    await ctx.db.replace("entries", b as Id<"entries">, strip(x));
    return null;
  },
});
export const patchSnapshot = mutation({
  args: { snapshotId: v.string(), patch: v.any() },
  returns: v.null(),
  handler: async (ctx, { snapshotId, patch }) => {
    await ctx.db.patch("snapshots", snapshotId as Id<"snapshots">, patch);
    return null;
  },
});
export const deleteSnapshot = mutation({
  args: { snapshotId: v.string() },
  returns: v.null(),
  handler: async (ctx, { snapshotId }) => {
    await ctx.db.delete("snapshots", snapshotId as Id<"snapshots">);
    return null;
  },
});
/**
 * A page of raw rows of any component table, in creation order, for the
 * storage-limit checks (a page at a time, so it fits transaction limits).
 */
export const rowsPage = query({
  args: {
    table: v.union(
      v.literal("operations"),
      v.literal("entries"),
      v.literal("chain"),
      v.literal("snapshots"),
      v.literal("retentionRuns"),
    ),
    after: v.union(v.number(), v.null()),
    limit: v.number(),
  },
  returns: v.any(),
  handler: async (ctx, { table, after, limit }) => {
    const docs = await ctx.db
      .query(table)
      .withIndex("by_creation_time", (q) =>
        after === null ? q : q.gt("_creationTime", after),
      )
      .take(limit);
    return docs.map((d) =>
      "commitTs" in d ? { ...d, commitTs: String(d.commitTs) } : d,
    );
  },
});
/** Snapshot part ids and sizes of an operation (without their text). */
export const snapshotsOf = query({
  args: { operationId: v.string() },
  returns: v.any(),
  handler: async (ctx, { operationId }) => {
    const rows = await ctx.db
      .query("snapshots")
      .withIndex("by_owner", (q) =>
        q.eq("operationId", operationId as Id<"operations">),
      )
      .collect();
    return rows.map((r) => ({
      _id: r._id,
      entryIndex: r.entryIndex,
      side: r.side,
      part: r.part,
      length: r.text.length,
    }));
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
