import { anyApi } from "convex/server";
import { describe, expect, test, vi } from "vitest";
import { appTest, makeMigrations } from "./fixtures.js";
import * as self from "./dryrun.test.js";
import { captureLogs, fakeClock } from "../helpers.js";

const migrations = makeMigrations();

/** Normalizes emails, fails on users named "bad", deletes users named "gone". */
export const normalize = migrations.define({
  table: "users",
  migrateOne: async (ctx, user) => {
    if (user.name.startsWith("bad"))
      throw new Error(`cannot migrate ${user.name}`);
    if (user.name.startsWith("gone")) {
      await ctx.db.delete(user._id);
      return;
    }
    if (user.email === undefined) return;
    const email = user.email.toLowerCase();
    return email === user.email ? undefined : { email, age: 1 };
  },
  onError: "skip",
});

export const run = migrations.runner();

const api = anyApi["dryrun.test"];

const logs = captureLogs();
fakeClock(null);

function setup() {
  return appTest("dryrun.test", self);
}

/** 600 users: 300 with upper-case emails, 280 already lower-case, 10 bad, 10 gone. */
async function seed(t: ReturnType<typeof setup>) {
  await t.run(async (ctx) => {
    for (let i = 0; i < 600; i++) {
      const name =
        i % 60 === 7 ? `bad${i}` : i % 60 === 8 ? `gone${i}` : `u${i}`;
      const email = i % 2 === 0 ? `User${i}@X.com` : `user${i}@x.com`;
      await ctx.db.insert("users", { name, email });
    }
  });
}

async function snapshot(t: ReturnType<typeof setup>) {
  return await t.run((ctx) => ctx.db.query("users").collect());
}

describe("whole-table dry run", () => {
  test("walks every document, commits nothing, and reports what would happen", async () => {
    const t = setup();
    await seed(t);
    const before = await snapshot(t);
    const started = await t.mutation(api.run, {
      fn: "dryrun.test:normalize",
      dryRun: true,
    });
    expect(started).toMatchObject({ dryRun: true, state: "inProgress" });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await snapshot(t)).toEqual(before);

    const report = (await t.run((ctx) =>
      migrations.getReport(ctx, api.normalize, { dryRun: true }),
    ))!;
    // 600 users: every 60 has one "bad" (fails) and one "gone" (deleted).
    expect(report.status).toMatchObject({
      dryRun: true,
      state: "success",
      isDone: true,
      processed: 600,
      failed: 10,
    });
    const deleted = 10;
    const upper = before.filter(
      (u) => /^u/.test(u.name) && u.email !== u.email!.toLowerCase(),
    ).length;
    expect(report.status.changed).toBe(upper + deleted);
    expect(report.status.unchanged).toBe(600 - upper - deleted - 10);
    expect(report.fieldChanges).toEqual([
      { field: "(deleted)", count: deleted },
      { field: "age", count: upper },
      { field: "email", count: upper },
    ]);
    expect(report.failures).toHaveLength(10);
    expect(report.failures[0].message).toMatch(/cannot migrate bad/);
    expect(report.samples.length).toBe(5);
    const changedSample = report.samples.find((s) => s.after !== null)!;
    expect(changedSample.after.email).toBe(
      changedSample.before.email.toLowerCase(),
    );
    // The real run is unaffected by the dry run: it has never run.
    const [real] = await t.run((ctx) =>
      migrations.getStatus(ctx, { migrations: [api.normalize] }),
    );
    expect(real.state).toBe("unknown");
  });

  test("large documents are counted but not kept as samples (the report must fit in a row)", async () => {
    const t = setup();
    await t.run(async (ctx) => {
      for (let i = 0; i < 4; i++)
        await ctx.db.insert("users", {
          name: `u${i}${"x".repeat(300_000)}`,
          email: `BIG${i}@X.COM`,
        });
      await ctx.db.insert("users", { name: "small", email: "S@X.COM" });
    });
    await t.mutation(api.run, { fn: "dryrun.test:normalize", dryRun: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const report = (await t.run((ctx) =>
      migrations.getReport(ctx, api.normalize, { dryRun: true }),
    ))!;
    expect(report.status).toMatchObject({ state: "success", changed: 5 });
    expect(report.samples.map((s) => s.before.name)).toEqual(["small"]);
  });

  test("its 'would change' equals what the real run then changes", async () => {
    const t = setup();
    await seed(t);
    await t.mutation(api.run, { fn: "dryrun.test:normalize", dryRun: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const dry = (await t.run((ctx) =>
      migrations.getReport(ctx, api.normalize, { dryRun: true }),
    ))!;
    await t.mutation(api.run, { fn: "dryrun.test:normalize" });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const real = (await t.run((ctx) =>
      migrations.getReport(ctx, api.normalize),
    ))!;
    expect(real.status.changed).toBe(dry.status.changed);
    expect(real.status.unchanged).toBe(dry.status.unchanged);
    expect(real.status.failed).toBe(dry.status.failed);
    expect(real.fieldChanges).toEqual(dry.fieldChanges);
    expect(real.failures.map((f) => f.id).sort()).toEqual(
      dry.failures.map((f) => f.id).sort(),
    );
    const users = await snapshot(t);
    expect(users).toHaveLength(590);
    expect(
      users
        .filter((u) => !u.name.startsWith("bad"))
        .every((u) => u.email === u.email!.toLowerCase()),
    ).toBe(true);
  });

  test("is resumable: a canceled dry run continues from its cursor", async () => {
    const t = setup();
    await seed(t);
    await t.mutation(api.run, {
      fn: "dryrun.test:normalize",
      dryRun: true,
      batchSize: 100,
    });
    await t.run((ctx) => migrations.cancel(ctx, api.normalize));
    const partial = (await t.run((ctx) =>
      migrations.getReport(ctx, api.normalize, { dryRun: true }),
    ))!;
    expect(partial.status).toMatchObject({ state: "canceled", processed: 100 });
    await t.mutation(api.run, { fn: "dryrun.test:normalize", dryRun: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const done = (await t.run((ctx) =>
      migrations.getReport(ctx, api.normalize, { dryRun: true }),
    ))!;
    expect(done.status).toMatchObject({
      state: "success",
      processed: 600,
      failed: 10,
    });
    const runs = await t.run((ctx) => migrations.listRuns(ctx, api.normalize));
    expect(runs).toHaveLength(1);
  });

  test("the runner's transaction writes nothing to app tables even for the first batch", async () => {
    const t = setup();
    await seed(t);
    const before = await snapshot(t);
    await t.mutation(api.run, {
      fn: "dryrun.test:normalize",
      dryRun: true,
      batchSize: 600,
    });
    expect(await snapshot(t)).toEqual(before);
    const batch = logs.find((l) => l.event === "migrations.batch")!;
    expect(batch).toMatchObject({ dryRun: true, processed: 600 });
  });
});
