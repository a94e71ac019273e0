import { actionGeneric, anyApi } from "convex/server";
import { describe, expect, test, vi } from "vitest";
import { runToCompletion } from "convex-opskit/migrations";
import { isOpskitError } from "../internal.js";
import { components, captureLogs, fakeClock } from "../helpers.js";
import { appTest, makeMigrations } from "./fixtures.js";
import * as self from "./basics.test.js";

const migrations = makeMigrations();

export const setDefault = migrations.define({
  table: "users",
  migrateOne: (_ctx, user) =>
    user.plan === undefined ? { plan: "free" } : undefined,
});

export const addAge = migrations.define({
  table: "users",
  batchSize: 7,
  migrateOne: async (ctx, user) => {
    await ctx.db.patch(user._id, { age: (user.age ?? 0) + 1 });
  },
});

export const run = migrations.runner();
export const runSeries = migrations.runner([
  anyApi["basics.test"].setDefault,
  anyApi["basics.test"].addAge,
]);

export const completeInAction = actionGeneric({
  args: {},
  handler: async (ctx) =>
    await runToCompletion(
      ctx,
      components.migrations,
      anyApi["basics.test"].setDefault,
    ),
});

const api = anyApi["basics.test"];

const logs = captureLogs();
fakeClock(null);

function setup() {
  return appTest("basics.test", self);
}

async function seed(t: ReturnType<typeof setup>, n: number, plan?: "pro") {
  await t.run(async (ctx) => {
    for (let i = 0; i < n; i++)
      await ctx.db.insert("users", {
        name: `u${i}`,
        ...(plan ? { plan } : {}),
      });
  });
}

async function statusOf(t: ReturnType<typeof setup>, name: string) {
  const [status] = await t.run((ctx) =>
    migrations.getStatus(ctx, { migrations: [name] }),
  );
  return status;
}

describe("same API as @convex-dev/migrations", () => {
  test("runner migrates every document and counts changed and unchanged", async () => {
    const t = setup();
    await seed(t, 250);
    await seed(t, 10, "pro");
    const first = await t.mutation(api.run, { fn: "basics.test:setDefault" });
    expect(first.state).toBe("inProgress");
    expect(first.processed).toBe(100);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await statusOf(t, "basics.test:setDefault")).toMatchObject({
      isDone: true,
      state: "success",
      processed: 260,
      changed: 250,
      unchanged: 10,
      failed: 0,
      percent: 100,
      codeChanged: false,
    });
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.filter((u) => u.plan === "free")).toHaveLength(250);
    expect(users.filter((u) => u.plan === "pro")).toHaveLength(10);
    expect(logs.map((l) => l.event)).toEqual(
      expect.arrayContaining([
        "migrations.start",
        "migrations.batch",
        "migrations.complete",
      ]),
    );
    const batches = await t.run((ctx) =>
      migrations.listBatches(ctx, api.setDefault),
    );
    expect(batches.map((b) => b.size)).toEqual([100, 400]);
    expect(batches.every((b) => b.outcome === "committed")).toBe(true);
    const sum = (k: "processed" | "changed" | "unchanged" | "failed") =>
      batches.reduce((s, b) => s + b[k], 0);
    expect([
      sum("processed"),
      sum("changed"),
      sum("unchanged"),
      sum("failed"),
    ]).toEqual([260, 250, 10, 0]);
    const complete = logs.find((l) => l.event === "migrations.complete")!;
    expect(complete).toMatchObject({
      name: "basics.test:setDefault",
      visited: 260,
      changed: 250,
    });
  });

  test("a migration can be called directly, like `npx convex run migrations:foo`", async () => {
    const t = setup();
    await seed(t, 20);
    const status = await t.mutation(api.addAge, {});
    expect(status).toMatchObject({ name: "basics.test:addAge", batchSize: 7 });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.map((u) => u.age)).toEqual(Array(20).fill(1));
    // A completed migration is a no-op when started again: nothing applied twice.
    const again = await t.mutation(api.addAge, {});
    expect(again.isDone).toBe(true);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const after = await t.run((ctx) => ctx.db.query("users").collect());
    expect(after.map((u) => u.age)).toEqual(Array(20).fill(1));
    // reset: true runs it again from the start, as a new run in the history.
    await t.mutation(api.addAge, { reset: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const reset = await t.run((ctx) => ctx.db.query("users").collect());
    expect(reset.map((u) => u.age)).toEqual(Array(20).fill(2));
    const history = await t.run((ctx) =>
      migrations.listRuns(ctx, "basics.test:addAge"),
    );
    expect(history).toHaveLength(2);
    expect(history.every((h) => h.state === "success")).toBe(true);
  });

  test("runner([...]) and next run a series in order", async () => {
    const t = setup();
    await seed(t, 30);
    await t.mutation(api.runSeries, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const statuses = await t.run((ctx) =>
      migrations.getStatus(ctx, {
        migrations: [api.setDefault, api.addAge],
      }),
    );
    expect(statuses.map((s) => [s.state, s.changed])).toEqual([
      ["success", 30],
      ["success", 30],
    ]);
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.plan === "free" && u.age === 1)).toBe(true);
  });

  test("a series skips migrations that are already complete and goes on", async () => {
    const t = setup();
    await seed(t, 30);
    await t.mutation(api.setDefault, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const first = await t.run((ctx) =>
      migrations.runSerially(ctx, [api.setDefault, api.addAge]),
    );
    expect(first).toMatchObject({ state: "success", isDone: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.plan === "free" && u.age === 1)).toBe(true);
    // The completed first migration did not run a second time.
    const runs = await t.run((ctx) => migrations.listRuns(ctx, api.setDefault));
    expect(runs).toHaveLength(1);
  });

  test("each dry run of a migration is a fresh run; real runs stay separate", async () => {
    const t = setup();
    await seed(t, 10);
    await t.mutation(api.setDefault, { dryRun: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await t.run(async (ctx) => {
      await ctx.db.insert("users", { name: "late" });
    });
    await t.mutation(api.setDefault, { dryRun: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const runs = await t.run((ctx) => migrations.listRuns(ctx, api.setDefault));
    expect(runs.map((r) => [r.dryRun, r.processed])).toEqual([
      [true, 11],
      [true, 10],
    ]);
    expect((await statusOf(t, "basics.test:setDefault")).state).toBe("unknown");
  });

  test("runOne, runSerially, cancel and cancelAll from code", async () => {
    const t = setup();
    await seed(t, 300);
    const started = await t.run((ctx) =>
      migrations.runOne(ctx, api.setDefault, { batchSize: 50 }),
    );
    expect(started.state).toBe("inProgress");
    const canceled = await t.run((ctx) =>
      migrations.cancel(ctx, api.setDefault),
    );
    expect(canceled.state).toBe("canceled");
    expect(canceled.processed).toBe(50);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    // Canceled means stopped: no batch ran after it.
    expect((await statusOf(t, "basics.test:setDefault")).processed).toBe(50);
    // Starting again resumes from the last committed batch.
    await t.run((ctx) => migrations.runSerially(ctx, [api.setDefault]));
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await statusOf(t, "basics.test:setDefault")).toMatchObject({
      state: "success",
      processed: 300,
      changed: 300,
    });
    await t.run((ctx) => migrations.runOne(ctx, api.addAge));
    const all = await t.run((ctx) => migrations.cancelAll(ctx));
    expect(all.map((s) => [s.name, s.state])).toEqual([
      ["basics.test:addAge", "canceled"],
    ]);
  });

  test("a second start while one runs is a no-op that returns the status", async () => {
    const t = setup();
    await seed(t, 300);
    await t.mutation(api.run, { fn: "basics.test:setDefault" });
    const second = await t.mutation(api.run, { fn: "basics.test:setDefault" });
    expect(second.state).toBe("inProgress");
    expect(second.processed).toBe(100);
    expect(second.warnings.join(" ")).toMatch(/already running/);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await statusOf(t, "basics.test:setDefault")).toMatchObject({
      processed: 300,
      changed: 300,
    });
    const runs = await t.run((ctx) => migrations.listRuns(ctx, api.setDefault));
    expect(runs).toHaveLength(1);
  });

  test("runToCompletion runs every batch from an action", async () => {
    const t = setup();
    await seed(t, 450);
    const status = await t.action(api.completeInAction, {});
    expect(status).toMatchObject({
      isDone: true,
      processed: 450,
      changed: 450,
    });
  });

  test("getStatus of a migration that never ran has the anchor's defaults", async () => {
    const t = setup();
    expect(await statusOf(t, "basics.test:setDefault")).toMatchObject({
      name: "basics.test:setDefault",
      state: "unknown",
      isDone: false,
      processed: 0,
      cursor: null,
    });
  });
});

describe("bad input", () => {
  test("an unknown migration name is NOT_FOUND and writes nothing", async () => {
    const t = setup();
    const error = await t
      .mutation(api.run, { fn: "basics.test:nope" })
      .catch((e: unknown) => e);
    expect(isOpskitError(error, "NOT_FOUND")).toBe(true);
    expect(
      await t.run((ctx) => migrations.listRuns(ctx, "basics.test:nope")),
    ).toEqual([]);
  });

  test("a function that is not a migration is NOT_FOUND", async () => {
    const t = setup();
    const error = await t
      .mutation(api.run, { fn: "basics.test:run" })
      .catch((e: unknown) => e);
    expect(isOpskitError(error, "NOT_FOUND")).toBe(true);
  });

  test.each([0, -5, 1.5, 1e9])(
    "batchSize %s is INVALID_ARGUMENT and writes nothing",
    async (batchSize) => {
      const t = setup();
      await seed(t, 5);
      const error = await t
        .mutation(api.run, { fn: "basics.test:setDefault", batchSize })
        .catch((e: unknown) => e);
      expect(isOpskitError(error, "INVALID_ARGUMENT")).toBe(true);
      const users = await t.run((ctx) => ctx.db.query("users").collect());
      expect(users.every((u) => u.plan === undefined)).toBe(true);
      expect(
        await t.run((ctx) => migrations.listRuns(ctx, api.setDefault)),
      ).toEqual([]);
    },
  );

  test("the runner needs a migration name", async () => {
    const t = setup();
    const error = await t.mutation(api.run, {}).catch((e: unknown) => e);
    expect(isOpskitError(error, "INVALID_ARGUMENT")).toBe(true);
  });

  test("the component refuses a forged function handle", async () => {
    const t = setup();
    const error = await t
      .run((ctx) =>
        ctx.runMutation(components.migrations.lib.migrate, {
          name: "x",
          fnHandle: "basics.test:setDefault",
          dryRun: false,
        }),
      )
      .catch((e: unknown) => e);
    expect(isOpskitError(error, "INVALID_ARGUMENT")).toBe(true);
  });
});
