/**
 * The code of docs/migrations.md, run as a user app: same calls, same shapes
 * (`internal.migrations.x` there is `internal.x` here).
 */
import { anyApi, mutationGeneric, queryGeneric } from "convex/server";
import { v } from "convex/values";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { Migrations, verifyAgainstSeed } from "../../src/migrations/client.js";
import { setLogSink } from "../../src/shared/log.js";
import { components } from "../helpers.js";
import { appTest, type DataModel, internalMutation } from "./fixtures.js";
import * as self from "./docs.test.js";

const internal = { migrations: anyApi["docs.test"] };
const query = queryGeneric;
const mutation = mutationGeneric;

// --- convex/migrations.ts -------------------------------------------------
export const migrations = new Migrations<DataModel>(components.migrations, {
  internalMutation,
});

export const setDefault = migrations.define({
  table: "users",
  migrateOne: (_ctx, user) =>
    user.plan === undefined ? { plan: "free" } : undefined,
  onError: "skip",
  verify: (user) => user.plan !== undefined || "plan is still missing",
});

export const backfillEmail = migrations.define({
  table: "users",
  journal: true,
  migrateOne: async (ctx, user) => {
    if (user.email === undefined)
      await ctx.db.patch(user._id, { email: `${user.name}@example.com` });
  },
});

export const run = migrations.runner();
export const runPending = migrations.pendingRunner([
  internal.migrations.setDefault,
  internal.migrations.backfillEmail,
]);
export const pending = migrations.pendingQuery([
  internal.migrations.setDefault,
  internal.migrations.backfillEmail,
]);

// --- convex/admin.ts --------------------------------------------------------
export const progress = query({
  args: {},
  returns: v.object({
    state: v.string(),
    percent: v.optional(v.number()),
    etaMs: v.optional(v.number()),
    warnings: v.array(v.string()),
  }),
  handler: async (ctx) => {
    const [status] = await migrations.getStatus(ctx, {
      migrations: [internal.migrations.setDefault],
    });
    return {
      state: status.state,
      percent: status.percent,
      etaMs: status.etaMs,
      warnings: status.warnings,
    };
  },
});

export const dryRunReport = query({
  args: {},
  returns: v.any(),
  handler: async (ctx) =>
    await migrations.getReport(ctx, internal.migrations.setDefault, {
      dryRun: true,
    }),
});

export const pauseBackfill = mutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await migrations.pause(ctx, internal.migrations.backfillEmail);
    return null;
  },
});

export const resumeBackfill = mutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await migrations.resume(ctx, internal.migrations.backfillEmail);
    return null;
  },
});

export const undoBackfill = mutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    await migrations.rollback(ctx, internal.migrations.backfillEmail);
    return null;
  },
});

// ---------------------------------------------------------------------------
const api = anyApi["docs.test"];

let restore: () => void = () => {};
beforeEach(() => {
  vi.useFakeTimers();
  restore = setLogSink(() => {});
});
afterEach(() => {
  restore();
  vi.useRealTimers();
});

function setup() {
  return appTest("docs.test", self);
}

describe("docs/migrations.md", () => {
  test("verify against seed data (the README's test)", async () => {
    const t = setup();
    const check = await verifyAgainstSeed(t, {
      migration: internal.migrations.setDefault,
      table: "users",
      seed: [{ name: "Ada" }, { name: "Bob", plan: "pro" }],
      expected: [
        { name: "Ada", plan: "free" },
        { name: "Bob", plan: "pro" },
      ],
      advanceTimers: vi.runAllTimers,
      dryRunFirst: true,
    });
    expect(check.mismatches).toEqual([]);
    expect(check.ok).toBe(true);
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

  test("CLI flow: dry run, report, real run, progress, deploy gate", async () => {
    const t = setup();
    await t.run(async (ctx) => {
      for (let i = 0; i < 30; i++)
        await ctx.db.insert("users", {
          name: `u${i}`,
          ...(i % 3 === 0 ? { plan: "pro" as const } : {}),
        });
    });
    // npx convex run migrations:run '{"fn":"migrations:setDefault","dryRun":true}'
    await t.mutation(api.run, { fn: "docs.test:setDefault", dryRun: true });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const report = await t.query(api.dryRunReport, {});
    expect(report.status).toMatchObject({
      processed: 30,
      changed: 20,
      unchanged: 10,
    });
    expect(report.fieldChanges).toEqual([{ field: "plan", count: 20 }]);
    // npx convex deploy && npx convex run migrations:runPending
    expect((await t.mutation(api.runPending, {})).started).toBe(
      "docs.test:setDefault",
    );
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.query(api.pending, {})).toEqual([]);
    expect(await t.query(api.progress, {})).toEqual({
      state: "success",
      percent: 100,
      warnings: [],
    });
    // Pause, resume and roll back from the app's own admin mutations.
    await t.mutation(api.pauseBackfill, {});
    await t.mutation(api.resumeBackfill, {});
    await t.mutation(api.undoBackfill, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.email === undefined && u.plan)).toBe(true);
  });
});
