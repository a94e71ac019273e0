/**
 * Regression tests for the migrations defects of issue 11 (items 6–9, 13,
 * 14) and the production semantics of issue 10: each failed on the code
 * before the fix.
 */
import {
  anyApi,
  getFunctionName,
  internalMutationGeneric,
  type MutationBuilder,
} from "convex/server";
import { beforeEach, describe, expect, test, vi } from "vitest";
import {
  getFunctionMetadata,
  getTransactionMetrics,
  Migrations,
} from "convex-opskit/migrations";
import {
  requireTransactionMetrics as transactionMetrics,
  isOpskitError,
  MAX_ARRAY_LENGTH,
} from "../internal.js";
import {
  captureLogs,
  components,
  errorOf,
  fakeClock,
  thrownBy,
} from "../helpers.js";
import {
  appTestWithPeek,
  type DataModel,
  makeMigrations,
  peekRef,
} from "./fixtures.js";
import * as self from "./hardening.test.js";

const migrations = makeMigrations();

export const setDefault = migrations.define({
  table: "users",
  batchSize: 10,
  migrateOne: (_ctx, user) =>
    user.plan === undefined ? { plan: "free" } : undefined,
});

export const markAge = migrations.define({
  table: "users",
  migrateOne: () => ({ age: 1 }),
});

export const fillEmail = migrations.define({
  table: "users",
  batchSize: 100,
  journal: true,
  migrateOne: (_ctx, user) => ({ email: `${user.name}@example.com` }),
});

// Two deploys of the same migration: the first walks users, the second
// notes. `evolving` resolves to whichever is "deployed" at call time.
const onUsers = migrations.define({
  table: "users",
  batchSize: 10,
  migrateOne: () => ({ email: "walked" }),
});
const onNotes = migrations.define({
  table: "notes",
  batchSize: 10,
  migrateOne: () => ({ text: "migrated" }),
});
let deployed: typeof onUsers = onUsers;

// A runtime without ctx.meta (a self-hosted backend older than convex 1.36).
const withoutMeta = ((def: {
  handler: (ctx: unknown, args: unknown) => unknown;
}) =>
  internalMutationGeneric({
    ...(def as object),
    handler: (ctx: object, args: unknown) =>
      def.handler({ ...ctx, meta: undefined }, args),
  } as never)) as unknown as MutationBuilder<DataModel, "internal">;
const oldRuntime = new Migrations<DataModel>(components.migrations, {
  internalMutation: withoutMeta,
});
export const needsMeta = oldRuntime.define({
  table: "users",
  migrateOne: () => ({ age: 2 }),
});

/** Fails every document: a dry run reports each one. */
export const alwaysFails = migrations.define({
  table: "users",
  migrateOne: (_ctx, user) => {
    throw new Error(`no ${user.name}`);
  },
});

export const run = migrations.runner();

const api = anyApi["hardening.test"];
const NAME = (fn: string) => `hardening.test:${fn}`;

const logs = captureLogs();
fakeClock(null);
beforeEach(() => {
  deployed = onUsers;
});

function setup(extra: Record<string, unknown> = {}) {
  const modules: Record<string, unknown> = { ...self };
  // Getters stay getters: a module export is resolved when it is called.
  Object.defineProperties(modules, Object.getOwnPropertyDescriptors(extra));
  Object.defineProperty(modules, "evolving", { get: () => deployed });
  return appTestWithPeek("hardening.test", modules);
}
type T = ReturnType<typeof setup>;

async function seedUsers(t: T, n: number) {
  await t.run(async (ctx) => {
    for (let i = 0; i < n; i++) await ctx.db.insert("users", { name: `u${i}` });
  });
}

async function statusOf(t: T, name: string) {
  const [status] = await t.run((ctx) =>
    migrations.getStatus(ctx, { migrations: [name] }),
  );
  return status;
}

const rows = (t: T, table: string) =>
  t.run((ctx) => ctx.runQuery(peekRef("rows"), { table })) as Promise<
    Array<Record<string, unknown>>
  >;

describe("item 6: the dashboard's placeholder arguments", () => {
  test("{ cursor: '', batchSize: 0 } logs how to run it and writes nothing", async () => {
    const t = setup();
    await seedUsers(t, 5);
    const out = await t.mutation(api.setDefault, { cursor: "", batchSize: 0 });
    expect(out).toBeNull();
    const hint = logs.find((l) => l.event === "migrations.hint");
    expect(hint).toMatchObject({ functionName: NAME("setDefault") });
    expect(String(hint?.message)).toMatch(/dryRun/);
    expect(await rows(t, "runs")).toEqual([]);
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.plan === undefined)).toBe(true);
  });
});

describe("item 7: a run whose table or customRange changed", () => {
  async function seedBoth(t: T) {
    // Notes first: a cursor from the users walk sits after all of them.
    await t.run(async (ctx) => {
      for (let i = 0; i < 30; i++) await ctx.db.insert("notes", { text: "n" });
      for (let i = 0; i < 30; i++)
        await ctx.db.insert("users", { name: `u${i}` });
    });
  }

  test("runPending after a deploy restarts the walk on the new table", async () => {
    const t = setup();
    await seedBoth(t);
    await t.mutation(api.evolving, {});
    await t.run((ctx) => migrations.cancel(ctx, NAME("evolving")));
    deployed = onNotes;
    const out = await t.run((ctx) =>
      migrations.runPending(ctx, [api.evolving]),
    );
    expect(out.started).toBe(NAME("evolving"));
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await statusOf(t, NAME("evolving"))).toMatchObject({
      state: "success",
      processed: 30,
      changed: 30,
    });
    const notes = await t.run((ctx) => ctx.db.query("notes").collect());
    expect(notes.every((n) => n.text === "migrated")).toBe(true);
    expect(logs.some((l) => l.event === "migrations.restart")).toBe(true);
  });

  test("batches already scheduled when the deploy lands restart the walk instead of resuming", async () => {
    const t = setup();
    await seedBoth(t);
    await t.mutation(api.evolving, {});
    deployed = onNotes;
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await statusOf(t, NAME("evolving"))).toMatchObject({
      state: "success",
      processed: 30,
    });
    const notes = await t.run((ctx) => ctx.db.query("notes").collect());
    expect(notes.every((n) => n.text === "migrated")).toBe(true);
    const runs = await rows(t, "runs");
    expect(runs.find((r) => r.state === "canceled")?.error).toMatch(
      /Superseded/,
    );
  });
});

describe("item 8: rollback races", () => {
  async function migrated(t: T, n = 500) {
    await seedUsers(t, n);
    await t.mutation(api.fillEmail, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    // The first rollback batch runs inside this call; the rest is scheduled.
    const rb = await t.run((ctx) => migrations.rollback(ctx, api.fillEmail));
    expect(rb.state).toBe("inProgress");
    const first = await t.run((ctx) => ctx.db.query("users").first());
    expect(first!.email).toBeUndefined();
    // The app writes a document the rollback already restored.
    await t.run((ctx) => ctx.db.patch(first!._id, { email: "app@write" }));
    return first!._id;
  }

  async function allRestoredExcept(t: T, id: string) {
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    for (const u of users)
      expect(u.email).toBe(u._id === id ? "app@write" : undefined);
  }

  test("a second rollback while the first runs is CONFLICT, and the app's write survives", async () => {
    const t = setup();
    const id = await migrated(t);
    const e = await thrownBy(
      t.run((ctx) => migrations.rollback(ctx, api.fillEmail)),
    );
    expect(isOpskitError(e, "CONFLICT")).toBe(true);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await allRestoredExcept(t, id);
  });

  test("start (with or without reset) during a rollback is CONFLICT", async () => {
    const t = setup();
    const id = await migrated(t);
    for (const args of [{ reset: true }, {}, { cursor: null }]) {
      const e = await thrownBy(t.mutation(api.fillEmail, args));
      expect(isOpskitError(e, "CONFLICT")).toBe(true);
    }
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await allRestoredExcept(t, id);
    const [rollback] = await t.run((ctx) =>
      migrations.listRuns(ctx, api.fillEmail, { limit: 1 }),
    );
    expect(rollback.state).toBe("success");
  });

  test("clearAll during a rollback keeps the journal it restores from", async () => {
    const t = setup();
    const id = await migrated(t);
    await t.run((ctx) => migrations.clearAll(ctx));
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await allRestoredExcept(t, id);
  });

  test("rollback after a canceled rollback continues it instead of restoring from the start", async () => {
    const t = setup();
    const id = await migrated(t);
    await t.run((ctx) => migrations.cancel(ctx, api.fillEmail));
    const again = await t.run((ctx) => migrations.rollback(ctx, api.fillEmail));
    expect(again.warnings.join(" ")).toMatch(/Resumed/);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await allRestoredExcept(t, id);
  });
});

describe("found by the model-based test", () => {
  test("a run being rolled back does not report success (model: [1 doc, start, rollback])", async () => {
    const t = setup();
    await seedUsers(t, 300);
    await t.mutation(api.fillEmail, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await t.run((ctx) => migrations.rollback(ctx, api.fillEmail));
    const during = await statusOf(t, NAME("fillEmail"));
    expect(during.state).not.toBe("success");
    expect(during.isDone).toBe(false);
    expect(during.warnings.join(" ")).toMatch(/being rolled back/);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const after = await statusOf(t, NAME("fillEmail"));
    expect(after).toMatchObject({ state: "canceled", isDone: false });
    expect(after.warnings.join(" ")).toMatch(/was rolled back/);
  });

  test("start after a rollback that stopped half way is CONFLICT (it would migrate unrestored documents twice)", async () => {
    const t = setup();
    await seedUsers(t, 300);
    await t.mutation(api.fillEmail, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await t.run((ctx) => migrations.rollback(ctx, api.fillEmail));
    await t.run((ctx) => migrations.cancel(ctx, api.fillEmail));
    const e = await thrownBy(t.mutation(api.fillEmail, {}));
    expect(isOpskitError(e, "CONFLICT")).toBe(true);
    expect((e as { data: { message: string } }).data.message).toMatch(
      /run rollback again/,
    );
    // Finishing the rollback, then starting again, migrates each user once.
    await t.run((ctx) => migrations.rollback(ctx, api.fillEmail));
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await t.mutation(api.fillEmail, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await statusOf(t, NAME("fillEmail"))).toMatchObject({
      state: "success",
      changed: 300,
    });
  });
});

describe("item 9: definition mistakes and dry-run status", () => {
  test("define({ batchSize: 0 }) is INVALID_ARGUMENT about the definition", () => {
    let error: unknown;
    try {
      migrations.define({ table: "users", batchSize: 0, migrateOne: () => {} });
    } catch (e) {
      error = e;
    }
    expect(isOpskitError(error, "INVALID_ARGUMENT")).toBe(true);
    expect((error as Error).message).toMatch(/batchSize/);
  });

  test("a module whose define throws reaches the caller as INVALID_ARGUMENT, not NOT_FOUND, and writes nothing", async () => {
    const t = setup();
    const modules = {
      get badSize() {
        return migrations.define({
          table: "users",
          batchSize: 0,
          migrateOne: () => {},
        });
      },
    };
    const t2 = setup(modules);
    void t;
    const e = await thrownBy(
      t2.run((ctx) => migrations.runOne(ctx, api.badSize)),
    );
    expect(isOpskitError(e, "INVALID_ARGUMENT")).toBe(true);
    expect((e as { data: { message: string } }).data.message).toMatch(
      /batchSize must be a positive integer/,
    );
    expect(await rows(t2, "runs")).toEqual([]);
  });

  test("new Migrations({ defaultBatchSize: 0 }) is INVALID_ARGUMENT", () => {
    let error: unknown;
    try {
      new Migrations(components.migrations, { defaultBatchSize: 0 });
    } catch (e) {
      error = e;
    }
    expect(isOpskitError(error, "INVALID_ARGUMENT")).toBe(true);
  });

  // Found by atk-arch1: options or a definition that is not an object failed
  // with a TypeError, not the coded error of every other definition mistake.
  test("Migrations options or a definition that is not an object is INVALID_ARGUMENT, not a TypeError", async () => {
    const badOptions = await errorOf(
      () => new Migrations(components.migrations, null as never),
    );
    expect(badOptions.code).toBe("INVALID_ARGUMENT");
    expect(badOptions.message).toBe(
      "new Migrations(...): options must be an object, got null",
    );
    const badDefinition = await errorOf(() =>
      new Migrations(components.migrations).define(null as never),
    );
    expect(badDefinition.code).toBe("INVALID_ARGUMENT");
    expect(badDefinition.message).toBe(
      "migrations.define(...) takes { table, migrateOne, ... }, got null",
    );
  });

  test("getStatus reports a dry run in progress instead of unknown", async () => {
    const t = setup();
    await seedUsers(t, 50);
    await t.run((ctx) =>
      migrations.runOne(ctx, api.setDefault, { dryRun: true }),
    );
    const status = await statusOf(t, NAME("setDefault"));
    expect(status).toMatchObject({ state: "inProgress", dryRun: true });
    const [listed] = await t.run((ctx) => migrations.getStatus(ctx));
    expect(listed).toMatchObject({ state: "inProgress", dryRun: true });
  });
});

describe("item 13: runSerially with a later migration in progress", () => {
  test("starts nothing and reports the in-progress one", async () => {
    const t = setup();
    await seedUsers(t, 50);
    const started = await t.run((ctx) =>
      migrations.runOne(ctx, api.setDefault),
    );
    expect(started.state).toBe("inProgress");
    const out = await t.run((ctx) =>
      migrations.runSerially(ctx, [api.markAge, api.setDefault]),
    );
    expect(out?.name).toBe(getFunctionName(api.setDefault));
    expect(out?.state).toBe("inProgress");
    expect(out?.processed).toBe(started.processed);
    const markAge = await statusOf(t, NAME("markAge"));
    expect(markAge.state).toBe("unknown");
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.age === undefined)).toBe(true);
  });
});

describe("item 14: the anchor's metadata helpers", () => {
  test("outside a Convex function they fail with a coded error naming the Convex version", async () => {
    for (const call of [getFunctionMetadata, getTransactionMetrics]) {
      const e = await thrownBy(call());
      expect(isOpskitError(e, "INVALID_ARGUMENT")).toBe(true);
      expect((e as Error).message).toMatch(/convex 1\.36\.0/);
    }
  });

  test("inside a function they read the running function's metadata and metrics", async () => {
    const t = setup();
    const out = await t.run(async () => ({
      metrics: await getTransactionMetrics(),
    }));
    expect(out.metrics.documentsWritten.remaining).toBeGreaterThan(0);
  });
});

describe("issue 10: production semantics", () => {
  test("ctx.meta absent: a coded error naming the minimum Convex version, never a TypeError", async () => {
    const e = await thrownBy(transactionMetrics({}));
    expect(isOpskitError(e, "INVALID_ARGUMENT")).toBe(true);
    expect(
      (e as { data: { minimumConvexVersion: string } }).data
        .minimumConvexVersion,
    ).toBe("1.41.0");
    const t = setup();
    await seedUsers(t, 3);
    const status = await t.run((ctx) => oldRuntime.runOne(ctx, api.needsMeta));
    expect(status.state).toBe("failed");
    expect(status.error).toMatch(/ctx\.meta\.getTransactionMetrics.*1\.36\.0/);
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.age === undefined)).toBe(true);
  });

  test("batchSize up to 10,000 is accepted, but no stored or passed array exceeds 8,192 elements", async () => {
    const t = setup();
    for (let i = 0; i < 9; i++)
      await t.run(async (ctx) => {
        for (let j = 0; j < 1000; j++)
          await ctx.db.insert("users", { name: `u${i}-${j}` });
      });
    const status = await t.mutation(api.fillEmail, { batchSize: 10_000 });
    expect(status.batchSize).toBeLessThanOrEqual(MAX_ARRAY_LENGTH);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await statusOf(t, NAME("fillEmail"))).toMatchObject({
      state: "success",
      processed: 9000,
    });
    for (const l of logs.filter((l) => l.event === "migrations.batch"))
      expect(l.batchSize as number).toBeLessThanOrEqual(MAX_ARRAY_LENGTH);
    expect(
      await t.run((ctx) => ctx.runQuery(peekRef("largestArray"), {})),
    ).toBeLessThanOrEqual(MAX_ARRAY_LENGTH);
  });
});

describe("attack: hostile sizes", () => {
  test("getStatus, listPending and runPending refuse more than 500 names with INVALID_ARGUMENT", async () => {
    const t = setup();
    const names = Array.from({ length: 501 }, (_, i) => `m:${i}`);
    for (const call of [
      t.run((ctx) => migrations.getStatus(ctx, { migrations: names })),
      t.run((ctx) =>
        ctx.runQuery(components.migrations.lib.listPending, { names }),
      ),
    ]) {
      const e = await thrownBy(call);
      expect(isOpskitError(e, "INVALID_ARGUMENT")).toBe(true);
      expect((e as { data: { message: string } }).data.message).toMatch(
        /At most 500 migrations per call, got 501/,
      );
    }
    expect(
      await t.run((ctx) =>
        migrations.getStatus(ctx, { migrations: names.slice(0, 500) }),
      ),
    ).toHaveLength(500);
  });
});

describe("found by the model-based test (2)", () => {
  // Model counterexample [2 docs, start, insert, rollback, pause, dryRun]:
  // with a dry run running, resume reached the dry run, not the paused
  // rollback, and nothing could finish the rollback.
  test("a paused rollback is resumed (by resume or rollback) while a dry run of the same migration runs", async () => {
    const t = setup();
    await seedUsers(t, 300);
    await t.mutation(api.fillEmail, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await t.run((ctx) => migrations.rollback(ctx, api.fillEmail));
    const paused = await t.run((ctx) => migrations.pause(ctx, api.fillEmail));
    expect(paused.state).toBe("paused");
    await t.run((ctx) =>
      migrations.runOne(ctx, api.fillEmail, { dryRun: true, batchSize: 10 }),
    );
    const resumed = await t.run((ctx) => migrations.resume(ctx, api.fillEmail));
    expect(resumed.state).toBe("inProgress");
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.email === undefined)).toBe(true);
  });

  test("rollback on a paused rollback resumes it", async () => {
    const t = setup();
    await seedUsers(t, 300);
    await t.mutation(api.fillEmail, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await t.run((ctx) => migrations.rollback(ctx, api.fillEmail));
    await t.run((ctx) => migrations.pause(ctx, api.fillEmail));
    const again = await t.run((ctx) => migrations.rollback(ctx, api.fillEmail));
    expect(again.warnings.join(" ")).toMatch(/Resumed/);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.email === undefined)).toBe(true);
  });
});

describe("attack: rollback after the table changed", () => {
  test("fails with a clear error instead of reporting success with nothing restored", async () => {
    const journaled = {
      users: migrations.define({
        table: "users",
        journal: true,
        migrateOne: () => ({ email: "x" }),
      }),
      notes: migrations.define({
        table: "notes",
        journal: true,
        migrateOne: () => ({ text: "x" }),
      }),
    };
    let which: keyof typeof journaled = "users";
    const t = setup({
      get flip() {
        return journaled[which];
      },
    });
    await seedUsers(t, 20);
    await t.mutation(api.flip, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    which = "notes";
    await t.run((ctx) => migrations.rollback(ctx, NAME("flip")));
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const [rollback] = await t.run((ctx) =>
      migrations.listRuns(ctx, NAME("flip"), { limit: 1 }),
    );
    expect(rollback.state).toBe("failed");
    expect(rollback.error).toMatch(/deploy the code that ran/);
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.email === "x")).toBe(true);
  });
});

describe("attack: a dry-run batch where every document fails", () => {
  test("counts all 1,100 failures while listing at most 1,000 per batch and per run", async () => {
    const t = setup();
    await seedUsers(t, 1_100);
    await t.run((ctx) =>
      migrations.runOne(ctx, api.alwaysFails, {
        dryRun: true,
        batchSize: 2_000,
      }),
    );
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const report = await t.run((ctx) =>
      migrations.getReport(ctx, api.alwaysFails, {
        dryRun: true,
        failureLimit: 1_000,
      }),
    );
    expect(report?.status).toMatchObject({
      state: "success",
      processed: 1_100,
      failed: 1_100,
    });
    expect(report?.failures).toHaveLength(1_000);
  });
});
