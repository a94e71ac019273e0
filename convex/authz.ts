/**
 * The only module that touches the raw `query`/`mutation`/`action` builders
 * (eslint forbids them elsewhere): every public function of the app is built
 * with the authenticated, permission-checked builders exported here.
 */
import { Authz, defineRules } from "convex-opskit/authz";
import { zAuthz } from "convex-opskit/authz/zod";
import { components } from "./_generated/api";
import type { DataModel } from "./_generated/dataModel";
import { action, mutation, query } from "./_generated/server";

const rules = defineRules<DataModel>({
  posts: {
    read: async (ctx, post) =>
      (post.published && !post.removed) ||
      post.authorId === ctx.user.id ||
      (await ctx.authz.can("posts.moderate", { scope: `team:${post.teamId}` })),
    insert: (ctx, post) => post.authorId === ctx.user.id,
    modify: (ctx, before, after) =>
      before.authorId === ctx.user.id && after.authorId === ctx.user.id,
    delete: (ctx, post) => post.authorId === ctx.user.id,
  },
  users: {
    read: async (ctx, user) =>
      user.userId === ctx.user.id || (await ctx.authz.can("users.manage")),
    insert: (ctx, user) =>
      user.userId === ctx.user.id && user.role === "member",
    modify: (ctx, before, after) =>
      before.userId === ctx.user.id &&
      after.userId === before.userId &&
      after.role === before.role,
  },
  teams: { read: () => true },
});

export const authz = new Authz(components.authz, {
  roles: {
    member: ["posts.read", "posts.write"],
    moderator: ["posts.*"],
    support: ["users.manage", "audit.read", "audit.revert"],
    admin: ["*"],
  },
  permissions: [
    "posts.read",
    "posts.write",
    "posts.moderate",
    "users.manage",
    "users.assignAdmin",
    "audit.read",
    "audit.revert",
    "migrations.run",
    "rateLimits.manage",
  ],
  rules,
});

export const userQuery = authz.query(query);
export const userMutation = authz.mutation(mutation);
export const userAction = authz.action(action);

/** The same builders with zod arguments, for checks `v` cannot express. */
const zodAuthz = zAuthz(authz);
export const zUserMutation = zodAuthz.mutation(mutation);
