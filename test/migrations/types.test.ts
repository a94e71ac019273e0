/**
 * Type-level guarantees, checked by `tsc -p tsconfig.json` (each
 * `@ts-expect-error` line fails the typecheck if it stops being an error).
 */
import {
  anyApi,
  type FunctionReference,
  getFunctionName,
  makeFunctionReference,
} from "convex/server";
import { v } from "convex/values";
import { describe, expect, test } from "vitest";
import type { MigrationFunctionReference } from "convex-opskit/migrations";
import { makeMigrations } from "./fixtures.js";

const migrations = makeMigrations({ withSchema: true });

export const typed = migrations.define({
  table: "users",
  // The document is typed from the table: `plan` is "free" | "pro" | undefined.
  migrateOne: (_ctx, user) =>
    user.plan === undefined ? { plan: "free" } : undefined,
  verify: (user) => user.name.length > 0,
  customRange: (q) => q.withIndex("by_name", (r) => r.gte("name", "a")),
});

export const typedNotes = migrations.define({
  table: "notes",
  migrateOne: async (ctx, note) => {
    if (note.userId) {
      const user = await ctx.db.get(note.userId);
      return { text: `${user?.name ?? "?"}: ${note.text}` };
    }
    return undefined;
  },
  verify: v.object({ text: v.string() }),
});

const ref = makeFunctionReference<"mutation">(
  "types.test:typed",
) as unknown as MigrationFunctionReference;
const notAMigration = makeFunctionReference<"mutation">(
  "types.test:other",
) as unknown as FunctionReference<"mutation", "internal", { count: number }>;
const aQuery = makeFunctionReference<"query">(
  "types.test:q",
) as unknown as FunctionReference<"query", "internal">;

export function typeErrors() {
  migrations.define({
    // @ts-expect-error: no table "userz"
    table: "userz",
    migrateOne: () => {},
  });
  migrations.define({
    table: "users",
    // @ts-expect-error: "plann" is not a field of users
    migrateOne: () => ({ plann: "free" }),
  });
  migrations.define({
    table: "users",
    // @ts-expect-error: "gold" is not a valid plan
    migrateOne: () => ({ plan: "gold" }),
  });
  migrations.define({
    table: "users",
    // @ts-expect-error: onError is "stop" or "skip"
    onError: "ignore",
    migrateOne: () => {},
  });
  migrations.define({
    table: "users",
    migrateOne: () => {},
    // @ts-expect-error: users have no "nmae"
    verify: (user) => user.nmae === "x",
  });
  migrations.define({
    table: "users",
    migrateOne: () => {},
    // @ts-expect-error: no index "by_nmae" on users
    customRange: (q) => q.withIndex("by_nmae"),
  });
  migrations.define({
    table: "notes",
    // @ts-expect-error: notes have no "plan" (the patch is typed by table)
    migrateOne: () => ({ plan: "free" }),
  });
  // @ts-expect-error: a mutation with other arguments is not a migration
  migrations.runner(notAMigration);
  // @ts-expect-error: a query is not a migration
  migrations.runner([ref, aQuery]);
  return async (ctx: Parameters<typeof migrations.runOne>[0]) => {
    await migrations.runOne(ctx, ref, { dryRun: true, onError: "skip" });
    // @ts-expect-error: unknown option
    await migrations.runOne(ctx, ref, { dryrun: true });
    // @ts-expect-error: a query is not a migration
    await migrations.pendingRunner([aQuery]);
  };
}

describe("typed definitions", () => {
  test("define returns internal mutations the runner can reference by name", () => {
    const exported = typed as unknown as {
      isMutation: boolean;
      isInternal: boolean;
    };
    expect(exported.isMutation).toBe(true);
    expect(exported.isInternal).toBe(true);
    expect(getFunctionName(anyApi["types.test"].typed)).toBe(
      "types.test:typed",
    );
    expect((typedNotes as unknown as { isMutation: boolean }).isMutation).toBe(
      true,
    );
  });
});
