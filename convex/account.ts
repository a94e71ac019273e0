import { v } from "convex/values";
import { userMutation } from "./authz";
import { rateLimiter } from "./limits";
import { hashPin, sameDigest } from "./pins";

/**
 * A login-like check: 3 attempts a minute, then 15 minutes of lock-out
 * (the penalty) whatever happens meanwhile. A wrong PIN returns rather than
 * throws, so the attempt stays counted.
 */
export const checkPin = userMutation({
  args: { pin: v.string() },
  returns: v.object({ ok: v.boolean(), retryAfter: v.optional(v.number()) }),
  handler: async (ctx, { pin }) => {
    const status = await rateLimiter.limit(ctx, "pinAttempt", {
      key: ctx.user.actorId,
    });
    if (!status.ok) return { ok: false, retryAfter: status.retryAfter };
    const user = await ctx.db
      .query("users")
      .withIndex("by_userId", (q) => q.eq("userId", ctx.user.actorId))
      .unique();
    if (
      user === null ||
      !sameDigest(user.pinHash, await hashPin(ctx.user.actorId, pin))
    )
      return { ok: false };
    await rateLimiter.reset(ctx, "pinAttempt", { key: ctx.user.actorId });
    return { ok: true };
  },
});
