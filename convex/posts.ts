import { ConvexError, v } from "convex/values";
import { zid } from "convex-helpers/server/zod4";
import { z } from "zod";
import { userMutation, userQuery, zUserMutation } from "./authz";
import { rateLimiter } from "./limits";

/** Words in a post body: what the `backfillWordCount` migration stores. */
export function countWords(body: string): number {
  const words = body.trim().split(/\s+/);
  return words[0] === "" ? 0 : words.length;
}

/** Longest post body accepted, in characters. */
export const MAX_BODY = 10_000;

// zod checks what `v` cannot: a title that is not blank, a body of bounded length.
export const create = zUserMutation({
  permission: "posts.write",
  scope: (args) => `team:${args.team}`,
  args: {
    team: z.string(),
    title: z.string().trim().min(1).max(200),
    body: z.string().max(MAX_BODY),
  },
  returns: zid("posts"),
  handler: async (ctx, args) => {
    await rateLimiter.limit(ctx, "createPost", {
      key: ctx.user.actorId,
      throws: true,
    });
    return await ctx.db.insert("posts", {
      teamId: args.team,
      authorId: ctx.user.actorId,
      title: args.title,
      body: args.body,
      published: true,
      wordCount: countWords(args.body),
    });
  },
});

export const edit = userMutation({
  permission: "posts.write",
  scope: (args) => `team:${args.team}`,
  args: { team: v.string(), postId: v.id("posts"), body: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const post = await ctx.db.get("posts", args.postId);
    if (post === null || post.teamId !== args.team) {
      throw new ConvexError({
        code: "NOT_FOUND",
        message: "post not found in this team",
      });
    }
    // The row rules let only the author change a post.
    await ctx.db.patch("posts", args.postId, {
      body: args.body,
      wordCount: countWords(args.body),
    });
    return null;
  },
});

export const list = userQuery({
  permission: "posts.read",
  scope: (args) => `team:${args.team}`,
  args: { team: v.string() },
  returns: v.array(
    v.object({
      id: v.id("posts"),
      title: v.string(),
      authorId: v.string(),
      body: v.string(),
    }),
  ),
  handler: async (ctx, args) => {
    const posts = await ctx.db
      .query("posts")
      .withIndex("by_team", (q) => q.eq("teamId", args.team))
      .take(100);
    return posts.map((p) => ({
      id: p._id,
      title: p.title,
      authorId: p.authorId,
      body: p.body,
    }));
  },
});
