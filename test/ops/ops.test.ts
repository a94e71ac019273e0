/**
 * The console's server side (`opsApi`, exported by the example app from
 * convex/ops.ts): permissions, audited changes with reasons, refusals that
 * write nothing, escalation guards, and the combinable trail filters,
 * checked against a model with generated filter combinations.
 */
import fc from "fast-check";
import { ConvexError, type Value } from "convex/values";
import type { FunctionReturnType } from "convex/server";
import { describe, expect, test } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { exampleApp as freshApp } from "../example/setup";

async function exampleApp() {
  const t = await freshApp();
  await t.mutation(internal.init.seed, {});
  return t;
}

async function refusal(p: Promise<unknown>) {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, "expected a refusal").toBeInstanceOf(ConvexError);
  return (e as ConvexError<Value>).data as Record<string, unknown>;
}

type TrailPage = FunctionReturnType<typeof api.ops.auditTrail>;
type OpsPage = FunctionReturnType<typeof api.ops.auditOperations>;
type App = Awaited<ReturnType<typeof exampleApp>>;
const page = (numItems: number, cursor: string | null = null) => ({
  numItems,
  cursor,
});

async function userId(t: App, who: string) {
  return await t.run(
    async (ctx) =>
      (await ctx.db
        .query("users")
        .withIndex("by_userId", (q) => q.eq("userId", who))
        .unique())!._id,
  );
}

async function operationCount(t: App) {
  const alice = t.withIdentity({ subject: "alice" });
  let n = 0;
  let cursor: string | null = null;
  for (;;) {
    const r: OpsPage = await alice.query(api.ops.auditOperations, {
      paginationOpts: page(50, cursor),
    });
    n += r.page.length;
    if (r.isDone) return n;
    cursor = r.continueCursor;
  }
}

/** A small production day: role changes by sam and alice, moderation by alice. */
async function busyApp() {
  const t = await exampleApp();
  const sam = t.withIdentity({ subject: "sam" });
  const alice = t.withIdentity({ subject: "alice" });
  for (const [who, role, ticket] of [
    ["bob", "support", "SUP-1"],
    ["carol", "support", "SUP-2"],
    ["bob", "member", "SUP-3"],
  ] as const)
    await sam.mutation(api.admin.setUserRole, {
      userId: await userId(t, who),
      role,
      reason: `${ticket} rota change for ${who}`,
    });
  await alice.mutation(api.admin.removeSpam, {
    team: "acme",
    authorId: "dave",
    reason: "MOD-1 spam reported by Bob",
  });
  await alice.mutation(api.admin.setUserRole, {
    userId: await userId(t, "dave"),
    role: "admin",
    reason: "SUP-4 Dave runs the weekend shift",
  });
  return t;
}

describe("permissions", () => {
  test("a member is refused every section with FORBIDDEN naming the permission; nobody signed in gets UNAUTHENTICATED", async () => {
    const t = await exampleApp();
    const bob = t.withIdentity({ subject: "bob" });
    const cases: Array<[Promise<unknown>, string]> = [
      [
        bob.query(api.ops.auditTrail, { paginationOpts: page(5) }),
        "audit.read",
      ],
      [
        bob.query(api.ops.auditOperations, { paginationOpts: page(5) }),
        "audit.read",
      ],
      [bob.action(api.ops.auditVerify, {}), "audit.read"],
      [bob.query(api.ops.migrationsStatus, {}), "migrations.run"],
      [
        bob.query(api.ops.rateLimitValue, { name: "signUp" }),
        "rateLimits.manage",
      ],
      [
        bob.query(api.ops.roleMembers, { paginationOpts: page(5) }),
        "users.manage",
      ],
      [
        bob.mutation(api.ops.rateLimitReset, {
          name: "signUp",
          reason: "SUP-1 reset please",
        }),
        "rateLimits.manage",
      ],
    ];
    for (const [call, permission] of cases)
      expect(await refusal(call)).toMatchObject({
        code: "FORBIDDEN",
        permission,
      });
    expect(await refusal(t.query(api.ops.opsConfig, {}))).toMatchObject({
      code: "UNAUTHENTICATED",
    });
    const config = await bob.query(api.ops.opsConfig, {});
    expect(config).toMatchObject({
      actorId: "bob",
      can: {
        read: false,
        revert: false,
        migrations: false,
        rateLimits: false,
        users: false,
      },
      // A member learns no table, migration, limit or role names.
      tables: [],
      migrations: [],
      rateLimits: [],
      roles: [],
    });
    const sam = await t
      .withIdentity({ subject: "sam" })
      .query(api.ops.opsConfig, {});
    expect(sam).toMatchObject({
      tables: ["users", "posts"],
      migrations: [],
      rateLimits: [],
    });
    expect(sam.roles.filter((r) => r.assignable).map((r) => r.name)).toEqual([
      "support",
    ]);
  });
});

describe("audit trail filters", () => {
  test("every combination of table, actor, function and time range pages to exactly the matching entries, always making progress", async () => {
    const t = await busyApp();
    const alice = t.withIdentity({ subject: "alice" });
    const all: TrailPage["page"] = [];
    let cursor: string | null = null;
    for (;;) {
      const r: TrailPage = await alice.query(api.ops.auditTrail, {
        paginationOpts: page(50, cursor),
      });
      all.push(...r.page);
      if (r.isDone) break;
      cursor = r.continueCursor;
    }
    expect(all.length).toBeGreaterThanOrEqual(6);
    const times = all.map((e) => e.time);
    const lo = Math.min(...times);
    const hi = Math.max(...times);
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            table: fc.constantFrom("users", "posts"),
            actorId: fc.constantFrom("sam", "alice", "nobody"),
            functionName: fc.constantFrom(
              ...new Set(all.map((e) => e.functionName)),
              "x:y",
            ),
            from: fc.integer({ min: lo - 1, max: hi + 1 }),
            to: fc.integer({ min: lo - 1, max: hi + 1 }),
          },
          { requiredKeys: [] },
        ),
        fc.integer({ min: 1, max: 4 }),
        async (f, numItems) => {
          if (f.from !== undefined && f.to !== undefined && f.from > f.to)
            return;
          const expected = all.filter(
            (e) =>
              (f.table === undefined || e.table === f.table) &&
              (f.actorId === undefined || e.actorId === f.actorId) &&
              (f.functionName === undefined ||
                e.functionName === f.functionName) &&
              (f.from === undefined || e.time >= f.from) &&
              (f.to === undefined || e.time <= f.to),
          );
          const got: string[] = [];
          let c: string | null = null;
          for (let calls = 0; ; calls++) {
            expect(calls).toBeLessThan(100);
            const r: TrailPage = await alice.query(api.ops.auditTrail, {
              ...f,
              paginationOpts: page(numItems, c),
            });
            expect(r.scanned).toBeLessThanOrEqual(4 * numItems);
            got.push(...r.page.map((e) => e.entryId));
            if (r.isDone) break;
            expect(r.continueCursor).not.toBe(c);
            c = r.continueCursor;
          }
          expect(got).toEqual(expected.map((e) => e.entryId));
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });

  test("a page stops reading once it has read its byte budget, and paging still reaches the end", async () => {
    const t = await exampleApp();
    const alice = t.withIdentity({ subject: "alice" });
    const [post] = await t.run((ctx) => ctx.db.query("posts").take(1));
    // Six changes of a ~600 KB post: each entry reads back ~1.2 MB (before and after).
    for (let i = 0; i < 6; i++)
      await alice.mutation(api.admin.fixPost, {
        team: post.teamId,
        postId: post._id,
        body: String(i).repeat(600_000),
        reason: `MOD-${i} long body fix`,
      });
    const filters = { table: "posts", functionName: "x:y" };
    const first: TrailPage = await alice.query(api.ops.auditTrail, {
      ...filters,
      paginationOpts: page(2),
    });
    // Without the byte budget it would read 4 pages of 2 (8 entries, ~10 MB).
    expect(first.scanned).toBe(4);
    expect(first.page).toEqual([]);
    expect(first.isDone).toBe(false);
    const second: TrailPage = await alice.query(api.ops.auditTrail, {
      ...filters,
      paginationOpts: page(2, first.continueCursor),
    });
    expect(second).toMatchObject({ page: [], isDone: true, scanned: 2 });
  });

  test("table and actor together read only that actor's entries of that table, whatever the other actors wrote", async () => {
    const t = await exampleApp();
    const alice = t.withIdentity({ subject: "alice" });
    const sam = t.withIdentity({ subject: "sam" });
    const carol = await userId(t, "carol");
    const role = (i: number) => (i % 2 === 0 ? "support" : "member");
    // 30 changes of users by alice, then one by sam: sam's entry is the
    // oldest, behind all of alice's in the table's index.
    await sam.mutation(api.admin.setUserRole, {
      userId: carol,
      role: "support",
      reason: "SUP-1 sam's one change",
    });
    for (let i = 0; i < 30; i++)
      await alice.mutation(api.admin.setUserRole, {
        userId: carol,
        role: role(i + 1),
        reason: `SUP-${i + 2} alice's noise`,
      });
    const r: TrailPage = await alice.query(api.ops.auditTrail, {
      table: "users",
      actorId: "sam",
      paginationOpts: page(5),
    });
    expect(r.page.map((e) => [e.actorId, e.table])).toEqual([["sam", "users"]]);
    // On the table's index alone this page scanned alice's 30 entries first.
    expect(r.scanned).toBe(1);
    expect(r.isDone).toBe(true);
  });

  test("operations filter by table, actor and function together", async () => {
    const t = await busyApp();
    const alice = t.withIdentity({ subject: "alice" });
    const r: OpsPage = await alice.query(api.ops.auditOperations, {
      table: "users",
      actorId: "sam",
      functionName: "admin:setUserRole",
      paginationOpts: page(10),
    });
    expect(r.page.map((o) => o.reason)).toEqual([
      "SUP-3 rota change for bob",
      "SUP-2 rota change for carol",
      "SUP-1 rota change for bob",
    ]);
  });

  test("malformed pages and ranges are refused in words", async () => {
    const t = await exampleApp();
    const alice = t.withIdentity({ subject: "alice" });
    expect(
      await refusal(
        alice.query(api.ops.auditTrail, { paginationOpts: page(51) }),
      ),
    ).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("from 1 to 50; got 51"),
    });
    expect(
      await refusal(
        alice.query(api.ops.auditTrail, {
          from: 5,
          to: 4,
          paginationOpts: page(5),
        }),
      ),
    ).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("from (5) is after to (4)"),
    });
    expect(
      await refusal(
        alice.query(api.ops.auditTrail, {
          table: "secrets",
          paginationOpts: page(5),
        }),
      ),
    ).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("expected one of: users, posts"),
    });
  });
});

describe("revert", () => {
  test("support reverts a role change with a reason; a bad reason is refused and writes nothing", async () => {
    const t = await busyApp();
    const sam = t.withIdentity({ subject: "sam" });
    const ops = await sam.query(api.ops.auditOperations, {
      actorId: "sam",
      paginationOpts: page(10),
    });
    const carolOp = ops.page.find((o) => o.reason.startsWith("SUP-2"))!;
    const before = await operationCount(t);
    expect(
      await refusal(
        sam.mutation(api.ops.auditRevert, {
          operationId: carolOp.operationId,
          reason: "oops",
        }),
      ),
    ).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(await operationCount(t)).toBe(before);
    const carol = await userId(t, "carol");
    expect((await t.run((ctx) => ctx.db.get("users", carol)))!.role).toBe(
      "support",
    );

    const r = await sam.mutation(api.ops.auditRevert, {
      operationId: carolOp.operationId,
      reason: "SUP-9 the rota change was a mistake",
    });
    expect(r).toEqual({ revertedEntries: 1, recreated: 0 });
    expect((await t.run((ctx) => ctx.db.get("users", carol)))!.role).toBe(
      "member",
    );
    // The grant followed the row (afterRevert): carol lost support's audit.read.
    expect(
      await refusal(
        t
          .withIdentity({ subject: "carol" })
          .query(api.ops.auditTrail, { paginationOpts: page(1) }),
      ),
    ).toMatchObject({ code: "FORBIDDEN" });
    const [latest] = (
      await sam.query(api.ops.auditOperations, { paginationOpts: page(1) })
    ).page;
    expect(latest).toMatchObject({
      actorId: "sam",
      reason: "SUP-9 the rota change was a mistake",
      revertOf: { operationId: carolOp.operationId },
    });
  });

  test("a second revert of the same operation is a CONFLICT and writes nothing", async () => {
    const t = await busyApp();
    const sam = t.withIdentity({ subject: "sam" });
    const alice = t.withIdentity({ subject: "alice" });
    const ops: OpsPage = await sam.query(api.ops.auditOperations, {
      actorId: "sam",
      paginationOpts: page(10),
    });
    const carolOp = ops.page.find((o) => o.reason.startsWith("SUP-2"))!;
    await sam.mutation(api.ops.auditRevert, {
      operationId: carolOp.operationId,
      reason: "SUP-11 first revert wins",
    });
    const before = await operationCount(t);
    expect(
      await refusal(
        alice.mutation(api.ops.auditRevert, {
          operationId: carolOp.operationId,
          reason: "SUP-12 second revert loses",
        }),
      ),
    ).toMatchObject({ code: "CONFLICT" });
    expect(await operationCount(t)).toBe(before);
  });

  test("support cannot unmake an admin by reverting; nothing is written", async () => {
    const t = await busyApp();
    const sam = t.withIdentity({ subject: "sam" });
    const ops = await sam.query(api.ops.auditOperations, {
      actorId: "alice",
      paginationOpts: page(10),
    });
    const daveAdmin = ops.page.find((o) => o.reason.startsWith("SUP-4"))!;
    const before = await operationCount(t);
    expect(
      await refusal(
        sam.mutation(api.ops.auditRevert, {
          operationId: daveAdmin.operationId,
          reason: "SUP-10 Dave should not be admin",
        }),
      ),
    ).toMatchObject({ code: "FORBIDDEN", permission: "users.assignAdmin" });
    expect(await operationCount(t)).toBe(before);
    const dave = await userId(t, "dave");
    expect((await t.run((ctx) => ctx.db.get("users", dave)))!.role).toBe(
      "admin",
    );
  });
});

describe("roles", () => {
  test("grant and revoke are audited; self-service and escalation are refused and write nothing", async () => {
    const t = await exampleApp();
    const alice = t.withIdentity({ subject: "alice" });
    const sam = t.withIdentity({ subject: "sam" });
    const reason = "SUP-20 Carol moderates acme";
    expect(
      await alice.mutation(api.ops.grantRole, {
        userId: "carol",
        role: "moderator",
        scope: "team:acme",
        reason,
      }),
    ).toEqual({ created: true });
    const members = await alice.query(api.ops.roleMembers, {
      scope: "team:acme",
      paginationOpts: page(50),
    });
    expect(members.page).toContainEqual({ userId: "carol", role: "moderator" });
    const [op] = (
      await alice.query(api.ops.auditOperations, { paginationOpts: page(1) })
    ).page;
    expect(op).toMatchObject({
      actorId: "alice",
      reason,
      // The grant's tables, and users: the example app mirrors global roles into users.role.
      tables: ["component:authz", "users"],
      args: { userId: "carol", role: "moderator", scope: "team:acme" },
    });

    const before = await operationCount(t);
    const grantsBefore = await alice.query(api.ops.userGrants, {
      userId: "sam",
    });
    // Support holds users.manage but not "*": admin is out of reach, and so is oneself.
    expect(
      await refusal(
        sam.mutation(api.ops.grantRole, {
          userId: "bob",
          role: "admin",
          reason: "SUP-21 make bob admin",
        }),
      ),
    ).toMatchObject({ code: "FORBIDDEN" });
    expect(
      await refusal(
        sam.mutation(api.ops.grantRole, {
          userId: "sam",
          role: "support",
          scope: "team:acme",
          reason: "SUP-22 me too",
        }),
      ),
    ).toMatchObject({
      code: "FORBIDDEN",
      message: expect.stringContaining("your own roles"),
    });
    // Moderator allows posts.*, which sam does not hold anywhere.
    expect(
      await refusal(
        sam.mutation(api.ops.grantRole, {
          userId: "bob",
          role: "moderator",
          scope: "team:acme",
          reason: "SUP-23 bob moderates",
        }),
      ),
    ).toMatchObject({ code: "FORBIDDEN", role: "moderator" });
    expect(
      await refusal(
        alice.mutation(api.ops.grantRole, {
          userId: "bob",
          role: "wizard",
          reason: "SUP-24 a new role",
        }),
      ),
    ).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(await operationCount(t)).toBe(before);
    expect(await alice.query(api.ops.userGrants, { userId: "sam" })).toEqual(
      grantsBefore,
    );

    expect(
      await alice.mutation(api.ops.revokeRole, {
        userId: "carol",
        role: "moderator",
        scope: "team:acme",
        reason: "SUP-25 week over",
      }),
    ).toEqual({ revoked: true });
    expect(
      await alice.query(api.ops.userGrants, { userId: "carol" }),
    ).not.toContainEqual(expect.objectContaining({ role: "moderator" }));
  });
});

describe("rate limits and migrations", () => {
  test("a reset is recorded with its reason; unknown names are NOT_FOUND and write nothing", async () => {
    const t = await exampleApp();
    const alice = t.withIdentity({ subject: "alice" });
    const bob = t.withIdentity({ subject: "bob" });
    for (const pin of ["0000", "1111", "2222"])
      await bob.mutation(api.account.checkPin, { pin });
    const spent = await alice.query(api.ops.rateLimitValue, {
      name: "pinAttempt",
      key: "bob",
    });
    expect(spent.value).toBeLessThan(1);
    const before = await operationCount(t);
    expect(
      await refusal(
        alice.mutation(api.ops.rateLimitReset, {
          name: "pinAtempt",
          key: "bob",
          reason: "SUP-30 typo",
        }),
      ),
    ).toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringContaining("signUp, createPost, pinAttempt"),
    });
    expect(await operationCount(t)).toBe(before);
    await alice.mutation(api.ops.rateLimitReset, {
      name: "pinAttempt",
      key: "bob",
      reason: "SUP-31 verified by phone",
    });
    expect(
      (
        await alice.query(api.ops.rateLimitValue, {
          name: "pinAttempt",
          key: "bob",
        })
      ).value,
    ).toBe(3);
    const [op] = (
      await alice.query(api.ops.auditOperations, { paginationOpts: page(1) })
    ).page;
    expect(op).toMatchObject({
      reason: "SUP-31 verified by phone",
      tables: ["component:rateLimiter"],
    });
  });

  test("a migration run is recorded; bad names and batch sizes are refused before anything starts", async () => {
    const t = await exampleApp();
    const alice = t.withIdentity({ subject: "alice" });
    const name = "migrations:backfillWordCount";
    expect(
      await refusal(
        alice.mutation(api.ops.migrationRun, {
          name: "migrations:nope",
          reason: "OPS-1 try it",
        }),
      ),
    ).toMatchObject({ code: "NOT_FOUND" });
    expect(
      await refusal(
        alice.mutation(api.ops.migrationRun, {
          name,
          batchSize: 0,
          reason: "OPS-1 try it",
        }),
      ),
    ).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect((await alice.query(api.ops.migrationsStatus, {}))[0]).toMatchObject({
      name,
      state: "unknown",
    });
    const started = await alice.mutation(api.ops.migrationRun, {
      name,
      dryRun: true,
      reason: "OPS-2 preview",
    });
    expect(started).toMatchObject({ name, dryRun: true });
    const [op] = (
      await alice.query(api.ops.auditOperations, { paginationOpts: page(1) })
    ).page;
    expect(op).toMatchObject({
      reason: "OPS-2 preview",
      tables: ["component:migrations"],
    });
  });
});
