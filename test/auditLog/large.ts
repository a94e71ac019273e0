/**
 * A test app for the audit log at Convex's storage limits: documents close
 * to 1 MiB or nested 16 levels, written through admin mutations, with
 * convex-test's transaction limits on and every stored row of the auditLog
 * component checked against the document limits (`checkDocument`).
 */
import {
  actionGeneric,
  defineSchema,
  defineTable,
  mutationGeneric,
  paginationOptsValidator,
  queryGeneric,
  type DataModelFromSchemaDefinition,
  type GenericActionCtx,
  type GenericMutationCtx,
  type GenericQueryCtx,
} from "convex/server";
import { v } from "convex/values";
import { convexTest } from "convex-test";
import { expect } from "vitest";
import { AuditLog } from "convex-opskit/auditLog";
import { checkDocument } from "../internal.js";
import opskit, { registerAll } from "convex-opskit/test";
import type { GenericSchema, SchemaDefinition } from "convex/server";
import { components } from "../helpers.js";

export const schema = defineSchema({
  docs: defineTable({ name: v.string(), data: v.any() }),
});
type DataModel = DataModelFromSchemaDefinition<typeof schema>;
type MutationCtx = GenericMutationCtx<DataModel>;
type QueryCtx = GenericQueryCtx<DataModel>;

export const auditLog = new AuditLog<DataModel>(components.auditLog, {
  reason: { minLength: 8 },
  retention: { maxAgeMs: 24 * 60 * 60 * 1000 },
});
const admin = auditLog.adminMutation<"docs.write">(async (ctx) => {
  const identity = await ctx.auth.getUserIdentity();
  if (!identity) throw new Error("sign in");
  return { actorId: identity.subject, actorKind: "user" };
});

export const insertDoc = admin({
  tables: ["docs"],
  args: { name: v.string(), data: v.any() },
  returns: v.id("docs"),
  handler: async (ctx, { name, data }) => ctx.db.insert("docs", { name, data }),
});
export const patchDoc = admin({
  tables: ["docs"],
  args: {
    id: v.id("docs"),
    name: v.optional(v.string()),
    data: v.optional(v.any()),
  },
  returns: v.null(),
  handler: async (ctx, { id, name, data }) => {
    await ctx.db.patch(id, {
      ...(name !== undefined ? { name } : {}),
      ...(data !== undefined ? { data } : {}),
    });
    return null;
  },
});
/** Renames: the arguments stay small however large the document is. */
export const renameDoc = admin({
  tables: ["docs"],
  args: { id: v.id("docs"), name: v.string() },
  returns: v.null(),
  handler: async (ctx, { id, name }) => {
    await ctx.db.patch(id, { name });
    return null;
  },
});
/** Renames several documents in one call. */
export const renameMany = admin({
  tables: ["docs"],
  args: { ids: v.array(v.id("docs")), name: v.string() },
  returns: v.null(),
  handler: async (ctx, { ids, name }) => {
    for (const id of ids) await ctx.db.patch(id, { name });
    return null;
  },
});
export const replaceDoc = admin({
  tables: ["docs"],
  args: { id: v.id("docs"), name: v.string(), data: v.any() },
  returns: v.null(),
  handler: async (ctx, { id, name, data }) => {
    await ctx.db.replace(id, { name, data });
    return null;
  },
});
export const deleteDoc = admin({
  tables: ["docs"],
  args: { id: v.id("docs") },
  returns: v.null(),
  handler: async (ctx, { id }) => {
    await ctx.db.delete(id);
    return null;
  },
});
/** Takes a large argument it does not store in the table (only a name). */
export const bigArgs = admin({
  tables: ["docs"],
  args: { id: v.id("docs"), payload: v.string() },
  returns: v.null(),
  handler: async (ctx, { id, payload }) => {
    await ctx.db.patch(id, { name: `len ${payload.length}` });
    return null;
  },
});
export const revert = admin({
  tables: ["docs"],
  args: {
    operationId: v.optional(v.string()),
    entryId: v.optional(v.string()),
  },
  returns: v.any(),
  handler: async (ctx, { operationId, entryId }) =>
    auditLog.revert(
      ctx,
      entryId !== undefined ? { entryId } : { operationId: operationId! },
    ),
});

export const getDoc = queryGeneric({
  args: { id: v.id("docs") },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { id }) => ctx.db.get(id),
});
export const list = queryGeneric({
  args: { args: v.any() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { args }) => auditLog.list(ctx, args),
});
export const history = queryGeneric({
  args: { docId: v.string(), paginationOpts: paginationOptsValidator },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { docId, paginationOpts }) =>
    auditLog.history(ctx, { table: "docs", docId, paginationOpts }),
});
export const getOperation = queryGeneric({
  args: { operationId: v.string() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, args) => auditLog.getOperation(ctx, args),
});
export const getOperationPage = queryGeneric({
  args: { operationId: v.string(), fromIndex: v.optional(v.number()) },
  returns: v.any(),
  handler: async (ctx: QueryCtx, args) => auditLog.getOperationPage(ctx, args),
});
export const getOperationPaged = queryGeneric({
  args: { operationId: v.string(), paginationOpts: paginationOptsValidator },
  returns: v.any(),
  handler: async (ctx: QueryCtx, args) => auditLog.getOperationPage(ctx, args),
});
export const listOperations = queryGeneric({
  args: { args: v.any() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { args }) =>
    auditLog.listOperations(ctx, args),
});
export const documentAt = queryGeneric({
  args: { docId: v.string(), at: v.number() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { docId, at }) =>
    auditLog.documentAt(ctx, { table: "docs", docId, at }),
});
export const seal = mutationGeneric({
  args: {},
  returns: v.any(),
  handler: async (ctx: MutationCtx) => auditLog.seal(ctx),
});
/** Verify from a query: one transaction for every page. */
export const verifyQuery = queryGeneric({
  args: { args: v.optional(v.any()) },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { args }) => auditLog.verify(ctx, args ?? {}),
});
/** Verify from an action, as the docs recommend: each page its own transaction. */
export const verify = actionGeneric({
  args: { args: v.optional(v.any()) },
  returns: v.any(),
  handler: async (ctx: GenericActionCtx<DataModel>, { args }) =>
    auditLog.verify(ctx, args ?? {}),
});
export const runRetention = mutationGeneric({
  args: {},
  returns: v.any(),
  handler: async (ctx: MutationCtx) => auditLog.runRetention(ctx),
});
export const retentionRuns = queryGeneric({
  args: {},
  returns: v.any(),
  handler: async (ctx: QueryCtx) => auditLog.retentionRuns(ctx),
});
export const reconcile = queryGeneric({
  args: { paginationOpts: paginationOptsValidator },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { paginationOpts }) =>
    auditLog.reconcile(ctx, { table: "docs", paginationOpts }),
});
export const reconcileRecorded = queryGeneric({
  args: { cursor: v.union(v.string(), v.null()), limit: v.number() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { cursor, limit }) =>
    auditLog.reconcileRecorded(ctx, { table: "docs", cursor, limit }),
});
/** An edit made outside admin mutations. */
export const outOfBand = mutationGeneric({
  args: { id: v.id("docs"), name: v.string() },
  returns: v.null(),
  handler: async (ctx: MutationCtx, { id, name }) => {
    await ctx.db.patch(id, { name });
    return null;
  },
});
/** Calls the component's append functions directly, as a hostile or buggy caller could. */
export const appendDirect = mutationGeneric({
  args: { fn: v.string(), args: v.any() },
  returns: v.any(),
  handler: async (ctx: MutationCtx, { fn, args }) =>
    ctx.runMutation(
      (components.auditLog.log as unknown as Record<string, never>)[fn],
      args as never,
    ),
});
/** Calls a component query directly with any arguments. */
export const queryDirect = queryGeneric({
  args: { module: v.string(), fn: v.string(), args: v.any() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { module, fn, args }) =>
    ctx.runQuery(
      (components.auditLog as unknown as Record<string, Record<string, never>>)[
        module
      ][fn],
      args as never,
    ),
});
/** Calls a test-only function installed in the component (see tamper.ts). */
export const tamper = mutationGeneric({
  args: { fn: v.string(), args: v.any() },
  returns: v.any(),
  handler: async (ctx: MutationCtx, { fn, args }) =>
    ctx.runMutation(
      (components.auditLog as unknown as Record<string, Record<string, never>>)
        .tamper[fn],
      args as never,
    ),
});
export const raw = queryGeneric({
  args: { fn: v.string(), args: v.any() },
  returns: v.any(),
  handler: async (ctx: QueryCtx, { fn, args }) =>
    ctx.runQuery(
      (components.auditLog as unknown as Record<string, Record<string, never>>)
        .tamper[fn],
      args as never,
    ),
});

/** convex-test with its transaction limits on, all components registered and the tamper module installed. */
export function largeTest() {
  const t = convexTest({
    schema,
    modules: {
      "./large.ts": () => import("./large.js"),
      "./_generated/api.ts": async () => ({}),
    },
    transactionLimits: true,
  });
  registerAll(t);
  t.registerComponent(
    "auditLog",
    opskit.auditLog.schema as SchemaDefinition<GenericSchema, boolean>,
    {
      ...opskit.auditLog.modules,
      "./auditLog/component/tamper.ts": () => import("./tamper.js"),
    },
  );
  return t;
}

type T = ReturnType<typeof largeTest>;
const TABLES = [
  "operations",
  "entries",
  "chain",
  "snapshots",
  "retentionRuns",
] as const;

/**
 * Reads every row of the auditLog component (a few at a time) and expects
 * each to be storable by a deployment; returns the row counts per table.
 */
export async function expectStorable(t: T): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    let after: number | null = null;
    counts[table] = 0;
    for (;;) {
      const rows: Array<Record<string, never> & { _creationTime: number }> =
        await t.query(anyApiLarge.raw, {
          fn: "rowsPage",
          args: { table, after, limit: 8 },
        });
      for (const row of rows)
        expect(
          checkDocument(row),
          `${table} ${String(row._id)} is not storable`,
        ).toEqual([]);
      counts[table] += rows.length;
      if (rows.length < 8) break;
      after = rows[rows.length - 1]._creationTime;
    }
  }
  return counts;
}

import { anyApi } from "convex/server";
/** The functions above, as `t.query(api.x)` calls them. */
export const anyApiLarge = anyApi.large;
