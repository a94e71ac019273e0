/**
 * This repo's tests run under production limits whichever helper builds the
 * convex-test instance (test/setup/productionLimits.ts): a plain
 * `convexTest(schema, modules)` enforces the transaction limits and checks
 * every table after the test.
 */
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { convexTest } from "convex-test";
import { expect, test } from "vitest";
import type { ProductionLimits } from "convex-opskit/test";

const schema = defineSchema({
  notes: defineTable({
    body: v.string(),
    tags: v.optional(v.array(v.string())),
  }),
});
const modules = { "./_generated/api.ts": async () => ({}) };

test("a plain convexTest() here enforces transactionLimits and carries the limits check", async () => {
  const t = convexTest(schema, modules) as ReturnType<typeof convexTest> &
    ProductionLimits;
  await expect(
    t.run(async (ctx) => {
      for (let i = 0; i < 17; i++)
        await ctx.db.insert("notes", { body: "x".repeat(1_000_000) });
    }),
  ).rejects.toThrow(/Wrote too much data/);
  await t.run(async (ctx) => {
    await ctx.db.insert("notes", {
      body: "x",
      tags: new Array<string>(9000).fill("t"),
    });
  });
  await expect(t.checkLimits()).rejects.toThrow(
    /app, table notes, id \w+, path \$\.tags: array has 9000 elements \(limit 8192\)/,
  );
  t.allowLimitViolations({
    table: "notes",
    rule: "array",
    reason: "the document above was stored to show the check finds it",
  });
});

test("a test's own transactionLimits wins over the default", async () => {
  const t = convexTest({ schema, modules, transactionLimits: false });
  await t.run(async (ctx) => {
    for (let i = 0; i < 17; i++)
      await ctx.db.insert("notes", { body: "x".repeat(1_000_000) });
  });
  expect(
    await t.run(async (ctx) => (await ctx.db.query("notes").collect()).length),
  ).toBe(17);
});
