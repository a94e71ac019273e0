import { expect, test, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { exampleApp } from "./setup";
import { fakeClock } from "../helpers.js";

fakeClock(null);

test("backfillWordCount: the dry run writes nothing and predicts exactly what the run changes; pending goes to zero", async () => {
  const t = await exampleApp();
  await t.mutation(internal.init.seed, {});
  const alice = t.withIdentity({ subject: "alice" });
  const before = await t.run((ctx) => ctx.db.query("posts").collect());

  expect(await t.query(internal.migrations.pending, {})).toHaveLength(1);

  await t.mutation(internal.migrations.run, {
    fn: "migrations:backfillWordCount",
    dryRun: true,
  });
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  expect(await t.run((ctx) => ctx.db.query("posts").collect())).toEqual(before);
  const report = await alice.query(api.migrations.dryRunReport, {});
  expect(report).toMatchObject({
    visited: 6,
    wouldChange: 6,
    unchanged: 0,
    wouldFail: 0,
  });
  expect(report!.fields).toEqual([{ field: "wordCount", count: 6 }]);

  // Deploy gating: the idempotent entry point starts what is pending, once.
  const first = await t.mutation(internal.migrations.runPending, {});
  expect(first.started).toBe("migrations:backfillWordCount");
  await t.finishAllScheduledFunctions(vi.runAllTimers);
  const status = await alice.query(api.migrations.status, {});
  expect(status).toMatchObject({
    state: "success",
    processed: 6,
    changed: report!.wouldChange,
    percent: 100,
  });
  expect(await t.query(internal.migrations.pending, {})).toEqual([]);
  const again = await t.mutation(internal.migrations.runPending, {});
  expect(again.started).toBeNull();

  const after = await t.run((ctx) => ctx.db.query("posts").collect());
  expect(after.map((p) => p.wordCount)).toEqual([6, 4, 4, 3, 6, 0]);

  // Members cannot see migration state.
  const denied = await t
    .withIdentity({ subject: "bob" })
    .query(api.migrations.status, {})
    .catch((e) => e);
  expect(denied.data.code).toBe("FORBIDDEN");
});
