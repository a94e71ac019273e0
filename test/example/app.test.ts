import { describe, expect, test, vi } from "vitest";
import { ConvexError } from "convex/values";
import { api, internal } from "../../convex/_generated/api";
import { exampleApp } from "./setup";
import { FUNCTION_CLOCK_SLACK_MS, fakeClock } from "../helpers.js";

function errorData(e: unknown): Record<string, unknown> {
  expect(e).toBeInstanceOf(ConvexError);
  return (e as ConvexError<Record<string, string | number>>).data;
}

async function seeded() {
  const t = await exampleApp();
  await t.mutation(internal.init.seed, {});
  return t;
}

fakeClock("2026-11-26T09:00:00Z");

describe("seed", () => {
  test("is idempotent", async () => {
    const t = await exampleApp();
    expect(await t.mutation(internal.init.seed, {})).toEqual({
      created: true,
      users: 5,
      posts: 6,
    });
    expect(await t.mutation(internal.init.seed, {})).toEqual({
      created: false,
      users: 5,
      posts: 6,
    });
  });
});

describe("authz in the app", () => {
  test("anonymous callers are refused with UNAUTHENTICATED", async () => {
    const t = await seeded();
    const e = await t.query(api.posts.list, { team: "acme" }).catch((x) => x);
    expect(errorData(e).code).toBe("UNAUTHENTICATED");
  });

  test("a member of one team cannot edit another team's post, and is told why", async () => {
    const t = await seeded();
    const carolsPosts = await t
      .withIdentity({ subject: "carol" })
      .query(api.posts.list, { team: "globex" });
    const e = await t
      .withIdentity({ subject: "bob" })
      .mutation(api.posts.edit, {
        team: "globex",
        postId: carolsPosts[0].id,
        body: "defaced",
      })
      .catch((x) => x);
    expect(errorData(e)).toMatchObject({
      code: "FORBIDDEN",
      permission: "posts.write",
      scope: "team:globex",
    });
    const after = await t
      .withIdentity({ subject: "carol" })
      .query(api.posts.list, { team: "globex" });
    expect(after[0].body).toBe(carolsPosts[0].body);
  });

  test("a teammate cannot edit someone else's post: the row rule refuses", async () => {
    const t = await seeded();
    const posts = await t
      .withIdentity({ subject: "bob" })
      .query(api.posts.list, { team: "acme" });
    const davesPost = posts.find((p) => p.authorId === "dave")!;
    const e = await t
      .withIdentity({ subject: "bob" })
      .mutation(api.posts.edit, {
        team: "acme",
        postId: davesPost.id,
        body: "mine now",
      })
      .catch((x) => x);
    expect(errorData(e)).toMatchObject({ code: "FORBIDDEN", table: "posts" });
  });

  test("authors create and edit their own posts", async () => {
    const t = await seeded();
    const bob = t.withIdentity({ subject: "bob" });
    const id = await bob.mutation(api.posts.create, {
      team: "acme",
      title: "Hi",
      body: "one two three",
    });
    await bob.mutation(api.posts.edit, {
      team: "acme",
      postId: id,
      body: "one two",
    });
    const post = await t.run((ctx) => ctx.db.get("posts", id));
    expect(post).toMatchObject({
      body: "one two",
      wordCount: 2,
      authorId: "bob",
    });
  });
});

describe("rate limits in the app", () => {
  test("sign-up needs an existing team, and a returning user uses no sign-up slot", async () => {
    const t = await seeded();
    const u1 = t.withIdentity({ subject: "u1" });
    const args = { name: "u1", email: "u1@x.io", team: "acme", pin: "0000" };
    const e = await u1
      .mutation(api.users.signUp, { ...args, team: "nope" })
      .catch((x) => x);
    expect(errorData(e).code).toBe("NOT_FOUND");
    const first = await u1.mutation(api.users.signUp, args);
    for (let i = 0; i < 5; i++)
      expect(await u1.mutation(api.users.signUp, args)).toBe(first);
    // Two slots of the 3 per minute are still free for others.
    for (const who of ["u2", "u3"])
      await t
        .withIdentity({ subject: who })
        .mutation(api.users.signUp, { ...args, name: who });
  });

  test("sign-ups are limited to 3 a minute for everyone, with a retry time", async () => {
    const t = await seeded();
    for (const who of ["u1", "u2", "u3"]) {
      await t.withIdentity({ subject: who }).mutation(api.users.signUp, {
        name: who,
        email: `${who}@x.io`,
        team: "acme",
        pin: "0000",
      });
    }
    const e = await t
      .withIdentity({ subject: "u4" })
      .mutation(api.users.signUp, {
        name: "u4",
        email: "u4@x.io",
        team: "acme",
        pin: "0000",
      })
      .catch((x) => x);
    const data = errorData(e);
    expect(data.code).toBe("RATE_LIMITED");
    expect(data.retryAfter).toBeGreaterThan(0);
    // retryAfter counts from the denying function's start, up to 1 ms after the test clock.
    vi.advanceTimersByTime(
      (data.retryAfter as number) + FUNCTION_CLOCK_SLACK_MS,
    );
    await t.withIdentity({ subject: "u4" }).mutation(api.users.signUp, {
      name: "u4",
      email: "u4@x.io",
      team: "acme",
      pin: "0000",
    });
    expect(
      await t.withIdentity({ subject: "u4" }).query(api.users.me, {}),
    ).toMatchObject({ role: "member" });
  });

  test("three wrong PINs lock the account for the 15-minute penalty, even with the right PIN", async () => {
    const t = await seeded();
    const bob = t.withIdentity({ subject: "bob" });
    for (let i = 0; i < 3; i++)
      expect(
        (await bob.mutation(api.account.checkPin, { pin: "0000" })).ok,
      ).toBe(false);
    const locked = await bob.mutation(api.account.checkPin, { pin: "1234" });
    expect(locked.ok).toBe(false);
    expect(locked.retryAfter).toBeGreaterThan(14 * 60_000);
    // retryAfter counts from the denying function's start, up to 1 ms after the test clock.
    vi.advanceTimersByTime(locked.retryAfter! + FUNCTION_CLOCK_SLACK_MS);
    expect((await bob.mutation(api.account.checkPin, { pin: "1234" })).ok).toBe(
      true,
    );
  });
});

describe("audited admin changes", () => {
  test("support changes a role with a reason; the trail shows the diff; revert restores it", async () => {
    const t = await seeded();
    const sam = t.withIdentity({ subject: "sam" });
    const bobRow = await t.run(
      async (ctx) =>
        (await ctx.db
          .query("users")
          .withIndex("by_userId", (q) => q.eq("userId", "bob"))
          .unique())!,
    );
    const noReason = await sam
      .mutation(api.admin.setUserRole, {
        userId: bobRow._id,
        role: "support",
        reason: "because",
      })
      .catch((x) => x);
    expect(errorData(noReason).code).toBe("INVALID_ARGUMENT");

    await sam.mutation(api.admin.setUserRole, {
      userId: bobRow._id,
      role: "support",
      reason: "SUP-1234 Bob joins the support rota",
    });
    // Bob now holds the support role's permissions.
    const trail = await t
      .withIdentity({ subject: "bob" })
      .query(api.admin.auditTrail, {
        table: "users",
        paginationOpts: { numItems: 10, cursor: null },
      });
    expect(trail.page).toHaveLength(1);
    expect(trail.page[0]).toMatchObject({
      kind: "patch",
      changed: ["role"],
      actorId: "sam",
    });
    expect(trail.page[0].before.role).toBe("member");
    expect(trail.page[0].after.role).toBe("support");
    expect(trail.page[0].after.pinHash).toBe("[redacted]");

    const e = await t
      .withIdentity({ subject: "carol" })
      .mutation(api.admin.setUserRole, {
        userId: bobRow._id,
        role: "admin",
        reason: "SUP-9 escalate myself",
      })
      .catch((x) => x);
    expect(errorData(e)).toMatchObject({
      code: "FORBIDDEN",
      permission: "users.manage",
    });

    const reverted = await t
      .withIdentity({ subject: "alice" })
      .mutation(api.admin.revertOperation, {
        operationId: trail.page[0].operationId,
        reason: "SUP-1235 rota change was a mistake",
      });
    expect(reverted.reverted).toBe(1);
    const bobAfter = await t.run((ctx) => ctx.db.get("users", bobRow._id));
    expect(bobAfter!.role).toBe("member");
    // The revert re-synced the grant: Bob lost support's permissions too.
    const bobReads = await t
      .withIdentity({ subject: "bob" })
      .query(api.admin.auditTrail, {
        table: "users",
        paginationOpts: { numItems: 1, cursor: null },
      })
      .catch((x) => x);
    expect(errorData(bobReads)).toMatchObject({
      code: "FORBIDDEN",
      permission: "audit.read",
    });
  });

  test("support cannot change their own role, nor make anyone admin", async () => {
    const t = await seeded();
    const rows = await t.run((ctx) => ctx.db.query("users").collect());
    const id = (who: string) => rows.find((u) => u.userId === who)!._id;
    const sam = t.withIdentity({ subject: "sam" });
    const self = await sam
      .mutation(api.admin.setUserRole, {
        userId: id("sam"),
        role: "admin",
        reason: "SUP-1 promote myself",
      })
      .catch((x) => x);
    expect(errorData(self)).toMatchObject({
      code: "FORBIDDEN",
      message: "you cannot change your own role",
    });
    const other = await sam
      .mutation(api.admin.setUserRole, {
        userId: id("bob"),
        role: "admin",
        reason: "SUP-2 promote Bob",
      })
      .catch((x) => x);
    expect(errorData(other)).toMatchObject({
      code: "FORBIDDEN",
      permission: "users.assignAdmin",
    });
    // Nothing changed, and nothing was recorded.
    expect((await t.run((ctx) => ctx.db.get("users", id("bob"))))!.role).toBe(
      "member",
    );
    const ops = await t
      .withIdentity({ subject: "alice" })
      .query(api.admin.auditOperations, {
        paginationOpts: { numItems: 10, cursor: null },
      });
    expect(ops.page).toEqual([]);
    // An admin may.
    await t.withIdentity({ subject: "alice" }).mutation(api.admin.setUserRole, {
      userId: id("bob"),
      role: "admin",
      reason: "SUP-3 Bob leads ops",
    });
    const asAdmin = await t
      .withIdentity({ subject: "bob" })
      .action(api.admin.verifyAudit, {});
    expect(asAdmin.ok).toBe(true);
  });

  test("removing spam is one audited operation over several posts, and the chain verifies", async () => {
    const t = await seeded();
    const alice = t.withIdentity({ subject: "alice" });
    const removed = await alice.mutation(api.admin.removeSpam, {
      team: "acme",
      authorId: "dave",
      reason: "MOD-77 spam reported by Bob",
    });
    expect(removed).toBe(2);
    const visible = await t
      .withIdentity({ subject: "bob" })
      .query(api.posts.list, { team: "acme" });
    expect(visible.map((p) => p.authorId)).not.toContain("dave");
    await t.mutation(internal.auditJobs.seal, {});
    const verified = await alice.action(api.admin.verifyAudit, {});
    expect(verified).toMatchObject({
      ok: true,
      checked: 1,
      pendingSeal: false,
      problems: 0,
    });
  });

  test("a moderator fixes a post in place, and the trail records only the changed field", async () => {
    const t = await seeded();
    const posts = await t
      .withIdentity({ subject: "bob" })
      .query(api.posts.list, { team: "acme" });
    const target = posts.find((p) => p.title === "Standup")!;
    await t.withIdentity({ subject: "alice" }).mutation(api.admin.fixPost, {
      team: "acme",
      postId: target.id,
      title: "Daily standup",
      reason: "MOD-12 clearer title",
    });
    const trail = await t
      .withIdentity({ subject: "alice" })
      .query(api.admin.auditTrail, {
        table: "posts",
        paginationOpts: { numItems: 10, cursor: null },
      });
    expect(trail.page[0]).toMatchObject({
      docId: target.id,
      kind: "patch",
      changed: ["title"],
      actorId: "alice",
    });
    expect(trail.page[0].after.body).toBe(target.body);
  });
});
