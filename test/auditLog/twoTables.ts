/**
 * A two-table app (`users`, `posts`: `{ n }`) with an auditLog (reasons of
 * 3+ characters) and an admin mutation builder that records the signed-in
 * identity, for tests that define their functions in the test file itself
 * (listFilters, pagingForms).
 */
import {
  defineSchema,
  defineTable,
  mutationGeneric,
  queryGeneric,
  type DataModelFromSchemaDefinition,
  type MutationBuilder,
  type QueryBuilder,
} from "convex/server";
import { convexTest } from "convex-test";
import { ConvexError, v } from "convex/values";
import { AuditLog } from "convex-opskit/auditLog";
import { registerAll } from "convex-opskit/test";
import { components } from "../helpers.js";

export const schema = defineSchema({
  users: defineTable({ n: v.number() }),
  posts: defineTable({ n: v.number() }),
});
export type DataModel = DataModelFromSchemaDefinition<typeof schema>;
export const query = queryGeneric as QueryBuilder<DataModel, "public">;
export const mutation = mutationGeneric as MutationBuilder<DataModel, "public">;

export const auditLog = new AuditLog<DataModel>(components.auditLog, {
  reason: { minLength: 3 },
});

export const adminMutation = auditLog.adminMutation(async (ctx) => {
  const identity = await ctx.auth.getUserIdentity();
  if (!identity) throw new ConvexError({ code: "UNAUTHENTICATED" });
  return { actorId: identity.subject, actorKind: "user" };
});

/** A convex-test of the app whose functions are `module`, file `./<name>.ts`. */
export function twoTablesTest(name: string, module: Record<string, unknown>) {
  const t = convexTest({
    schema,
    modules: {
      [`./${name}.ts`]: async () => module,
      "./_generated/api.ts": async () => ({}),
    },
    transactionLimits: true,
  });
  registerAll(t);
  return t;
}
