/**
 * Shared test app for the migrations tests: a schema, a typed Migrations
 * instance, and helpers to seed and read users.
 */
import {
  type DataModelFromSchemaDefinition,
  defineSchema,
  defineTable,
  type FunctionReference,
  internalMutationGeneric,
  type MutationBuilder,
  queryGeneric,
} from "convex/server";
import { v } from "convex/values";
import { convexTest } from "convex-test";
import { Migrations } from "convex-opskit/migrations";
import { migrationsSchema } from "../internal.js";
import { registerAll } from "convex-opskit/test";
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

/** Component tables the peek module reads. */
const PEEKED = ["runs", "batches", "failures", "journal"] as const;

/**
 * A test-only module added to the migrations component: reads its tables,
 * which convex-test gives tests no other way to see. `largestArray` is the
 * longest array in any stored document (Convex refuses more than 8,192).
 */
const peekModule = {
  rows: queryGeneric({
    args: { table: v.string() },
    returns: v.any(),
    handler: async (ctx, { table }) =>
      await ctx.db.query(table as (typeof PEEKED)[number]).collect(),
  }),
  largestArray: queryGeneric({
    args: {},
    returns: v.number(),
    handler: async (ctx) => {
      let max = 0;
      const walk = (x: unknown) => {
        if (Array.isArray(x)) {
          max = Math.max(max, x.length);
          x.forEach(walk);
        } else if (x && typeof x === "object") Object.values(x).forEach(walk);
      };
      for (const table of PEEKED)
        for (const row of await ctx.db.query(table).collect()) walk(row);
      return max;
    },
  }),
};

/**
 * Like {@link appTest}, with the migrations component registered together
 * with the peek module: `ctx.runQuery(peekRef("rows"), { table: "runs" })`.
 */
export function appTestWithPeek(
  file: string,
  self: Record<string, unknown>,
  opts: { enforceLimits?: boolean | Record<string, number> } = {},
) {
  const t = convexTest({
    schema,
    modules: {
      [`./${file}.ts`]: async () => self,
      "./_generated/api.ts": async () => ({}),
    },
    ...(opts.enforceLimits ? { transactionLimits: opts.enforceLimits } : {}),
  });
  registerAll(t);
  const componentModules = import.meta.glob(
    "../../src/migrations/component/**/*.ts",
  );
  const libKey = Object.keys(componentModules).find((k) =>
    k.endsWith("/component/lib.ts"),
  )!;
  t.registerComponent("migrations", migrationsSchema, {
    ...componentModules,
    [libKey.replace("/lib.ts", "/peek.ts")]: async () => peekModule,
  });
  return t;
}

/** A reference to a peek function inside the migrations component. */
export function peekRef<N extends "rows" | "largestArray">(name: N) {
  return (
    components.migrations as unknown as Record<string, Record<string, unknown>>
  ).peek[name] as N extends "rows"
    ? FunctionReference<"query", "internal", { table: string }, unknown[]>
    : FunctionReference<"query", "internal", Record<string, never>, number>;
}
