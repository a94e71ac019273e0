import { anyApi } from "convex/server";
import { describe, expect, test, vi } from "vitest";
import { appTest, makeMigrations } from "./fixtures.js";
import * as self from "./adaptive.test.js";
import { captureLogs, fakeClock } from "../helpers.js";

const migrations = makeMigrations();

export const bump = migrations.define({
  table: "users",
  migrateOne: (_ctx, user) => ({ age: (user.age ?? 0) + 1 }),
});

export const run = migrations.runner();

const api = anyApi["adaptive.test"];

const logs = captureLogs();
fakeClock(null);

// Seeds in small transactions: the tests below lower the limits.
async function seed(t: ReturnType<typeof appTest>, n: number, text = "") {
  for (let start = 0; start < n; start += 100)
    await t.run(async (ctx) => {
      for (let i = start; i < Math.min(n, start + 100); i++)
        await ctx.db.insert("users", { name: `u${i}${text}` });
    });
}

const batchLogs = () => logs.filter((l) => l.event === "migrations.batch");

describe("adaptive batch size", () => {
  test("10,000 small documents migrate in at most 15 transactions with no batch size set", async () => {
    // Convex's real limits are enforced, so an oversized batch would fail here.
    const t = appTest("adaptive.test", self, { enforceLimits: true });
    await seed(t, 10_000);
    await t.mutation(api.run, { fn: "adaptive.test:bump" });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const [status] = await t.run((ctx) =>
      migrations.getStatus(ctx, { migrations: [api.bump] }),
    );
    expect(status).toMatchObject({
      state: "success",
      processed: 10_000,
      changed: 10_000,
    });
    // One batch per transaction: the runner's own plus one per scheduled batch.
    const transactions = batchLogs().length;
    expect(transactions).toBeLessThanOrEqual(15);
    const sizes = batchLogs().map((l) => l.batchSize as number);
    expect(sizes[0]).toBe(100);
    expect(sizes[1]).toBeGreaterThan(sizes[0]);
    // Well under the limits: no batch wrote more than 40% of 16,000 documents.
    for (const l of batchLogs())
      expect(l.documentsWritten as number).toBeLessThanOrEqual(6_400);
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.age === 1)).toBe(true);
  });

  test("a batch that hits a transaction limit is halved and retried instead of failing the run", async () => {
    const t = appTest("adaptive.test", self, {
      enforceLimits: { documentsWritten: 700 },
    });
    await seed(t, 1_000);
    await t.mutation(api.run, { fn: "adaptive.test:bump", batchSize: 2_000 });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const limitLogs = batchLogs().filter((l) => l.outcome === "limit");
    const sizes = limitLogs.map((l) => l.batchSize as number);
    expect(sizes[0]).toBe(2000);
    sizes.slice(1).forEach((size, i) => expect(size).toBe(sizes[i] / 2));
    expect(limitLogs.map((l) => l.nextBatchSize).at(-1)).toBeLessThan(700);
    const [status] = await t.run((ctx) =>
      migrations.getStatus(ctx, { migrations: [api.bump] }),
    );
    expect(status).toMatchObject({
      state: "success",
      processed: 1_000,
      changed: 1_000,
    });
    // Nothing applied twice: the failed attempts rolled back.
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.every((u) => u.age === 1)).toBe(true);
  });

  test("a single document over the limits fails the run with a clear error", async () => {
    const t = appTest("adaptive.test", self, {
      enforceLimits: { bytesWritten: 1_500_000 },
    });
    // Each document is ~700 kB: more than what the batch may write once the
    // runner keeps its bookkeeping headroom.
    for (let i = 0; i < 3; i++)
      await t.run(async (ctx) => {
        await ctx.db.insert("users", { name: "x".repeat(700_000) });
      });
    await t.mutation(api.run, { fn: "adaptive.test:bump", batchSize: 2 });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const [status] = await t.run((ctx) =>
      migrations.getStatus(ctx, { migrations: [api.bump] }),
    );
    expect(status.state).toBe("failed");
    expect(status.error).toMatch(
      /single document exceeds Convex's transaction limits/,
    );
    expect(logs.some((l) => l.event === "migrations.fail")).toBe(true);
  });
});
