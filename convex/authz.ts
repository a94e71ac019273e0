/**
 * The only module that touches the raw `query`/`mutation`/`action` builders
 * (eslint forbids them elsewhere): every public function of the app is built
 * with the authenticated, permission-checked builders exported here.
 */
import { Authz, defineRules, userIdFromSubject } from "convex-opskit/authz";
import { zAuthz } from "convex-opskit/authz/zod";
import { components } from "./_generated/api";
import type { DataModel } from "./_generated/dataModel";
import { action, mutation, query } from "./_generated/server";

const rules = defineRules<DataModel>({
  posts: {
    read: async (ctx, post) =>
      (post.published && !post.removed) ||
      post.authorId === ctx.user.actorId ||
      (await ctx.authz.can("posts.moderate", { scope: `team:${post.teamId}` })),
    insert: (ctx, post) => post.authorId === ctx.user.actorId,
    // Authors edit their own posts; moderators fix or remove posts of the
    // teams they moderate (the admin mutations in admin.ts run under these
    // rules too), never moving a post to another team or author.
    modify: async (ctx, before, after) =>
      after.authorId === before.authorId &&
      after.teamId === before.teamId &&
      (before.authorId === ctx.user.actorId ||
        (await ctx.authz.can("posts.moderate", {
          scope: `team:${before.teamId}`,
        }))),
    delete: (ctx, post) => post.authorId === ctx.user.actorId,
  },
  users: {
    read: async (ctx, user) =>
      user.userId === ctx.user.actorId || (await ctx.authz.can("users.manage")),
    insert: (ctx, user) =>
      user.userId === ctx.user.actorId && user.role === "member",
    // Users edit their own profile but not their role; holders of
    // users.manage (support, through the audited setUserRole) change roles.
    modify: async (ctx, before, after) =>
      after.userId === before.userId &&
      ((before.userId === ctx.user.actorId && after.role === before.role) ||
        (await ctx.authz.can("users.manage"))),
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
  // One auth provider, and the seed data names users by their subject, so
  // this app chooses `subject` explicitly. With more than one provider keep
  // the default (the identity's tokenIdentifier): subjects can collide.
  getUserId: userIdFromSubject,
});

export const userQuery = authz.query(query);
export const userMutation = authz.mutation(mutation);
export const userAction = authz.action(action);

/** The same builders with zod arguments, for checks `v` cannot express. */
const zodAuthz = zAuthz(authz);
export const zUserMutation = zodAuthz.mutation(mutation);
