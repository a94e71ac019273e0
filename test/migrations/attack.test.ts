/**
 * Independent attack on the migrations component (issue 11 items 6-9, 13,
 * 14; issue 10 item 4): hostile arguments, interleavings, clearAll.
 */
import { anyApi } from "convex/server";
import { getConvexSize, v } from "convex/values";
import fc from "fast-check";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { isOpskitError } from "../internal.js";
import { captureLogs, fakeClock, thrownBy } from "../helpers.js";
import {
  appTestWithPeek,
  internalMutation,
  makeMigrations,
  peekRef,
  schema,
} from "./fixtures.js";
import * as self from "./attack.test.js";

const migrations = makeMigrations();

export const fillEmail = migrations.define({
  table: "users",
  batchSize: 100,
  journal: true,
  migrateOne: (_ctx, user) => ({ email: `${user.name}@example.com` }),
});

export const setText = migrations.define({
  table: "notes",
  batchSize: 10,
  migrateOne: () => ({ text: "migrated" }),
});

export const run = migrations.runner();

// Two deploys of one migration: over users, then over notes.
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
let deployed = onUsers;

const api = anyApi["attack.test"];
const NAME = (fn: string) => `attack.test:${fn}`;

captureLogs();
fakeClock(null);
beforeEach(() => {
  deployed = onUsers;
});

function setup() {
  const modules: Record<string, unknown> = { ...self };
  Object.defineProperty(modules, "evolving", { get: () => deployed });
  return appTestWithPeek("attack.test", modules);
}
type T = ReturnType<typeof setup>;

const rows = (t: T, table: string) =>
  t.run((ctx) => ctx.runQuery(peekRef("rows"), { table })) as Promise<
    Array<Record<string, unknown>>
  >;

async function seedNotesAroundAUser(t: T) {
  // 20 notes, then a user, then 5 notes: a cursor from the users walk
  // points after the first 20 notes.
  return await t.run(async (ctx) => {
    for (let i = 0; i < 20; i++) await ctx.db.insert("notes", { text: "n" });
    const u = (await ctx.db.get(await ctx.db.insert("users", { name: "u" })))!;
    for (let i = 0; i < 5; i++) await ctx.db.insert("notes", { text: "n" });
    return JSON.stringify([u._creationTime, u._id]);
  });
}

async function notesUnchanged(t: T) {
  const notes = await t.run((ctx) => ctx.db.query("notes").collect());
  return notes.every((n) => n.text === "n");
}

describe("hostile cursors from the CLI or dashboard", () => {
  test("a cursor from another table is INVALID_ARGUMENT and writes nothing (it skipped 20 of 25 documents and reported success)", async () => {
    const t = setup();
    const userCursor = await seedNotesAroundAUser(t);
    for (const call of [
      t.mutation(api.setText, { cursor: userCursor }),
      t.mutation(api.run, { fn: NAME("setText"), cursor: userCursor }),
      t.run((ctx) =>
        migrations.runOne(ctx, api.setText, { cursor: userCursor }),
      ),
    ]) {
      const e = await thrownBy(call);
      expect(isOpskitError(e, "INVALID_ARGUMENT")).toBe(true);
      expect((e as { data: { message: string } }).data.message).toMatch(
        /cursor must be a cursor returned by a run of this migration over "notes"/,
      );
    }
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await rows(t, "runs")).toEqual([]);
    expect(await notesUnchanged(t)).toBe(true);
  });

  test("forged and garbage cursors are INVALID_ARGUMENT and write nothing (property)", async () => {
    const t = setup();
    const userCursor = await seedNotesAroundAUser(t);
    const [first] = await t.run((ctx) => ctx.db.query("notes").take(1));
    const someKey = fc.oneof(
      fc.string(),
      fc.double(),
      fc.constant(first._id),
      fc.constant(first._creationTime),
    );
    const cursor = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.constantFrom(
        "",
        "{}",
        "null",
        "[1e20]",
        '["x"]',
        "[null,null,null]",
        userCursor,
        JSON.stringify([1e20, first._id]),
        JSON.stringify([first._creationTime + 1, first._id]),
        JSON.stringify([first._creationTime, first._id, first._id]),
        "x".repeat(100_000),
      ),
      fc
        .array(someKey, { minLength: 1, maxLength: 4 })
        .map((a) => JSON.stringify(a)),
    );
    const valid = JSON.stringify([first._creationTime, first._id]);
    await fc.assert(
      fc.asyncProperty(cursor, async (c) => {
        fc.pre(c !== valid && c !== "[]");
        const e = await thrownBy(
          t.mutation(api.run, { fn: NAME("setText"), cursor: c }),
        );
        expect(isOpskitError(e, "INVALID_ARGUMENT"), String(e)).toBe(true);
        // The message quotes at most 100 characters of what arrived.
        expect(
          (e as { data: { message: string } }).data.message.length,
        ).toBeLessThan(1_000);
      }),
      { seed: 42, numRuns: 60 },
    );
    expect(await rows(t, "runs")).toEqual([]);
    expect(await notesUnchanged(t)).toBe(true);
  });

  test("a run's own cursor still resumes it, and '[]' starts from the beginning", async () => {
    const t = setup();
    await seedNotesAroundAUser(t);
    const started = await t.mutation(api.setText, { batchSize: 10 });
    await t.run((ctx) => migrations.cancel(ctx, api.setText));
    expect(started).toMatchObject({ processed: 10 });
    const resumed = await t.mutation(api.run, {
      fn: NAME("setText"),
      cursor: (started as { cursor: string }).cursor,
    });
    expect(resumed).toMatchObject({ processed: 20 });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const again = await t.mutation(api.run, {
      fn: NAME("setText"),
      cursor: "[]",
      reset: true,
    });
    expect(again.state).not.toBe("failed");
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const notes = await t.run((ctx) => ctx.db.query("notes").collect());
    expect(notes.every((n) => n.text === "migrated")).toBe(true);
  });

  test("a customRange cursor is checked against the table too", async () => {
    const ranged = makeMigrations({ withSchema: true });
    void schema;
    const byName = ranged.define({
      table: "users",
      customRange: (q) => q.withIndex("by_name"),
      migrateOne: () => ({ age: 1 }),
    });
    const t = appTestWithPeek("attack.test", { ...self, byName });
    const userCursor = await seedNotesAroundAUser(t);
    const [note] = await t.run((ctx) => ctx.db.query("notes").take(1));
    const [user] = await t.run((ctx) => ctx.db.query("users").take(1));
    const e = await thrownBy(
      t.mutation(api.byName, {
        cursor: JSON.stringify(["u", note._creationTime, note._id]),
      }),
    );
    expect(isOpskitError(e, "INVALID_ARGUMENT")).toBe(true);
    expect(await rows(t, "runs")).toEqual([]);
    void userCursor;
    const ok = await t.mutation(api.byName, {
      cursor: JSON.stringify(["a", user._creationTime, user._id]),
    });
    expect(ok).toMatchObject({ state: "success", processed: 1 });
  });
});

describe("clearAll and a rollback that stopped half way", () => {
  test("clearAll keeps the runs and journal of a canceled rollback (it deleted them: documents stayed half restored for good)", async () => {
    const t = setup();
    await t.run(async (ctx) => {
      for (let i = 0; i < 500; i++)
        await ctx.db.insert("users", { name: `u${i}` });
    });
    await t.mutation(api.fillEmail, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    await t.run((ctx) => migrations.rollback(ctx, api.fillEmail));
    await t.run((ctx) => migrations.cancel(ctx, api.fillEmail));
    await t.run((ctx) => migrations.clearAll(ctx));
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    // A start would migrate the unrestored documents a second time.
    const e = await thrownBy(t.mutation(api.fillEmail, {}));
    expect(isOpskitError(e, "CONFLICT")).toBe(true);
    const again = await t.run((ctx) => migrations.rollback(ctx, api.fillEmail));
    expect(again.warnings.join(" ")).toMatch(/Resumed/);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.filter((u) => u.email !== undefined)).toEqual([]);
    // Finished: now clearAll forgets it.
    await t.run((ctx) => migrations.clearAll(ctx));
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await rows(t, "journal")).toEqual([]);
    expect(await rows(t, "runs")).toEqual([]);
  });
});

describe("anchor helpers behave like @convex-dev/migrations 0.3.6", () => {
  test("isNewFormatCursor agrees on generated inputs", async () => {
    const anchor = await import("@convex-dev/migrations");
    const { isNewFormatCursor } = await import("convex-opskit/migrations");
    const input = fc.oneof(
      fc.string(),
      fc.string().map((s) => `[${s}`),
      fc.constant(null),
      fc.anything(),
    );
    fc.assert(
      fc.property(input, (c) => {
        expect(isNewFormatCursor(c as string | null)).toBe(
          anchor.isNewFormatCursor(c as string | null),
        );
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  test("getFunctionMetadata and getTransactionMetrics return what the anchor's do inside a function", async () => {
    const anchor = await import("@convex-dev/migrations");
    const ours = await import("convex-opskit/migrations");
    const t = setup();
    await t.run(async (ctx) => {
      for (let i = 0; i < 3; i++) await ctx.db.insert("notes", { text: "n" });
    });
    const out = await t.run(async (ctx) => {
      await ctx.db.query("notes").collect();
      return {
        anchorMetrics: await anchor.getTransactionMetrics(),
        ourMetrics: await ours.getTransactionMetrics(),
        anchorMeta: await anchor.getFunctionMetadata().catch(String),
        ourMeta: await ours.getFunctionMetadata().catch(String),
      };
    });
    expect(out.ourMetrics).toEqual(out.anchorMetrics);
    expect(out.ourMetrics.documentsRead.used).toBeGreaterThanOrEqual(3);
    expect(typeof out.anchorMeta).toBe("object");
    expect(out.ourMeta).toEqual(out.anchorMeta);
  });
});

describe("production's limit texts", () => {
  // Copied from the backend's source (crates/database/src/reads.rs,
  // writes.rs, crates/model/src/scheduled_jobs/mod.rs,
  // crates/isolate/src/termination.rs), as a nested call reports them.
  test.each([
    "Too many documents read in a single function execution (limit: 32000). Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions.",
    "Too many bytes read in a single function execution (limit: 16777216 bytes). Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions.",
    "Too many reads in a single function execution (limit: 4096). Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions.",
    "Too many writes in a single function execution (limit: 16000)",
    "Too many bytes written in a single function execution (limit: 16 MiB)",
    "Too many functions scheduled by this mutation (limit: 1000)",
    "Too large total size of the arguments of scheduled functions from this mutation (limit: 16777216 bytes)",
    "Function execution timed out (maximum duration: 1s)",
    "Uncaught Error: Too many writes in a single function execution (limit: 9000)",
  ])("%s counts as a limit error", async (message) => {
    const { isLimitError } = await import("../internal.js");
    expect(isLimitError(message)).toBe(true);
  });
});

describe("a walk restarted after a deploy changed its table", () => {
  test.each(["cancel", "pause"] as const)(
    "%s right after the restart stops the new walk (the restart was a scheduled start that ran anyway and ended in success)",
    async (op) => {
      const t = setup();
      await t.run(async (ctx) => {
        for (let i = 0; i < 30; i++)
          await ctx.db.insert("notes", { text: "n" });
        for (let i = 0; i < 30; i++)
          await ctx.db.insert("users", { name: `u${i}` });
      });
      await t.mutation(api.evolving, {});
      deployed = onNotes;
      // The next scheduled batch finds the range changed and restarts.
      vi.runOnlyPendingTimers();
      await t.finishInProgressScheduledFunctions();
      const stopped = await t.run((ctx) =>
        migrations[op](ctx, NAME("evolving")),
      );
      expect(stopped.state).toBe(op === "cancel" ? "canceled" : "paused");
      await t.finishAllScheduledFunctions(vi.runAllTimers);
      const [status] = await t.run((ctx) =>
        migrations.getStatus(ctx, { migrations: [NAME("evolving")] }),
      );
      expect(status.state).toBe(op === "cancel" ? "canceled" : "paused");
      const notes = await t.run((ctx) => ctx.db.query("notes").collect());
      expect(notes.filter((n) => n.text === "migrated").length).toBeLessThan(
        30,
      );
      if (op === "pause") {
        await t.run((ctx) => migrations.resume(ctx, NAME("evolving")));
        await t.finishAllScheduledFunctions(vi.runAllTimers);
        const after = await t.run((ctx) => ctx.db.query("notes").collect());
        expect(after.every((n) => n.text === "migrated")).toBe(true);
      }
    },
  );
});

/**
 * What each document's migrateOne does, by the first letter of its name:
 * p returns a patch, w patches through ctx.db, i inserts a note, s schedules
 * a function, m calls a mutation that inserts a note, x writes then
 * throws, d deletes itself, n does nothing.
 */
const BEHAVIOURS = ["p", "w", "i", "s", "m", "x", "d", "n"] as const;

export const noteFor = internalMutation({
  args: { text: v.string() },
  returns: v.null(),
  handler: async (ctx, { text }) => {
    await ctx.db.insert("notes", { text });
    return null;
  },
});

export const everything = migrations.define({
  table: "users",
  onError: "skip",
  migrateOne: async (ctx, user) => {
    switch (user.name[0]) {
      case "p":
        return { age: 1 };
      case "w":
        await ctx.db.patch(user._id, { plan: "pro" });
        return;
      case "i":
        await ctx.db.insert("notes", { text: `from ${user.name}` });
        return { age: 2 };
      case "s":
        await ctx.scheduler.runAfter(1000, api.noteFor, { text: user.name });
        return { age: 3 };
      case "m":
        await ctx.runMutation(api.noteFor, { text: user.name });
        return { age: 4 };
      case "x":
        await ctx.db.patch(user._id, { age: 99 });
        await ctx.db.insert("notes", { text: "orphan" });
        throw new Error(`cannot migrate ${user.name}`);
      case "d":
        await ctx.db.delete(user._id);
        return;
      default:
        return;
    }
  },
});

describe("dry run", () => {
  test("writes nothing (documents, inserts, scheduled functions, nested mutations) and reports what the real run then changes (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...BEHAVIOURS), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.integer({ min: 1, max: 5 }),
        async (kinds, batchSize) => {
          const t = setup();
          await t.run(async (ctx) => {
            for (const [i, k] of kinds.entries())
              await ctx.db.insert("users", { name: `${k}${i}` });
          });
          const appState = () =>
            t.run(async (ctx) => ({
              users: await ctx.db.query("users").collect(),
              notes: await ctx.db.query("notes").collect(),
              scheduled: await ctx.db.system
                .query("_scheduled_functions")
                .collect(),
            }));
          const before = await appState();
          await t.run((ctx) =>
            migrations.runOne(ctx, api.everything, {
              dryRun: true,
              batchSize,
            }),
          );
          await t.finishAllScheduledFunctions(vi.runAllTimers);
          expect(await appState()).toEqual(before);
          const dry = await t.run((ctx) =>
            migrations.getReport(ctx, api.everything, { dryRun: true }),
          );
          expect(dry?.status.state).toBe("success");
          await t.run((ctx) =>
            migrations.runOne(ctx, api.everything, { batchSize }),
          );
          await t.finishAllScheduledFunctions(vi.runAllTimers);
          const real = await t.run((ctx) =>
            migrations.getReport(ctx, api.everything),
          );
          const pick = (s: typeof real) => ({
            processed: s?.status.processed,
            changed: s?.status.changed,
            unchanged: s?.status.unchanged,
            failed: s?.status.failed,
          });
          expect(pick(dry)).toEqual(pick(real));
          const after = await appState();
          const failedIds = new Set(real?.failures.map((f) => f.id));
          expect(failedIds.size).toBe(kinds.filter((k) => k === "x").length);
          // A failed document's writes were not committed.
          expect(after.notes.some((n) => n.text === "orphan")).toBe(false);
          expect(after.users.some((u) => u.age === 99)).toBe(false);
        },
      ),
      { seed: 42, numRuns: 15 },
    );
  });
});

describe("odd page sizes from callers", () => {
  test("NaN limits are INVALID_ARGUMENT (they failed with a raw take() error or silently returned nothing); other numbers are clamped", async () => {
    const t = setup();
    await t.run(async (ctx) => {
      for (let i = 0; i < 12; i++)
        await ctx.db.insert("users", { name: `u${i}` });
    });
    await t.mutation(api.fillEmail, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const calls = (n: number) => [
      () =>
        t.run((ctx) =>
          migrations.getReport(ctx, api.fillEmail, { failureLimit: n }),
        ),
      () =>
        t.run((ctx) => migrations.listRuns(ctx, api.fillEmail, { limit: n })),
      () =>
        t.run((ctx) =>
          migrations.listBatches(ctx, api.fillEmail, { limit: n }),
        ),
      () =>
        t.run((ctx) =>
          migrations.listFailures(ctx, api.fillEmail, { limit: n }),
        ),
      () => t.run((ctx) => migrations.getStatus(ctx, { limit: n })),
      () => t.run((ctx) => migrations.clearAll(ctx, { before: n })),
    ];
    for (const call of calls(NaN)) {
      const e = await thrownBy(call());
      expect(isOpskitError(e, "INVALID_ARGUMENT"), String(e)).toBe(true);
    }
    expect(await rows(t, "runs")).toHaveLength(1);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.double({ noNaN: true }),
          fc.constantFrom(-1, 0, 0.5, 1e308, Infinity, -Infinity),
        ),
        async (n) => {
          const [report, runs, batches, failures, statuses] = await Promise.all(
            calls(n)
              .slice(0, 5)
              .map((call) => call()),
          );
          expect(report).not.toBeNull();
          expect(runs).toHaveLength(1);
          expect(Array.isArray(batches) && Array.isArray(failures)).toBe(true);
          expect(statuses).toHaveLength(1);
        },
      ),
      { seed: 42, numRuns: 30 },
    );
  });
});

/** Rewrites a user's name, with a journal. */
export const shoutName = migrations.define({
  table: "users",
  journal: true,
  migrateOne: (_ctx, user) => ({ name: user.name.toUpperCase() }),
});

describe("documents near 1 MiB", () => {
  test("a single field of 1,040,000 bytes is journaled and rolled back exactly (journal entries were capped at 1,000,000 bytes: the document failed)", async () => {
    const t = appTestWithPeek(
      "attack.test",
      { ...self },
      { enforceLimits: true },
    );
    await t.run(async (ctx) => {
      await ctx.db.insert("users", { name: "c".repeat(1_040_000) });
    });
    const before = await t.run((ctx) => ctx.db.query("users").collect());
    await t.mutation(api.shoutName, {});
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const [done] = await t.run((ctx) =>
      migrations.getStatus(ctx, { migrations: [api.shoutName] }),
    );
    expect(done).toMatchObject({ state: "success", changed: 1 });
    const journal = await rows(t, "journal");
    expect(journal).toHaveLength(1);
    expect(getConvexSize(journal[0] as never)).toBeLessThanOrEqual(1024 * 1024);
    await t.run((ctx) => migrations.rollback(ctx, api.shoutName));
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.run((ctx) => ctx.db.query("users").collect())).toEqual(
      before,
    );
  });
});
