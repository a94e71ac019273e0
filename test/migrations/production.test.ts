/**
 * Migrations under production's semantics that convex-test does not share
 * (issue 10): a clock frozen for a whole function, and a scheduled-function
 * budget that a rolled-back sub-mutation does not give back (with
 * production's error text when it runs out). convex-test's metrics tracker
 * is patched in this file only to behave like production.
 */
import { anyApi, internalMutationGeneric } from "convex/server";
import { v } from "convex/values";
// convex-test has no "exports" map: its metrics tracker is reachable by path.
import { TransactionMetricsTracker } from "convex-test/dist/transactionMetrics.js";
import {
  afterAll,
  beforeAll,
  beforeEach,
  describe,
  expect,
  test,
  vi,
} from "vitest";
import { captureLogs, fakeClock } from "../helpers.js";
import { appTestWithPeek, makeMigrations } from "./fixtures.js";
import * as self from "./production.test.js";

const migrations = makeMigrations();
const api = anyApi["production.test"];

/** Milliseconds the clock jumps per document (0: frozen, as in production). */
let msPerDoc = 0;
export const bump = migrations.define({
  table: "users",
  migrateOne: (_ctx, user) => {
    if (msPerDoc > 0) vi.setSystemTime(Date.now() + msPerDoc);
    return { age: (user.age ?? 0) + 1 };
  },
});

/** Users whose migration fails after scheduling {@link FAILING_SCHEDULES} functions. */
const broken = new Set<string>();
const FAILING_SCHEDULES = 100;
let noopRuns = 0;
export const noop = internalMutationGeneric({
  args: { user: v.string() },
  returns: v.null(),
  handler: async () => {
    noopRuns++;
    return null;
  },
});
export const notify = migrations.define({
  table: "users",
  batchSize: 60,
  onError: "skip",
  migrateOne: async (ctx, user) => {
    if (broken.has(user.name)) {
      for (let i = 0; i < FAILING_SCHEDULES; i++)
        await ctx.scheduler.runAfter(0, api.noop, { user: user.name });
      throw new Error(`cannot notify ${user.name}`);
    }
    await ctx.scheduler.runAfter(0, api.noop, { user: user.name });
    return { age: (user.age ?? 0) + 1 };
  },
});

const logs = captureLogs();
fakeClock(null);
beforeEach(() => {
  msPerDoc = 0;
  noopRuns = 0;
  broken.clear();
});

async function seed(t: ReturnType<typeof appTestWithPeek>, n: number) {
  for (let start = 0; start < n; start += 500)
    await t.run(async (ctx) => {
      for (let i = start; i < Math.min(n, start + 500); i++)
        await ctx.db.insert("users", { name: `u${i}` });
    });
}

describe("a clock frozen for the whole function", () => {
  test("batch sizes follow documents and bytes, the same whether or not the clock moves inside a batch", async () => {
    const sizes: number[][] = [];
    for (const jump of [0, 25]) {
      logs.length = 0;
      msPerDoc = jump;
      const t = appTestWithPeek("production.test", self, {
        enforceLimits: true,
      });
      await seed(t, 2000);
      await t.mutation(api.bump, {});
      await t.finishAllScheduledFunctions(vi.runAllTimers);
      const [status] = await t.run((ctx) =>
        migrations.getStatus(ctx, { migrations: [api.bump] }),
      );
      expect(status).toMatchObject({ state: "success", processed: 2000 });
      sizes.push(
        logs
          .filter((l) => l.event === "migrations.batch")
          .map((l) => l.batchSize as number),
      );
    }
    // 25 ms per document would have meant "2.5 s per batch of 100" to a
    // time-driven policy, shrinking batches to a handful.
    expect(sizes[1]).toEqual(sizes[0]);
    expect(Math.max(...sizes[0])).toBeGreaterThan(1000);
  });
});

describe("scheduled functions of rolled-back attempts stay spent (production)", () => {
  let limitHits = 0;
  const proto = TransactionMetricsTracker.prototype as unknown as {
    rollback: () => void;
    trackScheduledFunction: (bytes: number) => void;
    _current: () => {
      metrics: Record<string, number>;
      limits: Record<string, number>;
      enforce: boolean;
    };
  };
  const original = {
    rollback: proto.rollback,
    trackScheduledFunction: proto.trackScheduledFunction,
  };
  beforeAll(() => {
    proto.rollback = function (this: typeof proto) {
      const child = this._current();
      const { functionsScheduled, scheduledFunctionArgsBytes } = child.metrics;
      original.rollback.call(this);
      const parent = this._current();
      if (parent)
        Object.assign(parent.metrics, {
          functionsScheduled,
          scheduledFunctionArgsBytes,
        });
    };
    proto.trackScheduledFunction = function (
      this: typeof proto,
      bytes: number,
    ) {
      const layer = this._current();
      if (
        layer?.enforce &&
        layer.metrics.functionsScheduled + 1 > layer.limits.functionsScheduled
      ) {
        limitHits++;
        throw new Error(
          `Too many functions scheduled by this mutation (limit: ${layer.limits.functionsScheduled})`,
        );
      }
      original.trackScheduledFunction.call(this, bytes);
    };
  });
  afterAll(() => {
    Object.assign(proto, original);
  });

  test("a batch retried around failing documents that schedule never exhausts the budget; no document is lost or doubled", async () => {
    limitHits = 0;
    const N = 60;
    const t = appTestWithPeek("production.test", self, {
      enforceLimits: true,
    });
    await seed(t, N);
    for (let i = 0; i < N; i += 3) broken.add(`u${i}`);
    await t.mutation(api.notify, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const [first] = await t.run((ctx) =>
      migrations.getStatus(ctx, { migrations: [api.notify] }),
    );
    expect(first).toMatchObject({
      state: "failed",
      processed: N,
      failed: broken.size,
      pendingFailures: broken.size,
    });
    expect(first.error).toMatch(/failed and were skipped/);
    // Rolled-back attempts scheduled 100 functions each, ~10 per
    // transaction at most; the runner yielded before the 1,000th.
    expect(limitHits).toBe(0);
    expect(noopRuns).toBe(N - broken.size);
    // Fix the code and run again: only the failed documents are retried.
    broken.clear();
    await t.mutation(api.notify, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const [fixed] = await t.run((ctx) =>
      migrations.getStatus(ctx, { migrations: [api.notify] }),
    );
    expect(fixed).toMatchObject({ state: "success", pendingFailures: 0 });
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.age === 1)).toBe(true);
    expect(noopRuns).toBe(N);
    expect(limitHits).toBe(0);
  });

  test("production's text for the scheduling limit counts as a limit: the batch is halved, not failed", async () => {
    limitHits = 0;
    const t = appTestWithPeek("production.test", self, {
      enforceLimits: { functionsScheduled: 150 },
    });
    await seed(t, 300);
    await t.mutation(api.notify, { batchSize: 200 });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const [status] = await t.run((ctx) =>
      migrations.getStatus(ctx, { migrations: [api.notify] }),
    );
    expect(status).toMatchObject({ state: "success", processed: 300 });
    expect(limitHits).toBeGreaterThan(0);
    const limited = logs.filter(
      (l) => l.event === "migrations.batch" && l.outcome === "limit",
    );
    expect(String(limited[0]?.error)).toMatch(/Too many functions scheduled/);
    expect(noopRuns).toBe(300);
  });
});
