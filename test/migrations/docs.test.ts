/**
 * Drives the app in ./app, whose files are the code blocks of
 * docs/migrations.md verbatim (`convex/x.ts` there is `app/x.ts` here), the
 * way a user would: CLI runner, dry-run report, deploy gate, admin mutations.
 * ./app/migrations.test.ts is the README's seed-data test itself.
 */
import { convexTest } from "convex-test";
import { describe, expect, test, vi } from "vitest";
import { verifyAgainstSeed } from "convex-opskit/migrations";
import opskit from "convex-opskit/test";
import { api, internal } from "./app/_generated/api.js";
import schema from "./app/schema.js";
import { captureLogs, fakeClock } from "../helpers.js";

const modules = import.meta.glob("./app/**/*.ts");

captureLogs();
fakeClock(null);

function setup() {
  const t = convexTest(schema, modules);
  opskit.registerAll(t);
  return t;
}

describe("docs/migrations.md app", () => {
  test("CLI flow: dry run, report, deploy gate, progress", async () => {
    const t = setup();
    await t.run(async (ctx) => {
      for (let i = 0; i < 150; i++)
        await ctx.db.insert("users", {
          name: `u${i}`,
          ...(i % 3 === 0 ? { plan: "pro" as const } : {}),
        });
    });
    // npx convex run migrations:run '{"fn":"migrations:setDefault","dryRun":true}'
    await t.mutation(internal.migrations.run, {
      fn: "migrations:setDefault",
      dryRun: true,
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.query(api.admin.dryRunReport, {})).toEqual({
      visited: 150,
      wouldChange: 100,
      unchanged: 50,
      wouldFail: [],
      fields: [{ field: "plan", count: 100 }],
    });
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.filter((u) => u.plan === undefined)).toHaveLength(100);
    expect(await t.query(internal.migrations.pending, {})).toEqual([
      { name: "migrations:setDefault", reason: "neverRun" },
      { name: "migrations:backfillEmail", reason: "neverRun" },
    ]);
    // npx convex deploy && npx convex run migrations:runPending
    const gate = await t.mutation(internal.migrations.runPending, {});
    expect(gate.started).toBe("migrations:setDefault");
    expect(
      (await t.mutation(internal.migrations.runPending, {})).started,
    ).toBeNull();
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.query(internal.migrations.pending, {})).toEqual([]);
    expect(await t.query(api.admin.progress, {})).toEqual({
      state: "success",
      percent: 100,
      warnings: [],
    });
    const after = await t.run((ctx) => ctx.db.query("users").collect());
    expect(
      after.every((u) => u.plan && u.email === `${u.name}@example.com`),
    ).toBe(true);
  });

  test("pause, resume and roll back from the app's admin mutations", async () => {
    const t = setup();
    await t.run(async (ctx) => {
      for (let i = 0; i < 250; i++)
        await ctx.db.insert("users", { name: `u${i}` });
    });
    await t.mutation(internal.migrations.backfillEmail, {});
    await t.mutation(api.admin.pauseBackfill, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const paused = await t.run((ctx) => ctx.db.query("users").collect());
    expect(paused.filter((u) => u.email)).toHaveLength(100);
    await t.mutation(api.admin.resumeBackfill, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const done = await t.run((ctx) => ctx.db.query("users").collect());
    expect(done.every((u) => u.email)).toBe(true);
    await t.mutation(api.admin.undoBackfill, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const undone = await t.run((ctx) => ctx.db.query("users").collect());
    expect(undone.every((u) => u.email === undefined)).toBe(true);
  });

  test("verifyAgainstSeed reports documents that differ from the expectation", async () => {
    const t = setup();
    const check = await verifyAgainstSeed(t, {
      migration: internal.migrations.setDefault,
      table: "users",
      seed: [{ name: "Ada" }, { name: "Bob", plan: "pro" }],
      expected: [{ name: "Ada", plan: "pro" }, null],
      advanceTimers: vi.runAllTimers,
    });
    expect(check.ok).toBe(false);
    expect(check.mismatches.map((m) => [m.index, m.fields])).toEqual([
      [0, ["plan"]],
      [1, ["(deleted)"]],
    ]);
  });
});
