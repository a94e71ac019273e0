/**
 * Shared test app for the migrations tests: a schema, a typed Migrations
 * instance, and helpers to seed and read users.
 */
import {
  type DataModelFromSchemaDefinition,
  defineSchema,
  defineTable,
  internalMutationGeneric,
  type MutationBuilder,
} from "convex/server";
import { v } from "convex/values";
import { convexTest } from "convex-test";
import { Migrations } from "../../src/migrations/client.js";
import { registerAll } from "../../src/test.js";
import { components } from "../helpers.js";

/** The test app's schema. */
export const schema = defineSchema({
  users: defineTable({
    name: v.string(),
    plan: v.optional(v.union(v.literal("free"), v.literal("pro"))),
    age: v.optional(v.number()),
    email: v.optional(v.string()),
  }).index("by_name", ["name"]),
  notes: defineTable({ text: v.string(), userId: v.optional(v.id("users")) }),
});

/** The test app's data model. */
export type DataModel = DataModelFromSchemaDefinition<typeof schema>;

/** The app's `internalMutation`, as `./_generated/server` would export it. */
export const internalMutation = internalMutationGeneric as MutationBuilder<
  DataModel,
  "internal"
>;

/** A fresh Migrations client over the registered component. */
export function makeMigrations(opts: { withSchema?: boolean } = {}) {
  return new Migrations<DataModel>(components.migrations, {
    internalMutation,
    ...(opts.withSchema ? { schema } : {}),
  });
}

/**
 * A convex-test instance for one test module (Vite's glob leaves out the
 * importing file, so the module passes itself), optionally enforcing
 * Convex's transaction limits.
 */
export function appTest(
  file: string,
  self: Record<string, unknown>,
  opts: { enforceLimits?: boolean | Record<string, number> } = {},
) {
  const modules = {
    [`./${file}.ts`]: async () => self,
    "./_generated/api.ts": async () => ({}),
  };
  const t = convexTest({
    schema,
    modules,
    ...(opts.enforceLimits ? { transactionLimits: opts.enforceLimits } : {}),
  });
  registerAll(t);
  return t;
}
