/**
 * Byte budgets of the component's multi-document jobs (issue 10, deliver 3):
 * `clearAll` and `getStatus` size their work by the bytes and documents
 * read and written, with Convex's transaction limits on, whatever the rows'
 * sizes, and always progress.
 */
import { anyApi } from "convex/server";
import { getConvexSize } from "convex/values";
import { expect, test, vi } from "vitest";
import { captureLogs, fakeClock } from "../helpers.js";
import { appTestWithPeek, makeMigrations, peekRef } from "./fixtures.js";
import * as self from "./budget.test.js";

const migrations = makeMigrations();
const api = anyApi["budget.test"];

/** Replaces a large field: its ~300 kB prior value goes to the journal. */
export const shrinkName = migrations.define({
  table: "users",
  journal: true,
  migrateOne: (_ctx, user) => ({ name: user.name.slice(0, 8) }),
});

/** Dry runs keep before/after samples (~60 kB each here) in the run row. */
export const sampled = migrations.define({
  table: "users",
  migrateOne: (_ctx, user) => ({ email: `${user.name.slice(0, 4)}@x` }),
});

const logs = captureLogs();
fakeClock(null);

test("clearAll deletes ~18 MB of journal rows across transactions, each within the limits", async () => {
  const t = appTestWithPeek("budget.test", self, { enforceLimits: true });
  for (let i = 0; i < 60; i++)
    await t.run(async (ctx) => {
      await ctx.db.insert("users", { name: `${i}`.padEnd(300_000, "x") });
    });
  await t.mutation(api.shrinkName, {});
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  // (Reading the journal back here would itself exceed the read limit.)
  const [done] = await t.run((ctx) =>
    migrations.getStatus(ctx, { migrations: [api.shrinkName] }),
  );
  expect(done).toMatchObject({ state: "success", changed: 60 });
  await t.run((ctx) => migrations.clearAll(ctx));
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  for (const table of ["runs", "batches", "journal", "failures"])
    expect(
      await t.run((ctx) => ctx.runQuery(peekRef("rows"), { table })),
    ).toEqual([]);
  const clears = logs.filter((l) => l.event === "migrations.clear");
  // More than one transaction, and each one deleted something.
  expect(clears.length).toBeGreaterThan(1);
  for (const c of clears) expect(c.deletedRows as number).toBeGreaterThan(0);
  expect(clears.at(-1)).toMatchObject({ more: false });
});

test("getStatus() over a history of large run rows stays within the read limit", async () => {
  const t = appTestWithPeek("budget.test", self, { enforceLimits: true });
  await t.run(async (ctx) => {
    for (let i = 0; i < 5; i++)
      await ctx.db.insert("users", { name: `${i}`.padEnd(30_000, "y") });
  });
  // 60 dry runs, each row holding ~300 kB of samples: ~18 MB of run rows.
  for (let i = 0; i < 60; i++) {
    await t.run((ctx) => migrations.runOne(ctx, api.sampled, { dryRun: true }));
    await t.finishAllScheduledFunctions(vi.runAllTimers);
  }
  await t.run((ctx) => migrations.runOne(ctx, api.shrinkName));
  const statuses = await t.run((ctx) => migrations.getStatus(ctx));
  expect(statuses.map((s) => s.name)).toContain("budget.test:shrinkName");
});

/** Rewrites both large fields of a near-1 MiB document (journal: true). */
export const rewriteBig = migrations.define({
  table: "users",
  journal: true,
  migrateOne: (_ctx, user) => ({
    name: user.name.toUpperCase(),
    email: (user.email ?? "").toUpperCase(),
  }),
});

test("a document near 1 MiB is migrated with its journal split across rows, and rolled back exactly", async () => {
  const t = appTestWithPeek("budget.test", self, { enforceLimits: true });
  const half = 524_200; // ~1,048,480-byte document, just under 1 MiB
  await t.run(async (ctx) => {
    await ctx.db.insert("users", {
      name: "a".repeat(half),
      email: "b".repeat(half),
    });
  });
  const before = await t.run((ctx) => ctx.db.query("users").collect());
  await t.mutation(api.rewriteBig, {});
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  const [done] = await t.run((ctx) =>
    migrations.getStatus(ctx, { migrations: [api.rewriteBig] }),
  );
  expect(done).toMatchObject({ state: "success", changed: 1 });
  const journal = (await t.run((ctx) =>
    ctx.runQuery(peekRef("rows"), { table: "journal" }),
  )) as Array<Record<string, unknown>>;
  expect(journal.length).toBe(2);
  for (const row of journal)
    expect(getConvexSize(row as never)).toBeLessThan(1024 * 1024);
  await t.run((ctx) => migrations.rollback(ctx, api.rewriteBig));
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  expect(await t.run((ctx) => ctx.db.query("users").collect())).toEqual(before);
});

test("a field too large to journal fails its document with a clear message, not a stuck run", async () => {
  const t = appTestWithPeek("budget.test", self, { enforceLimits: true });
  await t.run(async (ctx) => {
    // A single field within 512 bytes of the 1 MiB document limit.
    await ctx.db.insert("users", { name: "c".repeat(1_048_300) });
  });
  await t.mutation(api.rewriteBig, {});
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  const [status] = await t.run((ctx) =>
    migrations.getStatus(ctx, { migrations: [api.rewriteBig] }),
  );
  expect(status.state).toBe("failed");
  expect(status.error).toMatch(/field "name".*journal: false/);
});
