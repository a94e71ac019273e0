import { paginationOptsValidator } from "convex/server";
import { ConvexError, v } from "convex/values";
import { vEntry, vOperation, vPage } from "convex-opskit/auditLog";
import { adminMutation, auditLog } from "./audit";
import { authz, userAction, userQuery } from "./authz";

const vRole = v.union(
  v.literal("member"),
  v.literal("support"),
  v.literal("admin"),
);

/** Support changes a user's global role; the users row change is audited. */
export const setUserRole = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: { userId: v.id("users"), role: vRole },
  returns: v.null(),
  handler: async (ctx, { userId, role }) => {
    const user = await ctx.db.get("users", userId);
    if (user === null)
      throw new ConvexError({ code: "NOT_FOUND", message: "no such user" });
    if (user.role !== "member")
      await authz.revoke(ctx, { userId: user.userId, role: user.role });
    if (role !== "member")
      await authz.grant(ctx, { userId: user.userId, role });
    await ctx.db.patch("users", userId, { role });
    return null;
  },
});

/** A moderator fixes a post's title or body in place. */
export const fixPost = adminMutation({
  permission: "posts.moderate",
  scope: (args: { team: string }) => `team:${args.team}`,
  tables: ["posts"],
  args: {
    team: v.string(),
    postId: v.id("posts"),
    title: v.optional(v.string()),
    body: v.optional(v.string()),
  },
  returns: v.null(),
  handler: async (ctx, { team, postId, title, body }) => {
    const post = await ctx.db.get("posts", postId);
    if (post === null || post.teamId !== team)
      throw new ConvexError({
        code: "NOT_FOUND",
        message: "post not found in this team",
      });
    await ctx.db.patch("posts", postId, {
      ...(title !== undefined ? { title } : {}),
      ...(body !== undefined ? { body } : {}),
    });
    return null;
  },
});

/** A moderator removes every post of a spammer in a team, in one audited operation. */
export const removeSpam = adminMutation({
  permission: "posts.moderate",
  scope: (args: { team: string }) => `team:${args.team}`,
  tables: ["posts"],
  args: { team: v.string(), authorId: v.string() },
  returns: v.number(),
  handler: async (ctx, { team, authorId }) => {
    const posts = await ctx.db
      .query("posts")
      .withIndex("by_team", (q) => q.eq("teamId", team))
      .take(500);
    const spam = posts.filter((p) => p.authorId === authorId && !p.removed);
    for (const p of spam)
      await ctx.db.patch("posts", p._id, { removed: true, published: false });
    return spam.length;
  },
});

/** Undo an operation, as a new audited operation linked to it. */
export const revertOperation = adminMutation({
  permission: "audit.revert",
  tables: ["users", "posts"],
  args: { operationId: v.string() },
  returns: v.object({ reverted: v.number() }),
  handler: async (ctx, { operationId }) => {
    const result = await auditLog.revert(ctx, { operationId });
    return { reverted: result.revertedEntries };
  },
});

/** The audit trail of one table, newest first. */
export const auditTrail = userQuery({
  permission: "audit.read",
  args: {
    table: v.union(v.literal("users"), v.literal("posts")),
    paginationOpts: paginationOptsValidator,
  },
  returns: vPage(vEntry),
  handler: async (ctx, { table, paginationOpts }) =>
    await auditLog.list(ctx, { table, paginationOpts }),
});

/** Admin operations (who, which function, why), newest first. */
export const auditOperations = userQuery({
  permission: "audit.read",
  args: { paginationOpts: paginationOptsValidator },
  returns: vPage(vOperation),
  handler: async (ctx, { paginationOpts }) =>
    await auditLog.listOperations(ctx, { paginationOpts }),
});

/** Checks the sealed hash chain; operations not sealed yet are reported as pending. */
export const verifyAudit = userAction({
  permission: "audit.read",
  args: {},
  returns: v.object({
    ok: v.boolean(),
    checked: v.number(),
    pendingSeal: v.boolean(),
    problems: v.number(),
  }),
  handler: async (ctx) => {
    const result = await auditLog.verify(ctx, {});
    return {
      ok: result.ok,
      checked: result.checked,
      pendingSeal: result.pendingSeal,
      problems: result.problems.length,
    };
  },
});
