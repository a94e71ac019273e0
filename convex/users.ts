import { ConvexError, v } from "convex/values";
import { authz, userMutation, userQuery } from "./authz";
import { rateLimiter } from "./limits";
import { hashPin } from "./pins";

/**
 * Creates the caller's profile and makes them a member of an existing team.
 * The user id is the signed-in identity's subject; nothing in args can
 * choose it. Teams are open in this example; a real app would check an
 * invitation here.
 */
export const signUp = userMutation({
  args: {
    name: v.string(),
    email: v.string(),
    team: v.string(),
    pin: v.string(),
  },
  returns: v.id("users"),
  handler: async (ctx, args) => {
    const existing = await ctx.db
      .query("users")
      .withIndex("by_userId", (q) => q.eq("userId", ctx.user.actorId))
      .unique();
    // A returning user costs nobody else a sign-up slot.
    if (existing !== null) return existing._id;
    const team = await ctx.db
      .query("teams")
      .withIndex("by_slug", (q) => q.eq("slug", args.team))
      .unique();
    if (team === null)
      throw new ConvexError({
        code: "NOT_FOUND",
        message: `no team "${args.team}"`,
      });
    await rateLimiter.limit(ctx, "signUp", { throws: true });
    const id = await ctx.db.insert("users", {
      userId: ctx.user.actorId,
      name: args.name,
      email: args.email,
      role: "member",
      pinHash: await hashPin(ctx.user.actorId, args.pin),
    });
    await authz.grant(ctx, {
      userId: ctx.user.actorId,
      role: "member",
      scope: `team:${args.team}`,
    });
    return id;
  },
});

/** The caller's own profile (the read rule hides everyone else's). */
export const me = userQuery({
  args: {},
  returns: v.union(
    v.null(),
    v.object({ name: v.string(), email: v.string(), role: v.string() }),
  ),
  handler: async (ctx) => {
    const user = await ctx.db
      .query("users")
      .withIndex("by_userId", (q) => q.eq("userId", ctx.user.actorId))
      .unique();
    return user && { name: user.name, email: user.email, role: user.role };
  },
});
