import { paginationOptsValidator } from "convex/server";
import { ConvexError, v } from "convex/values";
import { vEntry, vOperation, vPage } from "convex-opskit/auditLog";
import { zid } from "convex-helpers/server/zod4";
import { z } from "zod";
import { adminMutation, auditLog, zAdminMutation } from "./audit";
import { authz, userAction, userQuery } from "./authz";
import type { Id } from "./_generated/dataModel";
import type { MutationCtx } from "./_generated/server";

const vRole = v.union(
  v.literal("member"),
  v.literal("support"),
  v.literal("admin"),
);

type GlobalRole = "member" | "support" | "admin";

/**
 * `users.role` is the audited source of truth for a user's global role; the
 * authz grants follow it, so reverting the row (an audited operation) and
 * re-syncing restores the permissions too.
 */
export async function syncGlobalRole(
  ctx: MutationCtx,
  userId: string,
  role: GlobalRole,
) {
  const held = await authz.listRoles(ctx, { userId });
  for (const g of held)
    if (
      g.scope === undefined &&
      g.role !== role &&
      (g.role === "support" || g.role === "admin")
    )
      await authz.revoke(ctx, { userId, role: g.role });
  if (
    role !== "member" &&
    !held.some((g) => g.scope === undefined && g.role === role)
  )
    await authz.grant(ctx, { userId, role });
}

/**
 * Support changes another user's global role; the users row change is
 * audited. Nobody changes their own role, and only holders of
 * `users.assignAdmin` make or unmake admins.
 */
export const setUserRole = adminMutation({
  permission: "users.manage",
  tables: ["users"],
  args: { userId: v.id("users"), role: vRole },
  returns: v.null(),
  handler: async (ctx, { userId, role }) => {
    const user = await ctx.db.get("users", userId);
    if (user === null)
      throw new ConvexError({ code: "NOT_FOUND", message: "no such user" });
    const actorId = ctx.audit.actor.actorId;
    if (user.userId === actorId)
      throw new ConvexError({
        code: "FORBIDDEN",
        message: "you cannot change your own role",
      });
    if (
      (role === "admin" || user.role === "admin") &&
      !(await authz.can(ctx, {
        userId: actorId,
        permission: "users.assignAdmin",
      }))
    )
      throw new ConvexError({
        code: "FORBIDDEN",
        message: 'making or unmaking an admin needs "users.assignAdmin"',
        permission: "users.assignAdmin",
      });
    await ctx.db.patch("users", userId, { role });
    await syncGlobalRole(ctx, user.userId, role);
    return null;
  },
});

/** A moderator fixes a post's title or body in place. */
export const fixPost = zAdminMutation({
  permission: "posts.moderate",
  scope: (args) => `team:${args.team}`,
  tables: ["posts"],
  args: {
    team: z.string(),
    postId: zid("posts"),
    title: z.string().trim().min(1).max(200).optional(),
    body: z.string().optional(),
  },
  returns: z.null(),
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

/**
 * Undo an operation, as a new audited operation linked to it. Users whose
 * row it restores get their authz grants re-synced to the restored role.
 */
export const revertOperation = adminMutation({
  permission: "audit.revert",
  tables: ["users", "posts"],
  args: { operationId: v.string() },
  returns: v.object({ reverted: v.number() }),
  handler: async (ctx, { operationId }) => {
    const result = await auditLog.revert(ctx, { operationId });
    const original = await auditLog.getOperation(ctx, { operationId });
    for (const entry of original?.entries ?? []) {
      if (entry.table !== "users") continue;
      const user = await ctx.db.get("users", entry.docId as Id<"users">);
      if (user !== null) await syncGlobalRole(ctx, user.userId, user.role);
    }
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
