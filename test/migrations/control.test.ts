import { anyApi } from "convex/server";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { isOpskitError } from "../internal.js";
import { appTest, makeMigrations } from "./fixtures.js";
import * as self from "./control.test.js";
import { captureLogs, fakeClock } from "../helpers.js";

const migrations = makeMigrations();

export const setDefault = migrations.define({
  table: "users",
  batchSize: 50,
  migrateOne: (_ctx, user) =>
    user.plan === undefined ? { plan: "free" } : undefined,
});

export const fillEmail = migrations.define({
  table: "users",
  batchSize: 50,
  journal: true,
  migrateOne: (_ctx, user) => ({
    email: `${user.name}@example.com`,
    age: undefined,
  }),
});

// Two versions of the same migration: the module exports one or the other,
// as two deploys of convex/migrations.ts would.
const v1 = migrations.define({
  table: "users",
  migrateOne: () => ({ age: 1 }),
});
const v2 = migrations.define({
  table: "users",
  migrateOne: () => ({ age: 2 }),
});
let deployed = v1;

export const run = migrations.runner();
export const runPending = migrations.pendingRunner([
  anyApi["control.test"].setDefault,
  anyApi["control.test"].fillEmail,
]);
export const pending = migrations.pendingQuery([
  anyApi["control.test"].setDefault,
  anyApi["control.test"].fillEmail,
]);

const api = anyApi["control.test"];

const logs = captureLogs();
fakeClock(null);
beforeEach(() => {
  deployed = v1;
});

function setup() {
  // `evolving` resolves to whichever version is "deployed" at call time.
  return appTest("control.test", {
    ...self,
    get evolving() {
      return deployed;
    },
  });
}

async function seed(t: ReturnType<typeof setup>, n: number) {
  await t.run(async (ctx) => {
    for (let i = 0; i < n; i++)
      await ctx.db.insert("users", { name: `u${i}`, age: 40 });
  });
}

async function statusOf(t: ReturnType<typeof setup>, name: string) {
  const [status] = await t.run((ctx) =>
    migrations.getStatus(ctx, { migrations: [name] }),
  );
  return status;
}

describe("pause and resume", () => {
  test("pause stops after the current batch; a plain start does not resume it, resume does", async () => {
    const t = setup();
    await seed(t, 200);
    await t.mutation(api.setDefault, {});
    const paused = await t.run((ctx) => migrations.pause(ctx, api.setDefault));
    expect(paused).toMatchObject({ state: "paused", processed: 50 });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const again = await t.mutation(api.setDefault, {});
    expect(again.state).toBe("paused");
    expect(again.warnings.join(" ")).toMatch(/paused/);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect((await statusOf(t, "control.test:setDefault")).processed).toBe(50);
    const resumed = await t.run((ctx) =>
      migrations.resume(ctx, api.setDefault),
    );
    expect(resumed.state).toBe("inProgress");
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await statusOf(t, "control.test:setDefault")).toMatchObject({
      state: "success",
      processed: 200,
      changed: 200,
    });
    const events = logs.map((l) => l.event);
    expect(events).toContain("migrations.pause");
    expect(events).toContain("migrations.resume");
  });

  test("cancel differs from pause: a plain start resumes a canceled run", async () => {
    const t = setup();
    await seed(t, 120);
    await t.mutation(api.setDefault, {});
    await t.run((ctx) => migrations.cancel(ctx, api.setDefault));
    const restarted = await t.mutation(api.setDefault, {});
    expect(restarted.state).toBe("inProgress");
    expect(restarted.processed).toBe(100);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect((await statusOf(t, "control.test:setDefault")).processed).toBe(120);
  });

  test("pausing, resuming or canceling an unknown migration is NOT_FOUND", async () => {
    const t = setup();
    for (const op of [migrations.pause, migrations.resume, migrations.cancel]) {
      const error = await t
        .run((ctx) => op.call(migrations, ctx, "control.test:nothing"))
        .catch((e: unknown) => e);
      expect(isOpskitError(error, "NOT_FOUND")).toBe(true);
    }
  });
});

describe("progress", () => {
  test("status has percent done, documents per second and an ETA while running", async () => {
    const t = setup();
    // Set the clock before anything commits: the function clock never runs behind the last commit
    // (convex-test 0.0.71, like a deployment), so moving the fake clock back would not take effect.
    vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
    await seed(t, 200);
    await t.mutation(api.setDefault, {});
    vi.setSystemTime(new Date("2026-01-01T00:00:02Z"));
    const status = await statusOf(t, "control.test:setDefault");
    expect(status.state).toBe("inProgress");
    // 50 of 200 documents (by creation-time span) in 2 s.
    expect(status.percent).toBeGreaterThan(15);
    expect(status.percent).toBeLessThan(35);
    expect(status.docsPerSecond).toBeCloseTo(25);
    expect(status.etaMs).toBeGreaterThan(3_000);
    expect(status.etaMs).toBeLessThan(10_000);
  });

  test("a previous complete run's total sharpens the estimate", async () => {
    const t = setup();
    await seed(t, 200);
    await t.mutation(api.run, { fn: "control.test:setDefault", dryRun: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await t.mutation(api.setDefault, {});
    const status = await statusOf(t, "control.test:setDefault");
    expect(status.percent).toBe(25);
  });
});

describe("code identity", () => {
  test("status warns when a completed migration's code changed; rerun is a no-op until reset", async () => {
    const t = setup();
    await seed(t, 10);
    await t.mutation(api.evolving, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const done = await statusOf(t, "control.test:evolving");
    expect(done).toMatchObject({ state: "success", codeChanged: false });
    deployed = v2;
    const rerun = await t.mutation(api.evolving, {});
    expect(rerun).toMatchObject({ state: "success", codeChanged: true });
    expect(rerun.warnings.join(" ")).toMatch(
      /changed since this run completed/,
    );
    expect(rerun.checksum).toBe(done.checksum);
    let users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.age === 1)).toBe(true);
    await t.mutation(api.evolving, { reset: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.age === 2)).toBe(true);
    const now = await statusOf(t, "control.test:evolving");
    expect(now.codeChanged).toBe(false);
    expect(now.checksum).not.toBe(done.checksum);
  });
});

describe("journal and rollback", () => {
  test("rollback restores the prior values of every changed field, including removed ones", async () => {
    const t = setup();
    await seed(t, 120);
    const before = await t.run((ctx) => ctx.db.query("users").collect());
    await t.mutation(api.fillEmail, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const migrated = await t.run((ctx) => ctx.db.query("users").collect());
    expect(migrated.every((u) => u.email && u.age === undefined)).toBe(true);
    const rb = await t.run((ctx) => migrations.rollback(ctx, api.fillEmail));
    expect(rb.state).toBe("inProgress");
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.run((ctx) => ctx.db.query("users").collect())).toEqual(
      before,
    );
    const [latest] = await t.run((ctx) =>
      migrations.listRuns(ctx, api.fillEmail),
    );
    expect(latest).toMatchObject({ state: "success", changed: 120 });
    // Rolled back: the migration is pending again and a rerun applies it anew.
    const list = await t.query(api.pending, {});
    expect(
      list.map((p: { name: string; reason: string }) => [p.name, p.reason]),
    ).toContainEqual(["control.test:fillEmail", "incomplete"]);
    const error = await t
      .run((ctx) => migrations.rollback(ctx, api.fillEmail))
      .catch((e: unknown) => e);
    expect(isOpskitError(error, "CONFLICT")).toBe(true);
  });

  test("a run without a journal cannot be rolled back, and nothing is written", async () => {
    const t = setup();
    await seed(t, 5);
    await t.mutation(api.setDefault, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const error = await t
      .run((ctx) => migrations.rollback(ctx, api.setDefault))
      .catch((e: unknown) => e);
    expect(isOpskitError(error, "INVALID_ARGUMENT")).toBe(true);
    const runs = await t.run((ctx) => migrations.listRuns(ctx, api.setDefault));
    expect(runs).toHaveLength(1);
  });
});

describe("history", () => {
  test("clearAll deletes finished runs and their rows, keeps running ones", async () => {
    const t = setup();
    await seed(t, 120);
    await t.mutation(api.fillEmail, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await t.mutation(api.setDefault, {});
    await t.run((ctx) => migrations.clearAll(ctx));
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(
      await t.run((ctx) => migrations.listRuns(ctx, api.fillEmail)),
    ).toEqual([]);
    expect(
      await t.run((ctx) => migrations.listBatches(ctx, api.fillEmail)),
    ).toEqual([]);
    // The running migration was kept and finished normally.
    const [running] = await t.run((ctx) =>
      migrations.listRuns(ctx, api.setDefault),
    );
    expect(running).toMatchObject({ state: "success", processed: 120 });
    // The journal went with its run: nothing left to roll back.
    const error = await t
      .run((ctx) => migrations.rollback(ctx, api.fillEmail))
      .catch((e: unknown) => e);
    expect(isOpskitError(error, "NOT_FOUND")).toBe(true);
  });
});

describe("deploy gating", () => {
  test("pending lists incomplete migrations; runPending starts them as a series and is idempotent", async () => {
    const t = setup();
    await seed(t, 150);
    expect(await t.query(api.pending, {})).toEqual([
      { name: "control.test:setDefault", reason: "neverRun" },
      { name: "control.test:fillEmail", reason: "neverRun" },
    ]);
    const dry = await t.mutation(api.runPending, { dryRun: true });
    expect(dry.started).toBeNull();
    const first = await t.mutation(api.runPending, {});
    expect(first.started).toBe("control.test:setDefault");
    // Called again while it runs: starts nothing.
    const second = await t.mutation(api.runPending, {});
    expect(second.started).toBeNull();
    expect(second.pending[0]).toMatchObject({ reason: "inProgress" });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.query(api.pending, {})).toEqual([]);
    // After everything is done, it is a no-op.
    const third = await t.mutation(api.runPending, {});
    expect(third).toEqual({ started: null, pending: [] });
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.plan === "free" && u.email)).toBe(true);
    expect(logs.filter((l) => l.event === "migrations.pending")).toHaveLength(
      4,
    );
  });

  test("runPending leaves paused migrations alone and reports them", async () => {
    const t = setup();
    await seed(t, 150);
    await t.mutation(api.setDefault, {});
    await t.run((ctx) => migrations.pause(ctx, api.setDefault));
    const result = await t.mutation(api.runPending, {});
    expect(result.started).toBe("control.test:fillEmail");
    expect(result.pending.map((p: { reason: string }) => p.reason)).toEqual([
      "paused",
      "neverRun",
    ]);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect((await statusOf(t, "control.test:setDefault")).state).toBe("paused");
  });
});
