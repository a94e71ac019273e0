// convex/migrations.test.ts
import { convexTest } from "convex-test";
import { verifyAgainstSeed } from "convex-opskit/migrations";
import opskit from "convex-opskit/test";
import { expect, test, vi } from "vitest";
import { internal } from "./_generated/api.js";
import schema from "./schema.js";

test("setDefault on seed data", async () => {
  vi.useFakeTimers();
  const t = convexTest(schema, import.meta.glob("./**/*.ts"));
  opskit.registerAll(t);
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
});
