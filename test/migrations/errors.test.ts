import { actionGeneric, anyApi } from "convex/server";
import { v } from "convex/values";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { isMigrationFailure, runToCompletion } from "convex-opskit/migrations";
import { components, captureLogs, fakeClock } from "../helpers.js";
import { appTest, makeMigrations } from "./fixtures.js";
import * as self from "./errors.test.js";

const migrations = makeMigrations();

/** Names of users whose migration throws; tests change it to "fix the code". */
const broken = new Set<string>();

/** Increments age (so a document migrated twice is visible) unless broken. */
export const bump = migrations.define({
  table: "users",
  batchSize: 10,
  migrateOne: async (ctx, user) => {
    await ctx.db.patch(user._id, { age: (user.age ?? 0) + 1 });
    // Throwing after a write: the write must not survive.
    if (broken.has(user.name)) throw new Error(`boom on ${user.name}`);
  },
});

export const bumpSkipping = migrations.define({
  table: "users",
  batchSize: 10,
  onError: "skip",
  migrateOne: async (ctx, user) => {
    await ctx.db.patch(user._id, { age: (user.age ?? 0) + 1 });
    if (broken.has(user.name)) throw new Error(`boom on ${user.name}`);
  },
});

export const breakSchema = migrations.define({
  table: "users",
  onError: "skip",
  // A patch the schema rejects (plan must be "free" or "pro") for one user.
  migrateOne: (_ctx, user) =>
    user.name === "u3" ? ({ plan: "gold" } as never) : { plan: "pro" },
});

export const verified = migrations.define({
  table: "users",
  onError: "skip",
  migrateOne: (_ctx, user) =>
    user.name === "u5" ? {} : { email: `${user.name}@x.com` },
  verify: (user) => user.email !== undefined || `${user.name} has no email`,
});

export const validated = migrations.define({
  table: "users",
  onError: "skip",
  migrateOne: (_ctx, user) => (user.name === "u2" ? undefined : { age: 30 }),
  verify: v.object({ age: v.number(), name: v.string() }),
});

export const deleteAhead = migrations.define({
  table: "users",
  batchSize: 5,
  migrateOne: async (ctx, user) => {
    // Deletes a document further down the table, as concurrent app traffic would.
    const victim = await ctx.db
      .query("users")
      .withIndex("by_name", (q) =>
        q.eq("name", `u${Number(user.name.slice(1)) + 7}`),
      )
      .unique();
    if (victim) await ctx.db.delete(victim._id);
    return { plan: "free" };
  },
});

export const run = migrations.runner();

export const completeBump = actionGeneric({
  args: {},
  handler: async (ctx) =>
    await runToCompletion(
      ctx,
      components.migrations,
      anyApi["errors.test"].bump,
    ),
});

const api = anyApi["errors.test"];

const logs = captureLogs();
fakeClock(null);
beforeEach(() => {
  broken.clear();
});

function setup() {
  return appTest("errors.test", self);
}

async function seed(t: ReturnType<typeof setup>, n: number) {
  await t.run(async (ctx) => {
    for (let i = 0; i < n; i++) await ctx.db.insert("users", { name: `u${i}` });
  });
}

async function users(t: ReturnType<typeof setup>) {
  return await t.run((ctx) => ctx.db.query("users").collect());
}

async function report(t: ReturnType<typeof setup>, ref: unknown) {
  return (await t.run((ctx) => migrations.getReport(ctx, ref as never)))!;
}

describe("onError: stop", () => {
  test("fails the run at the bad document, keeps committed batches, resumes without applying anything twice", async () => {
    const t = setup();
    await seed(t, 45);
    broken.add("u23");
    await t.mutation(api.bump, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const failed = await report(t, api.bump);
    expect(failed.status).toMatchObject({
      state: "failed",
      processed: 20,
      changed: 20,
    });
    expect(failed.status.error).toMatch(/u23|boom on u23/);
    expect(failed.status.error).toContain("boom on u23");
    // Batches 1-2 committed; batch 3 (u20-u29) rolled back entirely.
    expect((await users(t)).map((u) => u.age ?? 0)).toEqual([
      ...Array(20).fill(1),
      ...Array(25).fill(0),
    ]);
    expect(logs.find((l) => l.event === "migrations.fail")).toMatchObject({
      name: "errors.test:bump",
      docId: expect.any(String),
    });
    // Fix the code and resume: it continues from the last committed batch.
    broken.clear();
    await t.mutation(api.bump, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect((await report(t, api.bump)).status).toMatchObject({
      state: "success",
      processed: 45,
      changed: 45,
    });
    expect((await users(t)).every((u) => u.age === 1)).toBe(true);
  });
});

describe("runToCompletion", () => {
  test("throws MIGRATION_FAILED with the document's error, after committing the good batches", async () => {
    const t = setup();
    await seed(t, 25);
    broken.add("u12");
    const error = await t.action(api.completeBump, {}).catch((e: unknown) => e);
    expect(isMigrationFailure(error)).toBe(true);
    expect(
      String((error as { data: { message: string } }).data.message),
    ).toContain("boom on u12");
    expect((await users(t)).filter((u) => u.age === 1)).toHaveLength(10);
  });
});

describe("onError: skip", () => {
  test("records failing documents with messages, migrates the rest, and re-runs only the failures", async () => {
    const t = setup();
    await seed(t, 45);
    for (const n of ["u3", "u4", "u30", "u44"]) broken.add(n);
    await t.mutation(api.bumpSkipping, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const first = await report(t, api.bumpSkipping);
    expect(first.status).toMatchObject({
      state: "failed",
      isDone: false,
      processed: 45,
      changed: 41,
      failed: 4,
      pendingFailures: 4,
    });
    expect(first.failures.map((f) => f.message).sort()).toEqual([
      "boom on u3",
      "boom on u30",
      "boom on u4",
      "boom on u44",
    ]);
    const byName = (list: Awaited<ReturnType<typeof users>>) =>
      Object.fromEntries(list.map((u) => [u.name, u.age ?? 0]));
    const after = byName(await users(t));
    expect(after.u3).toBe(0);
    expect(after.u5).toBe(1);
    // Rerunning without fixing: the same four fail again, nothing else is touched.
    await t.mutation(api.bumpSkipping, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(byName(await users(t)).u5).toBe(1);
    expect((await report(t, api.bumpSkipping)).status.pendingFailures).toBe(4);
    // Fix two of them: a rerun migrates only the failures.
    broken.delete("u3");
    broken.delete("u44");
    await t.mutation(api.bumpSkipping, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const second = await report(t, api.bumpSkipping);
    expect(second.status).toMatchObject({
      state: "failed",
      pendingFailures: 2,
    });
    const ages = byName(await users(t));
    expect([ages.u3, ages.u44, ages.u4, ages.u30, ages.u5]).toEqual([
      1, 1, 0, 0, 1,
    ]);
    broken.clear();
    await t.mutation(api.bumpSkipping, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const done = await report(t, api.bumpSkipping);
    expect(done.status).toMatchObject({
      state: "success",
      isDone: true,
      pendingFailures: 0,
    });
    expect((await users(t)).every((u) => u.age === 1)).toBe(true);
    const failures = await t.run((ctx) =>
      migrations.listFailures(ctx, api.bumpSkipping, { includeResolved: true }),
    );
    expect(failures.every((f) => f.resolved)).toBe(true);
  });

  test("more failures than fit in one transaction are carried to the next", async () => {
    const t = setup();
    await seed(t, 40);
    for (let i = 0; i < 40; i += 2) broken.add(`u${i}`);
    await t.mutation(api.run, {
      fn: "errors.test:bumpSkipping",
      batchSize: 40,
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect((await report(t, api.bumpSkipping)).status).toMatchObject({
      processed: 40,
      changed: 20,
      failed: 20,
      pendingFailures: 20,
    });
    expect((await users(t)).filter((u) => u.age === 1)).toHaveLength(20);
  });

  test("a patch that breaks the schema fails that document with the validator's message", async () => {
    const t = setup();
    await seed(t, 8);
    await t.mutation(api.breakSchema, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const r = await report(t, api.breakSchema);
    expect(r.status).toMatchObject({ changed: 7, failed: 1 });
    expect(r.failures[0].message).toMatch(/plan|gold|validat/i);
    const list = await users(t);
    expect(list.find((u) => u.name === "u3")!.plan).toBeUndefined();
    expect(list.filter((u) => u.plan === "pro")).toHaveLength(7);
  });
});

describe("verification", () => {
  test("a predicate: documents failing it do not count as migrated", async () => {
    const t = setup();
    await seed(t, 10);
    await t.mutation(api.verified, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const r = await report(t, api.verified);
    expect(r.status).toMatchObject({
      state: "failed",
      isDone: false,
      changed: 9,
      failed: 1,
    });
    expect(r.failures[0].message).toBe("verification failed: u5 has no email");
  });

  test("a validator: the run is complete only when every document passes", async () => {
    const t = setup();
    await seed(t, 6);
    await t.mutation(api.validated, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const r = await report(t, api.validated);
    expect(r.status).toMatchObject({ state: "failed", changed: 5, failed: 1 });
    expect(r.failures[0].message).toMatch(/^verification failed: .*age/);
    const u2 = (await users(t)).find((u) => u.name === "u2")!;
    expect(u2.age).toBeUndefined();
  });
});

describe("faults", () => {
  test("documents deleted by the app between batches are skipped without error", async () => {
    const t = setup();
    await seed(t, 45);
    await t.mutation(api.bump, {});
    // The first batch (10) committed; the app deletes 5 migrated and 10 pending users.
    await t.run(async (ctx) => {
      const all = await ctx.db.query("users").collect();
      for (const u of [...all.slice(0, 5), ...all.slice(30, 40)])
        await ctx.db.delete(u._id);
    });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const r = await report(t, api.bump);
    expect(r.status).toMatchObject({
      state: "success",
      processed: 35,
      changed: 35,
      failed: 0,
    });
    const left = await users(t);
    expect(left).toHaveLength(30);
    expect(left.every((u) => u.age === 1)).toBe(true);
  });

  test("documents deleted mid-run are neither migrated nor counted", async () => {
    const t = setup();
    await seed(t, 30);
    await t.mutation(api.deleteAhead, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const left = await users(t);
    const r = await report(t, api.deleteAhead);
    expect(r.status.state).toBe("success");
    expect(r.status.processed).toBe(left.length);
    expect(left.every((u) => u.plan === "free")).toBe(true);
  });
});
