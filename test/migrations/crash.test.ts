/**
 * A batch transaction that dies outright (as on Convex's 1 s time limit,
 * which cannot be caught like the read/write limits) leaves the run with a
 * failed worker. The component's `runBatch` is wrapped here to die once.
 */
import { convexTest } from "convex-test";
import {
  anyApi,
  internalMutationGeneric,
  type RegisteredMutation,
} from "convex/server";
import { v } from "convex/values";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { migrationsSchema } from "../internal.js";
import { makeMigrations, schema } from "./fixtures.js";
import * as self from "./crash.test.js";
import { captureLogs, fakeClock } from "../helpers.js";

const migrations = makeMigrations();

export const bump = migrations.define({
  table: "users",
  batchSize: 100,
  migrateOne: (_ctx, user) => ({ age: (user.age ?? 0) + 1 }),
});

const api = anyApi["crash.test"];

let crashes = 0;
const componentModules = import.meta.glob(
  "../../src/migrations/component/**/*.ts",
);
const libKey = Object.keys(componentModules).find((k) =>
  k.endsWith("/component/lib.ts"),
)!;
const modules = {
  ...componentModules,
  [libKey]: async () => {
    const lib = (await componentModules[libKey]()) as Record<string, unknown>;
    const original = lib.runBatch as RegisteredMutation<
      "internal",
      { runId: string },
      null
    > & { _handler: (ctx: unknown, args: unknown) => Promise<null> };
    return {
      ...lib,
      runBatch: internalMutationGeneric({
        args: { runId: v.string() },
        returns: v.null(),
        handler: async (ctx, args) => {
          if (crashes > 0) {
            crashes--;
            throw new Error("Your function execution timed out");
          }
          return await original._handler(ctx, args);
        },
      }),
    };
  },
};

captureLogs();
fakeClock(null);
beforeEach(() => {
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

test("a batch transaction that dies is reported as failed, and resumes with half the batch size", async () => {
  const t = convexTest({
    schema,
    modules: {
      "./crash.test.ts": async () => self,
      "./_generated/api.ts": async () => ({}),
    },
  });
  t.registerComponent("migrations", migrationsSchema, modules);
  await t.run(async (ctx) => {
    for (let i = 0; i < 300; i++)
      await ctx.db.insert("users", { name: `u${i}` });
  });
  crashes = 1;
  await t.mutation(api.bump, {});
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  const [failed] = await t.run((ctx) =>
    migrations.getStatus(ctx, { migrations: [api.bump] }),
  );
  expect(failed).toMatchObject({
    state: "failed",
    processed: 100,
    batchSize: 100,
  });
  expect(failed.error).toMatch(/resume/);
  const resumed = await t.mutation(api.bump, {});
  expect(resumed.batchSize).toBe(50);
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  const [done] = await t.run((ctx) =>
    migrations.getStatus(ctx, { migrations: [api.bump] }),
  );
  expect(done).toMatchObject({
    state: "success",
    processed: 300,
    changed: 300,
  });
  const users = await t.run((ctx) => ctx.db.query("users").collect());
  expect(users.every((u) => u.age === 1)).toBe(true);
});
