/**
 * Who a caller is (issue 11 items 4 and 5): the default user id is the
 * identity's `tokenIdentifier`, so two auth providers' users with the same
 * `subject` never share grants; `userIdFromSubject` is the explicit 0.1
 * choice. User ids longer than the documented limit get an error naming the
 * limit and the length, never "must be a non-empty string" or "You must be
 * signed in".
 */
import { anyApi } from "convex/server";
import { convexTest } from "convex-test";
import { v } from "convex/values";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  Authz,
  MAX_USER_ID_LENGTH,
  userIdFromSubject,
} from "convex-opskit/authz";
import { registerAll } from "convex-opskit/test";
import { captureLogs, components, errorOf } from "../helpers.js";
import { authz, mutation, query, schema, userQuery } from "./app.js";
import * as self from "./identity.test.js";

const api = anyApi["identity.test"];

const bySubject = new Authz(components.authz, {
  roles: { editor: ["posts.write"] },
  getUserId: userIdFromSubject,
});
const subjectQuery = bySubject.query(query);

export const whoAmI = userQuery({
  args: {},
  returns: v.string(),
  handler: async (ctx) => ctx.user.actorId,
});
export const mayWrite = userQuery({
  permission: "posts.write",
  args: {},
  returns: v.string(),
  handler: async (ctx) => ctx.user.actorId,
});
export const mayWriteBySubject = subjectQuery({
  permission: "posts.write",
  args: {},
  returns: v.string(),
  handler: async (ctx) => ctx.user.actorId,
});
export const grant = mutation({
  args: { userId: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId }) => {
    await authz.grant(ctx, { userId, role: "editor" });
    return null;
  },
});
export const grantRaw = mutation({
  args: { userId: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId }) => {
    // The component refuses on its own too, for callers that skip the client.
    await ctx.runMutation(components.authz.grants.grantRole, {
      userId,
      role: "editor",
    });
    return null;
  },
});
export const revoke = mutation({
  args: { userId: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId }) => {
    await authz.revoke(ctx, { userId, role: "editor" });
    return null;
  },
});
export const can = query({
  args: { userId: v.string() },
  returns: v.boolean(),
  handler: async (ctx, { userId }) =>
    authz.can(ctx, { userId, permission: "posts.write" }),
});
export const members = query({
  args: {},
  returns: v.number(),
  handler: async (ctx) =>
    (
      await authz.listMembers(ctx, {
        paginationOpts: { numItems: 100, cursor: null },
      })
    ).page.length,
});
export const grantBySubject = mutation({
  args: { userId: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId }) => {
    await bySubject.grant(ctx, { userId, role: "editor" });
    return null;
  },
});

function setup() {
  const t = convexTest({
    schema,
    modules: {
      "./identity.test.ts": async () => self,
      "./_generated/api.ts": async () => ({}),
    },
    transactionLimits: true,
  });
  registerAll(t);
  return t;
}

const logs = captureLogs();

describe("default identity: tokenIdentifier", () => {
  test("two providers' users with the same subject do not share grants", async () => {
    const t = setup();
    const google = t.withIdentity({
      subject: "12345",
      issuer: "https://accounts.google.com",
    });
    const github = t.withIdentity({
      subject: "12345",
      issuer: "https://github.com/login",
    });
    expect(await google.query(api.whoAmI, {})).toBe(
      "https://accounts.google.com|12345",
    );
    await t.mutation(api.grant, {
      userId: "https://accounts.google.com|12345",
    });
    expect(await google.query(api.mayWrite, {})).toBe(
      "https://accounts.google.com|12345",
    );
    expect((await errorOf(github.query(api.mayWrite, {}))).code).toBe(
      "FORBIDDEN",
    );
  });

  test("userIdFromSubject is the explicit single-provider choice (0.1's default)", async () => {
    const t = setup();
    await t.mutation(api.grantBySubject, { userId: "12345" });
    for (const issuer of ["https://a.example", "https://b.example"])
      expect(
        await t
          .withIdentity({ subject: "12345", issuer })
          .query(api.mayWriteBySubject, {}),
      ).toBe("12345");
  });
});

describe("long and malformed user ids", () => {
  const userIdArb = fc.oneof(
    fc.string({ minLength: 0, maxLength: 3 }),
    fc.nat({ max: 2200 }).map((n) => "u".repeat(n)),
    fc
      .integer({ min: MAX_USER_ID_LENGTH - 2, max: MAX_USER_ID_LENGTH + 2 })
      .map((n) => "x".repeat(n)),
    fc
      .tuple(fc.string({ maxLength: 5 }), fc.integer({ min: 0, max: 31 }))
      .map(([s, c]) => `${s}${String.fromCharCode(c)}${s}`),
  );
  const valid = (id: string) =>
    id.length >= 1 &&
    id.length <= MAX_USER_ID_LENGTH &&
    !/[\u0000-\u001f\u007f]/.test(id);

  test("grant, revoke and can accept exactly the documented ids, and say the limit otherwise", async () => {
    const t = setup();
    let granted = 0;
    await fc.assert(
      fc.asyncProperty(userIdArb, async (userId) => {
        for (const fn of [api.grant, api.grantRaw]) {
          if (valid(userId)) {
            await t.mutation(fn, { userId });
            continue;
          }
          const e = await errorOf(t.mutation(fn, { userId }));
          expect(e.code).toBe("INVALID_ARGUMENT");
          expect(e.message).toContain(`1 to ${MAX_USER_ID_LENGTH} characters`);
          expect(e.message).not.toContain("non-empty string");
          if (userId.length > MAX_USER_ID_LENGTH)
            expect(e.message).toContain(`is ${userId.length} characters long`);
        }
        if (valid(userId)) {
          granted++;
          expect(await t.query(api.can, { userId })).toBe(true);
          await t.mutation(api.revoke, { userId });
          granted--;
        } else {
          expect((await errorOf(t.query(api.can, { userId }))).code).toBe(
            "INVALID_ARGUMENT",
          );
          expect((await errorOf(t.mutation(api.revoke, { userId }))).code).toBe(
            "INVALID_ARGUMENT",
          );
        }
        // A refused grant wrote nothing.
        expect(await t.query(api.members, {})).toBe(granted);
      }),
      { seed: 42, numRuns: 60 },
    );
  });

  test("a signed-in user whose id is too long is told the limit, not 'sign in'", async () => {
    const t = setup();
    // 300 characters: within the limit now, so it just works.
    const ok = "s".repeat(300);
    expect(
      await t
        .withIdentity({ subject: ok, tokenIdentifier: ok })
        .query(api.whoAmI, {}),
    ).toBe(ok);
    const long = "s".repeat(MAX_USER_ID_LENGTH + 476);
    const e = await errorOf(
      t
        .withIdentity({ subject: long, tokenIdentifier: long })
        .query(api.whoAmI, {}),
    );
    expect(e).toMatchObject({
      code: "INVALID_ARGUMENT",
      length: MAX_USER_ID_LENGTH + 476,
      maxLength: MAX_USER_ID_LENGTH,
    });
    expect(e.message).toContain(
      `is ${MAX_USER_ID_LENGTH + 476} characters long; the limit is ${MAX_USER_ID_LENGTH}`,
    );
    expect(e.message).not.toContain("signed in");
    expect(logs).toContainEqual(
      expect.objectContaining({
        event: "authz.deny",
        reason: "invalid_user_id",
        length: MAX_USER_ID_LENGTH + 476,
      }),
    );
    // Nobody signed in is still UNAUTHENTICATED.
    expect((await errorOf(t.query(api.whoAmI, {}))).code).toBe(
      "UNAUTHENTICATED",
    );
  });
});
