import { customCtx } from "convex-helpers/server/customFunctions";
import { anyApi } from "convex/server";
import { ConvexError, v } from "convex/values";
import { describe, expect, test, vi } from "vitest";
import { opskitTest, captureLogs, fakeClock } from "../helpers.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./builders.test.js";
import {
  action,
  authz,
  INGEST_KEY,
  mutation,
  query,
  schema,
  serviceMutation,
  userAction,
  userMutation,
  userQuery,
} from "./app.js";

const api = anyApi["builders.test"];

export const whoAmI = userQuery({
  args: { userId: v.optional(v.string()) },
  returns: v.object({ id: v.string(), kind: v.string() }),
  handler: async (ctx) => ({ id: ctx.user.actorId, kind: ctx.user.actorKind }),
});

/** `ctx.user` as a handler sees it, every field. */
export const actorFields = userQuery({
  args: {},
  handler: async (ctx) => ({ ...ctx.user }),
});

/** `ctx.user` of a service caller, every field. */
export const serviceActorFields = serviceMutation({
  args: {},
  handler: async (ctx) => ({ ...ctx.user }),
});

export const editPost = userMutation({
  permission: "posts.write",
  scope: (args) => `team:${args.teamId}`,
  args: { teamId: v.string(), text: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    await ctx.db.insert("logs", { text: `${ctx.user.actorId}:${args.text}` });
    return null;
  },
});

export const deletePost = userMutation({
  args: { teamId: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    // Written first, so the test can see the denial roll it back.
    await ctx.db.insert("logs", { text: "before-check" });
    await ctx.authz.require("posts.delete", { scope: `team:${args.teamId}` });
    return null;
  },
});

export const manyChecks = userQuery({
  permission: "posts.read",
  args: { checks: v.number() },
  returns: v.object({ reads: v.number(), allowed: v.number() }),
  handler: async (ctx, args) => {
    let allowed = 0;
    for (let i = 0; i < args.checks; i++)
      if (await ctx.authz.can(i % 2 ? "posts.write" : "posts.read")) allowed++;
    const metrics = await ctx.meta.getTransactionMetrics();
    return { reads: metrics.documentsRead.used, allowed };
  },
});

export const grant = mutation({
  args: {
    userId: v.string(),
    role: v.string(),
    scope: v.optional(v.string()),
    expiresAt: v.optional(v.number()),
  },
  returns: v.object({ created: v.boolean(), writes: v.number() }),
  handler: async (ctx, args) => {
    // The role arrives untyped from the client: authz validates it at runtime.
    const r = await authz.grant(ctx, { ...args, role: args.role as "editor" });
    const metrics = await ctx.meta.getTransactionMetrics();
    return { ...r, writes: metrics.documentsWritten.used };
  },
});

export const revoke = mutation({
  args: { userId: v.string(), role: v.string(), scope: v.optional(v.string()) },
  returns: v.object({ revoked: v.boolean(), writes: v.number() }),
  handler: async (ctx, args) => {
    const r = await authz.revoke(ctx, { ...args, role: args.role as "editor" });
    const metrics = await ctx.meta.getTransactionMetrics();
    return { ...r, writes: metrics.documentsWritten.used };
  },
});

export const listRoles = query({
  args: { userId: v.string() },
  returns: v.any(),
  handler: (ctx, args) => authz.listRoles(ctx, args),
});

export const listMembers = query({
  args: {
    scope: v.optional(v.string()),
    cursor: v.union(v.string(), v.null()),
  },
  returns: v.any(),
  handler: (ctx, args) =>
    authz.listMembers(ctx, {
      scope: args.scope,
      paginationOpts: { numItems: 2, cursor: args.cursor },
    }),
});

export const canCheck = query({
  args: { userId: v.string(), scope: v.optional(v.string()) },
  returns: v.boolean(),
  handler: (ctx, args) =>
    authz.can(ctx, {
      userId: args.userId,
      permission: "posts.write",
      scope: args.scope,
    }),
});

export const grantThenCheck = userMutation({
  args: {},
  returns: v.array(v.boolean()),
  handler: async (ctx) => {
    const before = await ctx.authz.can("posts.write");
    await authz.grant(ctx, { userId: ctx.user.actorId, role: "editor" });
    const after = await ctx.authz.can("posts.write");
    return [before, after];
  },
});

export const ingest = serviceMutation({
  permission: "posts.write",
  args: { text: v.string() },
  returns: v.object({ id: v.string(), kind: v.string() }),
  handler: async (ctx, args) => {
    await ctx.db.insert("logs", { text: args.text });
    return { id: ctx.user.actorId, kind: ctx.user.actorKind };
  },
});

export const ingestDelete = serviceMutation({
  permission: "posts.delete",
  args: {},
  returns: v.null(),
  handler: async () => null,
});

export const ingestAuthorize = serviceMutation({
  args: {},
  returns: v.any(),
  handler: async (ctx) =>
    await authz.authorize(ctx, { permission: "posts.write" }),
});

export const authorizeInMutation = mutation({
  args: {
    permission: v.optional(v.string()),
    scope: v.optional(v.string()),
    serviceKey: v.optional(v.string()),
  },
  returns: v.any(),
  handler: async (ctx, args) =>
    authz.authorize(ctx, {
      permission: args.permission as "posts.write" | undefined,
      scope: args.scope,
      serviceKey: args.serviceKey,
      functionName: "admin:doThing",
    }),
});

export const authorizeInAction = action({
  args: { permission: v.string() },
  returns: v.any(),
  handler: async (ctx, args) =>
    authz.authorize(ctx, { permission: args.permission as "posts.write" }),
});

export const actionWithPermission = userAction({
  permission: "posts.write",
  args: {},
  returns: v.string(),
  handler: async (ctx) => `${ctx.user.actorId} may write`,
});

export const authorizeInsideBuilder = userQuery({
  permission: "posts.read",
  args: {},
  returns: v.object({ reads: v.number(), roles: v.array(v.string()) }),
  handler: async (ctx) => {
    const { roles } = await authz.authorize(ctx, { permission: "posts.read" });
    await ctx.authz.require("posts.read");
    const metrics = await ctx.meta.getTransactionMetrics();
    return { reads: metrics.documentsRead.used, roles };
  },
});

const greetingQuery = authz.query(
  query,
  customCtx(async (ctx) => ({ greeting: `hello ${ctx.user.actorId}` })),
);
export const greet = greetingQuery({
  permission: "posts.read",
  args: {},
  returns: v.string(),
  handler: async (ctx) => ctx.greeting,
});

function errorData(e: unknown): Record<string, unknown> {
  expect(e).toBeInstanceOf(ConvexError);
  return (e as ConvexError<Record<string, string>>).data;
}

async function rejects(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    return errorData(e);
  }
  throw new Error("expected a rejection");
}

const lines = captureLogs();
fakeClock("2026-01-01T00:00:00Z");

const setup = () =>
  opskitTest({ "./builders.test.ts": async () => self }, schema);
const denies = () => lines.filter((l) => l.event === "authz.deny");

describe("identity", () => {
  test("nobody signed in gets UNAUTHENTICATED and a deny log", async () => {
    const t = setup();
    const data = await rejects(t.query(api.whoAmI, {}));
    expect(data.code).toBe("UNAUTHENTICATED");
    expect(denies()).toEqual([
      expect.objectContaining({ reason: "unauthenticated", actorId: null }),
    ]);
  });

  test("identity comes from ctx.auth, never from a userId in args", async () => {
    const t = setup();
    await t.mutation(api.grant, { userId: "boss", role: "admin" });
    const me = await t
      .withIdentity({ subject: "user1", tokenIdentifier: "user1" })
      .query(api.whoAmI, { userId: "boss" });
    expect(me).toEqual({ id: "user1", kind: "user" });
    const data = await rejects(
      t
        .withIdentity({ subject: "user1", tokenIdentifier: "user1" })
        .mutation(api.deletePost, { teamId: "1" }),
    );
    expect(data.code).toBe("FORBIDDEN");
  });
});

describe("permissions and scopes", () => {
  test("FORBIDDEN says which permission and scope were needed and the caller's roles only", async () => {
    const t = setup();
    await t.mutation(api.grant, {
      userId: "u1",
      role: "viewer",
      scope: "team:42",
    });
    await t.mutation(api.grant, { userId: "other", role: "admin" });
    const data = await rejects(
      t
        .withIdentity({ subject: "u1", tokenIdentifier: "u1" })
        .mutation(api.editPost, { teamId: "42", text: "x" }),
    );
    expect(data).toEqual({
      code: "FORBIDDEN",
      message: 'Missing permission "posts.write" for scope "team:42"',
      permission: "posts.write",
      scope: "team:42",
      roles: ["viewer"],
    });
    expect(denies()).toEqual([
      {
        event: "authz.deny",
        functionName: "builders.test:editPost",
        actorId: "u1",
        actorKind: "user",
        reason: "missing_permission",
        permission: "posts.write",
        scope: "team:42",
      },
    ]);
  });

  test("a scoped grant works in its scope only; a global grant works everywhere", async () => {
    const t = setup();
    const u1 = t.withIdentity({ subject: "u1", tokenIdentifier: "u1" });
    await t.mutation(api.grant, {
      userId: "u1",
      role: "editor",
      scope: "team:42",
    });
    await u1.mutation(api.editPost, { teamId: "42", text: "ok" });
    const data = await rejects(
      u1.mutation(api.editPost, { teamId: "7", text: "no" }),
    );
    expect(data).toMatchObject({
      code: "FORBIDDEN",
      scope: "team:7",
      roles: [],
    });
    await t.mutation(api.grant, { userId: "u1", role: "editor" });
    await u1.mutation(api.editPost, { teamId: "7", text: "now ok" });
    const logs = await t.run((ctx) => ctx.db.query("logs").collect());
    expect(logs.map((l) => l.text)).toEqual(["u1:ok", "u1:now ok"]);
  });

  test("wildcards: '*' covers everything, 'posts.*' covers posts only", async () => {
    const t = setup();
    await t.mutation(api.grant, { userId: "mod", role: "moderator" });
    await t.mutation(api.grant, { userId: "root", role: "admin" });
    await t.mutation(api.grant, { userId: "ed", role: "editor" });
    await t
      .withIdentity({ subject: "mod", tokenIdentifier: "mod" })
      .mutation(api.deletePost, { teamId: "1" });
    await t
      .withIdentity({ subject: "root", tokenIdentifier: "root" })
      .mutation(api.deletePost, { teamId: "1" });
    const data = await rejects(
      t
        .withIdentity({ subject: "ed", tokenIdentifier: "ed" })
        .mutation(api.deletePost, { teamId: "1" }),
    );
    expect(data).toMatchObject({
      code: "FORBIDDEN",
      permission: "posts.delete",
    });
    const roots = await t
      .withIdentity({ subject: "root", tokenIdentifier: "root" })
      .mutation(api.authorizeInMutation, {
        permission: "members.manage",
      });
    expect(roots).toEqual({
      actorId: "root",
      actorKind: "user",
      roles: ["admin"],
    });
    const modData = await rejects(
      t
        .withIdentity({ subject: "mod", tokenIdentifier: "mod" })
        .mutation(api.authorizeInMutation, {
          permission: "members.manage",
        }),
    );
    expect(modData.code).toBe("FORBIDDEN");
  });

  test("a denial is logged even though the mutation's writes roll back", async () => {
    const t = setup();
    await t.mutation(api.grant, { userId: "ed", role: "editor" });
    await rejects(
      t
        .withIdentity({ subject: "ed", tokenIdentifier: "ed" })
        .mutation(api.deletePost, { teamId: "9" }),
    );
    expect(await t.run((ctx) => ctx.db.query("logs").collect())).toEqual([]);
    expect(denies()).toEqual([
      expect.objectContaining({
        functionName: "builders.test:deletePost",
        actorId: "ed",
        permission: "posts.delete",
        scope: "team:9",
      }),
    ]);
  });

  test("expired grants stop working without any write", async () => {
    const t = setup();
    const inOneHour = Date.now() + 3_600_000;
    await t.mutation(api.grant, {
      userId: "tmp",
      role: "editor",
      expiresAt: inOneHour,
    });
    const tmp = t.withIdentity({ subject: "tmp", tokenIdentifier: "tmp" });
    await tmp.mutation(api.editPost, { teamId: "1", text: "in time" });
    vi.setSystemTime(inOneHour + 1);
    const data = await rejects(
      tmp.mutation(api.editPost, { teamId: "1", text: "late" }),
    );
    expect(data).toMatchObject({ code: "FORBIDDEN", roles: [] });
    expect(await t.query(api.listRoles, { userId: "tmp" })).toEqual([]);
  });

  test("revoke takes effect on the next request", async () => {
    const t = setup();
    const u = t.withIdentity({ subject: "u", tokenIdentifier: "u" });
    await t.mutation(api.grant, {
      userId: "u",
      role: "editor",
      scope: "team:1",
    });
    await u.mutation(api.editPost, { teamId: "1", text: "a" });
    expect(
      await t.mutation(api.revoke, {
        userId: "u",
        role: "editor",
        scope: "team:1",
      }),
    ).toMatchObject({
      revoked: true,
    });
    await rejects(u.mutation(api.editPost, { teamId: "1", text: "b" }));
    expect(
      await t.mutation(api.revoke, {
        userId: "u",
        role: "editor",
        scope: "team:1",
      }),
    ).toEqual({ revoked: false, writes: 0 });
  });

  test("a role's definition lives in code: a new definition applies to existing holders", async () => {
    const t = setup();
    await t.mutation(api.grant, { userId: "ed", role: "editor" });
    expect(await t.query(api.canCheck, { userId: "ed" })).toBe(true);
    // The same component read by a redeployed app whose editor lost posts.write.
    const { Authz } = await import("convex-opskit/authz");
    const { components } = await import("../helpers.js");
    const redeployed = new Authz(components.authz, {
      roles: { editor: ["posts.read"] },
    });
    const can = await t.run((ctx) =>
      redeployed.can(ctx, { userId: "ed", permission: "posts.read" }),
    );
    expect(can).toBe(true);
    const canWrite = await t.run((ctx) =>
      // @ts-expect-error posts.write is no longer a permission of this config
      redeployed.can(ctx, { userId: "ed", permission: "posts.write" }),
    );
    expect(canWrite).toBe(false);
  });

  test("granting inside a request is visible to later checks in that request", async () => {
    const t = setup();
    expect(
      await t
        .withIdentity({ subject: "self", tokenIdentifier: "self" })
        .mutation(api.grantThenCheck, {}),
    ).toEqual([false, true]);
  });

  test("a customization stacked on top sees ctx.user", async () => {
    const t = setup();
    await t.mutation(api.grant, { userId: "v", role: "viewer" });
    expect(
      await t
        .withIdentity({ subject: "v", tokenIdentifier: "v" })
        .query(api.greet, {}),
    ).toBe("hello v");
    await rejects(
      t
        .withIdentity({ subject: "w", tokenIdentifier: "w" })
        .query(api.greet, {}),
    );
  });

  test("actions are checked too", async () => {
    const t = setup();
    await t.mutation(api.grant, { userId: "ed", role: "editor" });
    expect(
      await t
        .withIdentity({ subject: "ed", tokenIdentifier: "ed" })
        .action(api.actionWithPermission, {}),
    ).toBe("ed may write");
    expect(
      (
        await rejects(
          t
            .withIdentity({ subject: "v", tokenIdentifier: "v" })
            .action(api.actionWithPermission, {}),
        )
      ).code,
    ).toBe("FORBIDDEN");
    expect((await rejects(t.action(api.actionWithPermission, {}))).code).toBe(
      "UNAUTHENTICATED",
    );
  });
});

describe("cost", () => {
  test.each([1, 10, 50])(
    "a request with %i grants and 20 checks reads exactly 1 document",
    async (n) => {
      const t = setup();
      const roles = ["editor", "viewer", "moderator"];
      for (let i = 0; i < n; i++)
        await t.mutation(api.grant, {
          userId: "busy",
          role: roles[i % 3],
          scope: i === 0 ? undefined : `team:${i}`,
        });
      const r = await t
        .withIdentity({ subject: "busy", tokenIdentifier: "busy" })
        .query(api.manyChecks, { checks: 20 });
      expect(r.allowed).toBe(20);
      expect(r.reads).toBe(1);
    },
  );

  test("authorize() inside a builder reuses the request's grants", async () => {
    const t = setup();
    await t.mutation(api.grant, { userId: "v", role: "viewer" });
    const r = await t
      .withIdentity({ subject: "v", tokenIdentifier: "v" })
      .query(api.authorizeInsideBuilder, {});
    expect(r).toEqual({ reads: 1, roles: ["viewer"] });
  });

  test("grant and revoke write exactly 2 documents", async () => {
    const t = setup();
    // A user's first grant creates both documents.
    expect(
      await t.mutation(api.grant, { userId: "fresh", role: "viewer" }),
    ).toEqual({ created: true, writes: 2 });
    for (let i = 0; i < 20; i++)
      await t.mutation(api.grant, {
        userId: "x",
        role: "viewer",
        scope: `team:${i}`,
      });
    const g = await t.mutation(api.grant, {
      userId: "x",
      role: "editor",
      scope: "team:99",
    });
    expect(g.created).toBe(true);
    expect(g.writes).toBe(2);
    const again = await t.mutation(api.grant, {
      userId: "x",
      role: "editor",
      scope: "team:99",
    });
    expect(again.created).toBe(false);
    expect(again.writes).toBe(2);
    const r = await t.mutation(api.revoke, {
      userId: "x",
      role: "editor",
      scope: "team:99",
    });
    expect(r.revoked).toBe(true);
    expect(r.writes).toBe(2);
  });
});

describe("grants: listing and bad input", () => {
  test("lists a user's roles and a scope's members, without expired grants", async () => {
    const t = setup();
    const soon = Date.now() + 1000;
    await t.mutation(api.grant, {
      userId: "a",
      role: "editor",
      scope: "team:1",
    });
    await t.mutation(api.grant, {
      userId: "b",
      role: "viewer",
      scope: "team:1",
    });
    await t.mutation(api.grant, {
      userId: "c",
      role: "viewer",
      scope: "team:1",
      expiresAt: soon,
    });
    await t.mutation(api.grant, {
      userId: "d",
      role: "viewer",
      scope: "team:2",
    });
    await t.mutation(api.grant, { userId: "a", role: "admin" });
    expect(await t.query(api.listRoles, { userId: "a" })).toEqual([
      { role: "editor", scope: "team:1" },
      { role: "admin" },
    ]);
    vi.setSystemTime(soon + 1);
    const first = await t.query(api.listMembers, {
      scope: "team:1",
      cursor: null,
    });
    const second = await t.query(api.listMembers, {
      scope: "team:1",
      cursor: first.continueCursor,
    });
    const members = [...first.page, ...second.page];
    expect(members).toEqual([
      { userId: "a", role: "editor" },
      { userId: "b", role: "viewer" },
    ]);
    expect((await t.query(api.listMembers, { cursor: null })).page).toEqual([
      { userId: "a", role: "admin" },
    ]);
  });

  test.each([
    ["an unknown role", { userId: "u", role: "superuser" }],
    ["an empty scope", { userId: "u", role: "editor", scope: "" }],
    ["a scope without kind", { userId: "u", role: "editor", scope: "team42" }],
    ["a scope with spaces", { userId: "u", role: "editor", scope: "team: 42" }],
    [
      "an expiry in the past",
      {
        userId: "u",
        role: "editor",
        expiresAt: Date.parse("2025-12-31T23:59:59Z"),
      },
    ],
    [
      "an expiry of now",
      {
        userId: "u",
        role: "editor",
        expiresAt: Date.parse("2026-01-01T00:00:00Z"),
      },
    ],
    ["an empty user id", { userId: "", role: "editor" }],
  ])("granting %s is INVALID_ARGUMENT and writes nothing", async (_, args) => {
    const t = setup();
    const data = await rejects(t.mutation(api.grant, args));
    expect(data.code).toBe("INVALID_ARGUMENT");
    const written = await t.run(async (ctx) =>
      ctx.runQuery(authz.component.grants.getUserGrants, {
        userId: args.userId || "u",
      }),
    );
    expect(written).toEqual([]);
    expect(lines.filter((l) => l.event === "authz.grant")).toEqual([]);
  });

  test("a malformed scope in a check is INVALID_ARGUMENT, not a silent deny", async () => {
    const t = setup();
    await t.mutation(api.grant, { userId: "ed", role: "editor" });
    const data = await rejects(
      t
        .withIdentity({ subject: "ed", tokenIdentifier: "ed" })
        .mutation(api.editPost, { teamId: " 1", text: "x" }),
    );
    expect(data.code).toBe("INVALID_ARGUMENT");
  });
});

describe("grant and revoke log lines", () => {
  test("name the function that granted or revoked, like every other event", async () => {
    const t = setup();
    await t.mutation(api.grant, { userId: "ed", role: "editor" });
    await t.mutation(api.revoke, { userId: "ed", role: "editor" });
    expect(
      lines.filter(
        (l) => l.event === "authz.grant" || l.event === "authz.revoke",
      ),
    ).toEqual([
      expect.objectContaining({
        event: "authz.grant",
        functionName: "builders.test:grant",
        userId: "ed",
        role: "editor",
      }),
      expect.objectContaining({
        event: "authz.revoke",
        functionName: "builders.test:revoke",
        userId: "ed",
        role: "editor",
      }),
    ]);
  });
});

describe("ctx.user", () => {
  test("is { actorId, actorKind } plus the deprecated id/kind with the same values", async () => {
    const t = setup();
    expect(
      await t
        .withIdentity({ subject: "user1", tokenIdentifier: "user1" })
        .query(api.actorFields, {}),
    ).toEqual({
      actorId: "user1",
      actorKind: "user",
      id: "user1",
      kind: "user",
    });
    expect(
      await t.mutation(api.serviceActorFields, { serviceKey: INGEST_KEY }),
    ).toEqual({
      actorId: "ingest",
      actorKind: "service",
      id: "ingest",
      kind: "service",
    });
  });
});

describe("service callers", () => {
  test("a valid key acts as a service with its configured roles", async () => {
    const t = setup();
    expect(
      await t.mutation(api.ingest, { serviceKey: INGEST_KEY, text: "hi" }),
    ).toEqual({
      id: "ingest",
      kind: "service",
    });
    const data = await rejects(
      t.mutation(api.ingestDelete, { serviceKey: INGEST_KEY }),
    );
    expect(data).toMatchObject({ code: "FORBIDDEN", roles: ["editor"] });
    expect(denies()).toEqual([
      expect.objectContaining({
        actorId: "ingest",
        actorKind: "service",
        permission: "posts.delete",
      }),
    ]);
  });

  test.each([
    ["a wrong key", "nope"],
    ["the key with its last character changed", INGEST_KEY.slice(0, -1) + "x"],
    ["a prefix of the key", INGEST_KEY.slice(0, 5)],
    ["the key plus a suffix", INGEST_KEY + "0"],
    ["an empty key (matches no unset secret)", ""],
  ])("%s is UNAUTHENTICATED and writes nothing", async (_, key) => {
    const t = setup();
    const data = await rejects(
      t.mutation(api.ingest, { serviceKey: key, text: "x" }),
    );
    expect(data.code).toBe("UNAUTHENTICATED");
    expect(await t.run((ctx) => ctx.db.query("logs").collect())).toEqual([]);
    expect(denies()).toEqual([
      expect.objectContaining({ reason: "invalid_service_key" }),
    ]);
  });

  test("authorize() inside a service function sees the service", async () => {
    const t = setup();
    expect(
      await t.mutation(api.ingestAuthorize, { serviceKey: INGEST_KEY }),
    ).toEqual({ actorId: "ingest", actorKind: "service", roles: ["editor"] });
  });

  test("a signed-in user cannot stand in for a service", async () => {
    const t = setup();
    await t.mutation(api.grant, { userId: "ingest", role: "admin" });
    const data = await rejects(
      t
        .withIdentity({ subject: "ingest", tokenIdentifier: "ingest" })
        .mutation(api.ingest, { serviceKey: "x", text: "x" }),
    );
    expect(data.code).toBe("UNAUTHENTICATED");
  });
});

describe("authorize() for other wrappers", () => {
  test("authenticates, checks, and reports roles for the scope", async () => {
    const t = setup();
    await t.mutation(api.grant, {
      userId: "u",
      role: "editor",
      scope: "team:3",
    });
    await t.mutation(api.grant, { userId: "u", role: "viewer" });
    const u = t.withIdentity({ subject: "u", tokenIdentifier: "u" });
    expect(await u.mutation(api.authorizeInMutation, {})).toEqual({
      actorId: "u",
      actorKind: "user",
      roles: ["viewer"],
    });
    expect(
      await u.mutation(api.authorizeInMutation, {
        permission: "posts.write",
        scope: "team:3",
      }),
    ).toEqual({ actorId: "u", actorKind: "user", roles: ["editor", "viewer"] });
    const data = await rejects(
      u.mutation(api.authorizeInMutation, { permission: "posts.write" }),
    );
    expect(data).toMatchObject({
      code: "FORBIDDEN",
      permission: "posts.write",
      scope: null,
    });
    expect(denies()).toEqual([
      expect.objectContaining({ functionName: "admin:doThing" }),
    ]);
    expect((await rejects(t.mutation(api.authorizeInMutation, {}))).code).toBe(
      "UNAUTHENTICATED",
    );
  });

  test("accepts a service key and works in actions", async () => {
    const t = setup();
    expect(
      await t.mutation(api.authorizeInMutation, {
        serviceKey: INGEST_KEY,
        permission: "posts.write",
      }),
    ).toEqual({ actorId: "ingest", actorKind: "service", roles: ["editor"] });
    await t.mutation(api.grant, { userId: "ed", role: "editor" });
    expect(
      await t
        .withIdentity({ subject: "ed", tokenIdentifier: "ed" })
        .action(api.authorizeInAction, { permission: "posts.write" }),
    ).toMatchObject({ actorId: "ed" });
    expect(
      (
        await rejects(
          t
            .withIdentity({ subject: "no", tokenIdentifier: "no" })
            .action(api.authorizeInAction, { permission: "posts.write" }),
        )
      ).code,
    ).toBe("FORBIDDEN");
  });
});
