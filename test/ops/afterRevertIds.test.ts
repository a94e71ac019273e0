/**
 * `opsApi`'s `afterRevert` hook runs after a revert restored the documents;
 * when the revert re-created a deleted document, the document now lives
 * under a new id. The hook must be handed ids it can read (each entry's
 * `docId` is the document as it exists after the revert), plus the
 * `recreated` mapping from the id the audit trail recorded to the new one.
 */
import {
  anyApi,
  defineSchema,
  defineTable,
  mutationGeneric,
  queryGeneric,
  type DataModelFromSchemaDefinition,
} from "convex/server";
import { ConvexError, v } from "convex/values";
import { expect, test } from "vitest";
import { Authz, userIdFromSubject } from "convex-opskit/authz";
import { AuditLog } from "convex-opskit/auditLog";
import { opsApi } from "convex-opskit/ops";
import { components, opskitTest } from "../helpers.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./afterRevertIds.test.js";

const schema = defineSchema({
  notes: defineTable({ text: v.string() }),
  seen: defineTable({ docId: v.string(), found: v.boolean() }),
});
type DataModel = DataModelFromSchemaDefinition<typeof schema>;

const authz = new Authz(components.authz, {
  roles: { admin: ["*"] },
  permissions: [
    "audit.read",
    "audit.revert",
    "migrations.run",
    "rateLimits.manage",
    "users.manage",
  ],
  getUserId: userIdFromSubject,
});
const auditLog = new AuditLog<DataModel>(components.auditLog, {});
const adminMutation = auditLog.adminMutation(authz);

export const { auditRevert } = opsApi({
  authz,
  auditLog,
  // "seen" is where the hook below writes what it could read.
  revertTables: ["notes", "seen"],
  afterRevert: async (ctx, { entries, recreated }) => {
    for (const entry of entries) {
      const doc = await ctx.db.get(entry.docId as never);
      await ctx.db.insert("seen", { docId: entry.docId, found: doc !== null });
    }
    // The mapping names every re-created document under its new id.
    for (const r of recreated)
      if ((await ctx.db.get(r.newDocId as never)) === null)
        throw new ConvexError({
          code: "NOT_FOUND",
          message: "recreated id unreadable",
        });
  },
});

export const seed = mutationGeneric({
  args: {},
  returns: v.id("notes"),
  handler: async (ctx) => {
    await authz.grant(ctx, { userId: "root", role: "admin" });
    return await ctx.db.insert("notes", { text: "keep me" });
  },
});

export const deleteNote = adminMutation({
  permission: "audit.revert",
  tables: ["notes"],
  args: { id: v.id("notes") },
  returns: v.null(),
  handler: async (ctx, { id }) => {
    await ctx.db.delete(id);
    return null;
  },
});

export const state = queryGeneric({
  args: {},
  returns: v.any(),
  handler: async (ctx) => ({
    notes: await ctx.db.query("notes").collect(),
    seen: await ctx.db.query("seen").collect(),
  }),
});

const app = anyApi["afterRevertIds.test"];
const REASON = "SUP-3 restoring a deleted note";

test("afterRevert gets the re-created document's new id, not the deleted one", async () => {
  const t = opskitTest(
    { "./afterRevertIds.test.ts": async () => self },
    schema,
  );
  const id = await t.mutation(app.seed, {});
  const root = t.withIdentity({ subject: "root" });
  await root.mutation(app.deleteNote, { id, reason: REASON });
  expect((await t.query(app.state, {})).notes).toEqual([]);
  const list = await t.run(async (ctx) =>
    auditLog.listOperations(ctx as never, {
      paginationOpts: { numItems: 1, cursor: null },
    }),
  );
  const result = await root.mutation(app.auditRevert, {
    operationId: list.page[0].operationId,
    reason: REASON,
  });
  expect(result).toEqual({ revertedEntries: 1, recreated: 1 });
  const { notes, seen } = await t.query(app.state, {});
  expect(notes).toHaveLength(1);
  expect(seen).toEqual([
    expect.objectContaining({ docId: notes[0]._id, found: true }),
  ]);
});
