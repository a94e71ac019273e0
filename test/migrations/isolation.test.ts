/**
 * A document that fails (migrateOne throws, or verification fails) leaves no
 * trace: not in the committed data of a real run with onError "skip", and
 * not in what later documents of the same dry-run batch see.
 */
import { anyApi, type GenericDatabaseWriterWithTable } from "convex/server";
import fc from "fast-check";
import { beforeEach, describe, expect, test, vi } from "vitest";
import { appTest, type DataModel, makeMigrations } from "./fixtures.js";
import * as self from "./isolation.test.js";
import { captureLogs, fakeClock } from "../helpers.js";

const migrations = makeMigrations();

/**
 * What each document's migrateOne saw of the document before it ("prev"),
 * of the notes table and of the scheduled functions, last call wins (a
 * batch may run more than once).
 */
const seen = new Map<
  string,
  { prev: string; u0?: string; notes: number; scheduled: number }
>();

/** "name:email:age" of a user, "-" for a missing field, "" for no user. */
function show(u: { name: string; email?: string; age?: number } | undefined) {
  return u ? `${u.name}:${u.email ?? "-"}:${u.age ?? "-"}` : "";
}

/** How the user named "bad" fails; each test picks one. */
type Failure =
  | "patchOwn"
  | "replaceOwn"
  | "tablePatchOwn"
  | "insert"
  | "patchOther"
  | "deleteOwn"
  | "deleteOther"
  | "schedule";
let failure: Failure = "patchOwn";

/**
 * Users are named u0, u1, ... plus "bad". Every user records what it sees,
 * then sets email to "done". "bad" writes (as `failure` says) and throws.
 */
export const observe = migrations.define({
  table: "users",
  onError: "skip",
  migrateOne: async (ctx, user) => {
    const all = await ctx.db.query("users").collect();
    const index = all.findIndex((u) => u._id === user._id);
    const prev = index > 0 ? all[index - 1] : null;
    seen.set(user.name, {
      prev: show(prev ?? undefined),
      u0: show(all.find((u) => u.name === "u0")),
      notes: (await ctx.db.query("notes").collect()).length,
      scheduled: (await ctx.db.system.query("_scheduled_functions").collect())
        .length,
    });
    if (user.name !== "bad") return { email: "done" };
    const other = all.find((u) => u.name === "u0")!;
    switch (failure) {
      case "patchOwn":
        await ctx.db.patch(user._id, { email: "partial", age: 99 });
        break;
      case "replaceOwn":
        await ctx.db.replace(user._id, { name: "bad", email: "partial" });
        break;
      case "tablePatchOwn":
        // The table-scoped writer of newer Convex versions.
        await (ctx.db as unknown as GenericDatabaseWriterWithTable<DataModel>)
          .table("users")
          .patch(user._id, { email: "partial" });
        break;
      case "insert":
        await ctx.db.insert("notes", { text: "partial", userId: user._id });
        await ctx.db.patch(user._id, { age: 99 });
        break;
      case "patchOther":
        await ctx.db.patch(other._id, { age: 99 });
        break;
      case "deleteOwn":
        await ctx.db.delete(user._id);
        break;
      case "deleteOther":
        await ctx.db.delete(other._id);
        break;
      case "schedule":
        await ctx.scheduler.runAfter(60_000, anyApi["isolation.test"].noop, {});
        break;
    }
    throw new Error(`bad failed after ${failure}`);
  },
});

/** Fails verification after its returned patch was written. */
export const verified = migrations.define({
  table: "users",
  onError: "skip",
  migrateOne: async (ctx, user) => {
    const all = await ctx.db.query("users").collect();
    const index = all.findIndex((u) => u._id === user._id);
    const prev = index > 0 ? all[index - 1] : null;
    seen.set(user.name, {
      prev: show(prev ?? undefined),
      notes: 0,
      scheduled: 0,
    });
    return user.name === "bad" ? { age: 99 } : { email: "done" };
  },
  verify: (user) => user.age !== 99 || "age 99 is not allowed",
});

/**
 * A migration whose outcome for a document depends on the writes of the
 * documents before it: a user gets plan "free" only while no note exists;
 * users named "bad*" insert a note, patch themselves, then throw.
 */
export const dependent = migrations.define({
  table: "users",
  batchSize: 10,
  onError: "skip",
  migrateOne: async (ctx, user) => {
    if (user.name.startsWith("bad")) {
      await ctx.db.insert("notes", { text: user.name, userId: user._id });
      await ctx.db.patch(user._id, { age: 99 });
      throw new Error(`${user.name} is bad`);
    }
    const notes = await ctx.db.query("notes").collect();
    return notes.length === 0 ? { plan: "free" } : { age: notes.length };
  },
});

/**
 * Concurrent documents: "bad" inserts a note and throws only after the
 * others have counted the notes.
 */
export const parallel = migrations.define({
  table: "users",
  parallelize: true,
  onError: "skip",
  migrateOne: async (ctx, user) => {
    if (user.name === "bad") {
      await ctx.db.insert("notes", { text: "partial" });
      for (let i = 0; i < 5; i++) await ctx.db.query("users").collect();
      throw new Error("bad failed late");
    }
    await ctx.db.query("users").first();
    const notes = (await ctx.db.query("notes").collect()).length;
    seen.set(user.name, { prev: "", notes, scheduled: 0 });
    return { age: notes };
  },
});

/** u0 sets bad's age; bad then patches itself and throws. */
export const writtenEarlier = migrations.define({
  table: "users",
  onError: "skip",
  migrateOne: async (ctx, user) => {
    const all = await ctx.db.query("users").collect();
    const index = all.findIndex((u) => u._id === user._id);
    seen.set(user.name, { prev: show(all[index - 1]), notes: 0, scheduled: 0 });
    if (user.name === "u0")
      await ctx.db.patch(all.find((u) => u.name === "bad")!._id, { age: 1 });
    if (user.name === "bad") {
      await ctx.db.patch(user._id, { email: "partial" });
      throw new Error("bad failed");
    }
  },
});

/** Writes through the table-scoped writer only. */
export const viaTable = migrations.define({
  table: "users",
  migrateOne: async (ctx, user) => {
    if (user.name === "u1") return;
    await (ctx.db as unknown as GenericDatabaseWriterWithTable<DataModel>)
      .table("users")
      .patch(user._id, { plan: "pro" });
  },
});

/** Users named "bad*" delete themselves, then throw. */
export const selfDeleting = migrations.define({
  table: "users",
  migrateOne: async (ctx, user) => {
    if (!user.name.startsWith("bad")) return { plan: "pro" };
    await ctx.db.delete(user._id);
    throw new Error(`${user.name} deleted itself`);
  },
});

/** How a document of {@link callForms} writes itself, then whether it throws. */
type CallForm = {
  kind: "patch" | "replace" | "delete";
  /** `id`: (id, ...); `trailingUndefined`: (id, ..., undefined); `table`: ("users", id, ...). */
  form: "id" | "trailingUndefined" | "table";
  fail: boolean;
};
/** The call form of each user of {@link callForms}, by name. */
const callFormOf = new Map<string, CallForm>();

/**
 * Each user writes itself through ctx.db in the call form `callFormOf`
 * says (a trailing `undefined` is the id-only form to Convex), then throws
 * when `fail` is set.
 */
export const callForms = migrations.define({
  table: "users",
  onError: "skip",
  migrateOne: async (ctx, user) => {
    const { kind, form, fail } = callFormOf.get(user.name)!;
    const value =
      kind === "patch" ? { email: "done" } : { name: user.name, email: "done" };
    const args: unknown[] =
      kind === "delete"
        ? form === "table"
          ? ["users", user._id]
          : form === "trailingUndefined"
            ? [user._id, undefined]
            : [user._id]
        : form === "table"
          ? ["users", user._id, value]
          : form === "trailingUndefined"
            ? [user._id, value, undefined]
            : [user._id, value];
    await (ctx.db as unknown as Record<string, (...a: unknown[]) => unknown>)[
      kind
    ](...args);
    if (fail) throw new Error(`${user.name} failed`);
  },
});

export const noop = migrations.define({
  table: "notes",
  migrateOne: () => undefined,
});

export const run = migrations.runner();

const api = anyApi["isolation.test"];

const logs = captureLogs();
fakeClock(null);
beforeEach(() => {
  seen.clear();
  failure = "patchOwn";
});

function setup() {
  return appTest("isolation.test", self);
}

/** u0, u1, bad, u2, u3 in creation order. */
async function seed(t: ReturnType<typeof setup>) {
  await t.run(async (ctx) => {
    for (const name of ["u0", "u1", "bad", "u2", "u3"])
      await ctx.db.insert("users", { name });
  });
}

async function snapshot(t: ReturnType<typeof setup>) {
  return await t.run(async (ctx) => ({
    users: await ctx.db.query("users").collect(),
    notes: await ctx.db.query("notes").collect(),
    scheduled: await ctx.db.system.query("_scheduled_functions").collect(),
  }));
}

async function start(
  t: ReturnType<typeof setup>,
  fn: string,
  extra: Record<string, unknown> = {},
) {
  await t.mutation(api.run, { fn: `isolation.test:${fn}`, ...extra });
  await t.finishAllScheduledFunctions(vi.runAllTimers);
}

async function report(
  t: ReturnType<typeof setup>,
  ref: unknown,
  dryRun = false,
) {
  return (await t.run((ctx) =>
    migrations.getReport(ctx, ref as never, { dryRun }),
  ))!;
}

const ALL_FAILURES: Failure[] = [
  "patchOwn",
  "replaceOwn",
  "tablePatchOwn",
  "insert",
  "patchOther",
  "deleteOwn",
  "deleteOther",
  "schedule",
];

describe('real run with onError: "skip"', () => {
  test.each(ALL_FAILURES)(
    "a document that wrote (%s) and threw is unchanged, recorded as failed, and its writes are not committed",
    async (how) => {
      failure = how;
      const t = setup();
      await seed(t);
      const before = await snapshot(t);
      await start(t, "observe");
      const after = await snapshot(t);
      const bad = (s: typeof before) => s.users.find((u) => u.name === "bad");
      expect(bad(after)).toEqual(bad(before));
      expect(after.notes).toEqual([]);
      expect(after.scheduled).toEqual([]);
      // Every other user migrated, u0 included (nothing "bad" did survived).
      expect(
        after.users.filter((u) => u.name !== "bad").map((u) => u.email),
      ).toEqual(["done", "done", "done", "done"]);
      expect(after.users.find((u) => u.name === "u0")!.age).toBeUndefined();
      const r = await report(t, api.observe);
      expect(r.status).toMatchObject({
        state: "failed",
        changed: 4,
        failed: 1,
        pendingFailures: 1,
      });
      expect(r.failures).toEqual([
        expect.objectContaining({
          id: bad(before)!._id,
          message: `bad failed after ${how}`,
          resolved: false,
        }),
      ]);
      // The document after "bad" saw it untouched.
      expect(seen.get("u2")!.prev).toBe("bad:-:-");
    },
  );

  test("a document failing verification keeps its prior value", async () => {
    const t = setup();
    await seed(t);
    await start(t, "verified");
    const users = (await snapshot(t)).users;
    const bad = users.find((u) => u.name === "bad")!;
    expect([bad.age, bad.email]).toEqual([undefined, undefined]);
    expect((await report(t, api.verified)).status).toMatchObject({
      changed: 4,
      failed: 1,
    });
  });
});

describe("dry run", () => {
  test.each(ALL_FAILURES)(
    "a failing document's writes (%s) are not seen by later documents of the same batch",
    async (how) => {
      failure = how;
      const t = setup();
      await seed(t);
      const before = await snapshot(t);
      await start(t, "observe", { dryRun: true });
      expect(await snapshot(t)).toEqual(before);
      // u2 comes right after "bad" and sees it (and u0, notes, the
      // scheduler) as if "bad" had never run; u3 sees u2's own change.
      expect(seen.get("u2")).toEqual({
        prev: "bad:-:-",
        u0: "u0:done:-",
        notes: 0,
        scheduled: 0,
      });
      expect(seen.get("u3")!.prev).toBe("u2:done:-");
      expect(seen.get("u1")!.prev).toBe("u0:done:-");
      const r = await report(t, api.observe, true);
      expect(r.status).toMatchObject({
        state: "success",
        processed: 5,
        changed: 4,
        unchanged: 0,
        failed: 1,
      });
      expect(r.failures.map((f) => f.message)).toEqual([
        `bad failed after ${how}`,
      ]);
      expect(r.fieldChanges).toEqual([{ field: "email", count: 4 }]);
      // Own-document writes and inserts are undone in place (one pass over
      // the batch); anything else reruns the batch without "bad".
      const inPlace = ["patchOwn", "replaceOwn", "tablePatchOwn", "insert"];
      const batches = logs.filter((l) => l.event === "migrations.batch");
      expect(batches.map((l) => l.skipped)).toEqual([
        inPlace.includes(how) ? 0 : 1,
      ]);
    },
  );

  test("a document failing verification is restored before the next one runs", async () => {
    const t = setup();
    await seed(t);
    await start(t, "verified", { dryRun: true });
    expect(seen.get("u2")!.prev).toBe("bad:-:-");
    const r = await report(t, api.verified, true);
    expect(r.status).toMatchObject({ changed: 4, failed: 1 });
    expect(r.failures[0].message).toBe(
      "verification failed: age 99 is not allowed",
    );
    expect(
      logs.filter((l) => l.event === "migrations.batch").map((l) => l.skipped),
    ).toEqual([0]);
  });

  test("a failing document an earlier document wrote keeps that earlier write", async () => {
    const t = setup();
    await seed(t);
    await start(t, "writtenEarlier", { dryRun: true });
    expect(seen.get("u2")!.prev).toBe("bad:-:1");
    seen.clear();
    await start(t, "writtenEarlier");
    expect(seen.get("u2")!.prev).toBe("bad:-:1");
    const r = await report(t, api.writtenEarlier, true);
    expect(r.status).toMatchObject({ changed: 0, unchanged: 4, failed: 1 });
  });

  test("with parallelize, a failing document's writes are not seen either", async () => {
    const t = setup();
    await seed(t);
    await start(t, "parallel", { dryRun: true });
    expect(seen.get("u2")).toEqual({ prev: "", notes: 0, scheduled: 0 });
    const r = await report(t, api.parallel, true);
    expect(r.status).toMatchObject({ changed: 4, unchanged: 0, failed: 1 });
    expect(r.fieldChanges).toEqual([{ field: "age", count: 4 }]);
  });
});

describe("dry run of documents whose writes cannot be undone in place", () => {
  test('reports every one, even with onError "stop", and counts none as pending', async () => {
    const t = setup();
    await t.run(async (ctx) => {
      for (let i = 0; i < 40; i++)
        await ctx.db.insert("users", { name: i % 2 ? `u${i}` : `bad${i}` });
    });
    const before = await snapshot(t);
    // 20 failing documents in one batch: more than one transaction retries.
    await start(t, "selfDeleting", { dryRun: true, batchSize: 40 });
    expect(await snapshot(t)).toEqual(before);
    const r = await report(t, api.selfDeleting, true);
    expect(r.status).toMatchObject({
      state: "success",
      processed: 40,
      changed: 20,
      unchanged: 0,
      failed: 20,
      pendingFailures: 0,
    });
    expect(r.failures.map((f) => f.message).sort()).toEqual(
      before.users
        .filter((u) => u.name.startsWith("bad"))
        .map((u) => `${u.name} deleted itself`)
        .sort(),
    );
    expect(r.fieldChanges).toEqual([{ field: "plan", count: 20 }]);
    // The real run stops at the first one (onError "stop") and commits nothing of it.
    await start(t, "selfDeleting", { batchSize: 40 });
    const real = await report(t, api.selfDeleting);
    expect(real.status.state).toBe("failed");
    expect(real.status.error).toContain("bad0 deleted itself");
    expect((await snapshot(t)).users).toEqual(before.users);
  });
});

describe("'would change' equals what the real run changes", () => {
  test("when failing documents write before they throw", async () => {
    const t = setup();
    await t.run(async (ctx) => {
      for (let i = 0; i < 35; i++)
        await ctx.db.insert("users", {
          name: i % 7 === 3 ? `bad${i}` : `u${i}`,
        });
    });
    await start(t, "dependent", { dryRun: true });
    const dry = await report(t, api.dependent, true);
    expect(dry.status).toMatchObject({ processed: 35, failed: 5 });
    await start(t, "dependent");
    const real = await report(t, api.dependent);
    expect(real.status.changed).toBe(dry.status.changed);
    expect(real.status.unchanged).toBe(dry.status.unchanged);
    expect(real.status.failed).toBe(dry.status.failed);
    expect(real.fieldChanges).toEqual(dry.fieldChanges);
    expect(real.failures.map((f) => f.id).sort()).toEqual(
      dry.failures.map((f) => f.id).sort(),
    );
    // Every user but the bad ones got plan "free": no note survived.
    const { users, notes } = await snapshot(t);
    expect(notes).toEqual([]);
    expect(dry.fieldChanges).toEqual([{ field: "plan", count: 30 }]);
    for (const s of dry.samples) {
      const now = users.find((u) => u._id === s.id)!;
      expect(now).toEqual(s.after);
    }
  });
});

describe("accounting", () => {
  test("a write to the migrated document counts the same in every ctx.db call form, a trailing undefined included", async () => {
    const callForm = fc.record({
      kind: fc.constantFrom("patch", "replace", "delete"),
      form: fc.constantFrom("id", "trailingUndefined", "table"),
      fail: fc.boolean(),
    }) as fc.Arbitrary<CallForm>;
    await fc.assert(
      fc.asyncProperty(
        fc.array(callForm, { minLength: 1, maxLength: 6 }),
        async (forms) => {
          callFormOf.clear();
          forms.forEach((f, i) => callFormOf.set(`u${i}`, f));
          const t = setup();
          await t.run(async (ctx) => {
            for (let i = 0; i < forms.length; i++)
              await ctx.db.insert("users", { name: `u${i}` });
          });
          const before = await snapshot(t);
          await start(t, "callForms", { dryRun: true });
          expect(await snapshot(t)).toEqual(before);
          const ok = forms.filter((f) => !f.fail);
          const written = ok.filter((f) => f.kind !== "delete").length;
          const deleted = ok.length - written;
          const r = await report(t, api.callForms, true);
          expect(r.status).toMatchObject({
            state: "success",
            processed: forms.length,
            changed: ok.length,
            unchanged: 0,
            failed: forms.length - ok.length,
          });
          expect(r.fieldChanges).toEqual(
            expect.arrayContaining([
              ...(written ? [{ field: "email", count: written }] : []),
              ...(deleted ? [{ field: "(deleted)", count: deleted }] : []),
            ]),
          );
          // Failing own-document patches and replaces are undone in place;
          // only a failing delete reruns the batch without its document.
          const reruns = forms.filter(
            (f) => f.fail && f.kind === "delete",
          ).length;
          const batches = logs.filter((l) => l.event === "migrations.batch");
          expect(batches.at(-1)!.skipped).toBe(reruns);
          logs.length = 0;
        },
      ),
      { seed: 42, numRuns: 12 },
    );
  });

  test("writes through ctx.db.table(...) count as changes", async () => {
    const t = setup();
    await seed(t);
    await start(t, "viaTable");
    expect((await report(t, api.viaTable)).status).toMatchObject({
      state: "success",
      changed: 4,
      unchanged: 1,
    });
  });
});
