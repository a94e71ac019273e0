/**
 * The examples of docs/authz.md, as code that runs: same calls, same shapes.
 * (`query`/`mutation`/`components` stand in for the app's `_generated` ones.)
 */
import {
  anyApi,
  defineApp,
  defineSchema,
  defineTable,
  internalMutationGeneric,
  mutationGeneric,
  paginationOptsValidator,
  queryGeneric,
  actionGeneric,
  type ActionBuilder,
  type DataModelFromSchemaDefinition,
  type MutationBuilder,
  type QueryBuilder,
} from "convex/server";
import { ConvexError, v } from "convex/values";
import { Authz, defineRules, userIdFromSubject } from "convex-opskit/authz";
import authzConfig from "convex-opskit/authz/convex.config";
import { beforeAll, describe, expect, test } from "vitest";
import { components, opskitTest } from "../helpers.js";
// Vite's import.meta.glob leaves out the importing file, so the module adds itself.
import * as self from "./readme.test.js";

const schema = defineSchema({
  posts: defineTable({
    teamId: v.string(),
    authorId: v.string(),
    body: v.string(),
    published: v.boolean(),
  }).index("by_team", ["teamId"]),
});
type DataModel = DataModelFromSchemaDefinition<typeof schema>;
const query = queryGeneric as QueryBuilder<DataModel, "public">;
const mutation = mutationGeneric as MutationBuilder<DataModel, "public">;
const action = actionGeneric as ActionBuilder<DataModel, "public">;
const internalMutation = internalMutationGeneric as MutationBuilder<
  DataModel,
  "internal"
>;

// --- docs: convex/authz.ts
const rules = defineRules<DataModel>({
  posts: {
    read: (ctx, post) => post.published || post.authorId === ctx.user.actorId,
    insert: (ctx, post) => post.authorId === ctx.user.actorId,
    modify: (ctx, before, after) =>
      before.authorId === ctx.user.actorId &&
      after.authorId === ctx.user.actorId,
    delete: async (ctx, post) =>
      post.authorId === ctx.user.actorId ||
      (await ctx.authz.can("posts.delete", { scope: `team:${post.teamId}` })),
  },
});

export const authz = new Authz(components.authz, {
  roles: {
    viewer: ["posts.read"],
    editor: ["posts.read", "posts.write"],
    admin: ["*"],
  },
  permissions: ["posts.read", "posts.write", "posts.delete", "members.manage"],
  rules,
  services: {
    importer: { key: () => process.env.IMPORTER_KEY, roles: ["editor"] },
  },
});

export const userQuery = authz.query(query);
export const userMutation = authz.mutation(mutation);
export const userAction = authz.action(action);
export const serviceMutation = authz.serviceMutation(mutation);

// --- docs: convex/posts.ts
export const createPost = userMutation({
  permission: "posts.write",
  scope: (args) => `team:${args.teamId}`,
  args: { teamId: v.string(), body: v.string() },
  returns: v.id("posts"),
  handler: async (ctx, args) =>
    await ctx.db.insert("posts", {
      teamId: args.teamId,
      body: args.body,
      authorId: ctx.user.actorId,
      published: false,
    }),
});

export const editPost = userMutation({
  permission: "posts.write",
  scope: (args) => `team:${args.teamId}`,
  args: { teamId: v.string(), postId: v.id("posts"), body: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    // The row rules let only the author change the post.
    await ctx.db.patch("posts", args.postId, { body: args.body });
    return null;
  },
});

export const deletePost = userMutation({
  args: { postId: v.id("posts") },
  returns: v.null(),
  handler: async (ctx, args) => {
    await ctx.db.delete("posts", args.postId);
    return null;
  },
});

export const teamPosts = userQuery({
  permission: "posts.read",
  scope: (args) => `team:${args.teamId}`,
  args: { teamId: v.string() },
  returns: v.array(v.object({ body: v.string(), authorId: v.string() })),
  handler: async (ctx, args) => {
    // Other people's drafts are filtered out by the read rule.
    const posts = await ctx.db
      .query("posts")
      .withIndex("by_team", (q) => q.eq("teamId", args.teamId))
      .collect();
    return posts.map((p) => ({ body: p.body, authorId: p.authorId }));
  },
});

// --- docs: convex/members.ts
export const addMember = userMutation({
  permission: "members.manage",
  scope: (args) => `team:${args.teamId}`,
  args: {
    teamId: v.string(),
    userId: v.string(),
    role: v.union(v.literal("viewer"), v.literal("editor")),
    expiresAt: v.optional(v.number()),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    await authz.grant(ctx, {
      userId: args.userId,
      role: args.role,
      scope: `team:${args.teamId}`,
      expiresAt: args.expiresAt,
    });
    return null;
  },
});

export const removeMember = userMutation({
  permission: "members.manage",
  scope: (args) => `team:${args.teamId}`,
  args: {
    teamId: v.string(),
    userId: v.string(),
    role: v.union(v.literal("viewer"), v.literal("editor")),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    await authz.revoke(ctx, {
      userId: args.userId,
      role: args.role,
      scope: `team:${args.teamId}`,
    });
    return null;
  },
});

export const teamMembers = userQuery({
  permission: "members.manage",
  scope: (args) => `team:${args.teamId}`,
  args: { teamId: v.string(), paginationOpts: paginationOptsValidator },
  returns: v.object({
    page: v.array(
      v.object({
        userId: v.string(),
        role: v.string(),
        expiresAt: v.optional(v.number()),
      }),
    ),
    isDone: v.boolean(),
    continueCursor: v.string(),
  }),
  handler: async (ctx, args) =>
    await authz.listMembers(ctx, {
      scope: `team:${args.teamId}`,
      paginationOpts: args.paginationOpts,
    }),
});

export const myRoles = userQuery({
  args: {},
  returns: v.array(
    v.object({
      role: v.string(),
      scope: v.optional(v.string()),
      expiresAt: v.optional(v.number()),
    }),
  ),
  handler: async (ctx) =>
    await authz.listRoles(ctx, { userId: ctx.user.actorId }),
});

// Run once from the dashboard or CLI to create the first admin.
export const bootstrapAdmin = internalMutation({
  args: { userId: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    await authz.grant(ctx, { userId: args.userId, role: "admin" });
    return null;
  },
});

// --- docs: convex/imports.ts
export const importPost = serviceMutation({
  permission: "posts.write",
  args: { teamId: v.string(), body: v.string() },
  returns: v.id("posts"),
  handler: async (ctx, args) =>
    await ctx.db.insert("posts", {
      teamId: args.teamId,
      body: args.body,
      authorId: ctx.user.actorId, // "importer", recorded as a service
      published: true,
    }),
});

// --- docs: convex/authz.ts, keeping 0.1's user ids
export const legacyAuthz = new Authz(components.authz, {
  roles: { editor: ["posts.read", "posts.write"] },
  getUserId: userIdFromSubject,
});
const legacyQuery = legacyAuthz.query(query);
export const legacyWhoAmI = legacyQuery({
  permission: "posts.write",
  args: {},
  returns: v.string(),
  handler: async (ctx) => ctx.user.actorId,
});
export const legacyGrant = mutation({
  args: { userId: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId }) => {
    await legacyAuthz.grant(ctx, { userId, role: "editor" });
    return null;
  },
});

// --- docs: authorize() in a hand-written function
export const exportTeam = mutation({
  args: { teamId: v.string() },
  returns: v.string(),
  handler: async (ctx, args) => {
    const { actorId } = await authz.authorize(ctx, {
      permission: "members.manage",
      scope: `team:${args.teamId}`,
    });
    return actorId;
  },
});

const api = anyApi["readme.test"];
const setup = () =>
  opskitTest({ "./readme.test.ts": async () => self }, schema);

async function code(p: Promise<unknown>) {
  try {
    await p;
    return "OK";
  } catch (e) {
    return e instanceof ConvexError
      ? (e.data as { code: string }).code
      : String(e);
  }
}

beforeAll(() => {
  process.env.IMPORTER_KEY = "importer-secret-123";
});

describe("docs/authz.md examples", () => {
  test("the component's convex.config resolves from the package", () => {
    // app.use() itself needs the Convex bundler; convex/convex.config.ts does it.
    expect(typeof defineApp().use).toBe("function");
    expect(authzConfig).toHaveProperty("export");
  });

  test("a team's life: bootstrap, members, posts, row rules, service import", async () => {
    const t = setup();
    await t.mutation(api.bootstrapAdmin, { userId: "boss" });
    const boss = t.withIdentity({ subject: "boss", tokenIdentifier: "boss" });
    const ann = t.withIdentity({ subject: "ann", tokenIdentifier: "ann" });
    const bob = t.withIdentity({ subject: "bob", tokenIdentifier: "bob" });

    await boss.mutation(api.addMember, {
      teamId: "1",
      userId: "ann",
      role: "editor",
    });
    await boss.mutation(api.addMember, {
      teamId: "1",
      userId: "bob",
      role: "editor",
    });
    expect(await ann.query(api.myRoles, {})).toEqual([
      { role: "editor", scope: "team:1" },
    ]);
    expect(
      await code(
        ann.mutation(api.addMember, {
          teamId: "1",
          userId: "x",
          role: "editor",
        }),
      ),
    ).toBe("FORBIDDEN");

    const postId = await ann.mutation(api.createPost, {
      teamId: "1",
      body: "draft",
    });
    expect(
      await code(ann.mutation(api.createPost, { teamId: "2", body: "x" })),
    ).toBe("FORBIDDEN");
    // Bob may write in team 1 but the row rules keep him off Ann's post.
    expect(
      await code(
        bob.mutation(api.editPost, { teamId: "1", postId, body: "mine" }),
      ),
    ).toBe("FORBIDDEN");
    await ann.mutation(api.editPost, { teamId: "1", postId, body: "v2" });
    expect(await bob.query(api.teamPosts, { teamId: "1" })).toEqual([]);
    expect(await ann.query(api.teamPosts, { teamId: "1" })).toEqual([
      { body: "v2", authorId: "ann" },
    ]);

    const importedId = await t.mutation(api.importPost, {
      serviceKey: "importer-secret-123",
      teamId: "1",
      body: "imported",
    });
    expect(
      await code(
        t.mutation(api.importPost, {
          serviceKey: "guess",
          teamId: "1",
          body: "x",
        }),
      ),
    ).toBe("UNAUTHENTICATED");
    expect(
      (await bob.query(api.teamPosts, { teamId: "1" })).map(
        (p: { body: string }) => p.body,
      ),
    ).toEqual(["imported"]);

    const members = await boss.query(api.teamMembers, {
      teamId: "1",
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(members.page.map((m: { userId: string }) => m.userId)).toEqual([
      "ann",
      "bob",
    ]);
    await boss.mutation(api.removeMember, {
      teamId: "1",
      userId: "bob",
      role: "editor",
    });
    expect(await code(bob.query(api.teamPosts, { teamId: "1" }))).toBe(
      "FORBIDDEN",
    );

    // Delete: the author, or someone with posts.delete in the post's team.
    expect(await code(bob.mutation(api.deletePost, { postId }))).toBe(
      "FORBIDDEN",
    );
    await ann.mutation(api.deletePost, { postId });
    expect(
      await code(ann.mutation(api.deletePost, { postId: importedId })),
    ).toBe("FORBIDDEN");
    await boss.mutation(api.deletePost, { postId: importedId });
    expect(await boss.query(api.teamPosts, { teamId: "1" })).toEqual([]);
    expect(await boss.mutation(api.exportTeam, { teamId: "1" })).toBe("boss");
    expect(await code(ann.mutation(api.exportTeam, { teamId: "1" }))).toBe(
      "FORBIDDEN",
    );
  });

  test("which user id: tokenIdentifier by default, subject when chosen explicitly", async () => {
    const t = setup();
    const u1 = t.withIdentity({ subject: "u1", issuer: "https://idp.example" });
    await t.mutation(api.legacyGrant, { userId: "u1" });
    expect(await u1.query(api.legacyWhoAmI, {})).toBe("u1");
    // The default instance sees the same caller as "<issuer>|<subject>".
    await t.mutation(api.bootstrapAdmin, { userId: "https://idp.example|u1" });
    expect(await u1.mutation(api.exportTeam, { teamId: "1" })).toBe(
      "https://idp.example|u1",
    );
  });
});
