/**
 * "Verify against seed data": run a migration on known documents in a
 * convex-test instance and compare the result with the documents you expect.
 * Structurally typed, so this package does not depend on convex-test.
 */
import type {
  FunctionReference,
  GenericDataModel,
  GenericMutationCtx,
} from "convex/server";
import type { GenericId, Value } from "convex/values";
import { withoutSystemFields } from "../../shared/documents.js";
import { changedFields, type DocFields } from "../shared/diff.js";
import type { MigrationArgs } from "../shared/wire.js";

/** The parts of a convex-test instance the helper uses. */
export type SeedTestConvex = {
  run<Output>(
    func: (ctx: GenericMutationCtx<GenericDataModel>) => Promise<Output>,
  ): Promise<Output>;
  mutation(
    ref: FunctionReference<"mutation", "internal" | "public">,
    args: MigrationArgs,
  ): Promise<unknown>;
  finishAllScheduledFunctions(advanceTimers: () => void): Promise<void>;
};

/** What {@link verifyAgainstSeed} found. */
export type SeedCheck = {
  /** Every document matched its expectation. */
  ok: boolean;
  /** Documents (by seed index) that differ, with the differing fields. */
  mismatches: Array<{
    index: number;
    fields: string[];
    expected: DocFields | null;
    actual: DocFields | null;
  }>;
  /** The documents after the migration, system fields removed, in seed order. */
  actual: Array<DocFields | null>;
};

function userFields(doc: DocFields | null): DocFields | null {
  return doc === null ? null : withoutSystemFields(doc);
}

/**
 * Inserts `seed` into `table`, runs the migration to completion (optionally a
 * dry run first, which must leave the seed untouched), and compares each
 * document with `expected[i]` (`null`: expected deleted).
 *
 * @example
 * const check = await verifyAgainstSeed(t, {
 *   migration: anyApi["setDefault.test"].setDefault,
 *   table: "users",
 *   seed: [{ name: "a" }, { name: "b", plan: "pro" }],
 *   expected: [{ name: "a", plan: "free" }, { name: "b", plan: "pro" }],
 *   advanceTimers: vi.runAllTimers,
 * });
 * expect(check.mismatches).toEqual([]);
 */
export async function verifyAgainstSeed(
  t: SeedTestConvex,
  opts: {
    migration: FunctionReference<"mutation", "internal" | "public">;
    table: string;
    seed: Array<Record<string, Value>>;
    expected: Array<Record<string, Value> | null>;
    advanceTimers: () => void;
    dryRunFirst?: boolean;
  },
): Promise<SeedCheck> {
  // Plain errors here: a test helper failing a test, not a deployment's error.
  if (opts.seed.length !== opts.expected.length)
    throw new Error(
      `seed has ${opts.seed.length} documents but expected has ${opts.expected.length}`,
    );
  const ids = await t.run(async (ctx) => {
    const out: GenericId<string>[] = [];
    for (const doc of opts.seed) out.push(await ctx.db.insert(opts.table, doc));
    return out;
  });
  const read = () =>
    t.run(async (ctx) =>
      Promise.all(
        ids.map(async (id) =>
          userFields((await ctx.db.get(id)) as DocFields | null),
        ),
      ),
    );
  if (opts.dryRunFirst) {
    await t.mutation(opts.migration, { dryRun: true });
    await t.finishAllScheduledFunctions(opts.advanceTimers);
    const afterDry = await read();
    afterDry.forEach((doc, i) => {
      if (doc === null || changedFields(opts.seed[i], doc).length > 0)
        throw new Error(`The dry run changed seed document ${i}`);
    });
  }
  await t.mutation(opts.migration, {});
  await t.finishAllScheduledFunctions(opts.advanceTimers);
  const actual = await read();
  const mismatches: SeedCheck["mismatches"] = [];
  actual.forEach((doc, i) => {
    const expected = opts.expected[i];
    if (doc === null || expected === null) {
      if (doc !== expected)
        mismatches.push({
          index: i,
          fields: ["(deleted)"],
          expected,
          actual: doc,
        });
      return;
    }
    const fields = changedFields(expected, doc);
    if (fields.length > 0)
      mismatches.push({ index: i, fields, expected, actual: doc });
  });
  return { ok: mismatches.length === 0, mismatches, actual };
}
