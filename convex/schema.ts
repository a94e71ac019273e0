import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

/**
 * A small team workspace: users belong to teams and write posts there.
 * `posts.wordCount` is being introduced: it is optional until the
 * `backfillWordCount` migration has run everywhere.
 */
export default defineSchema({
  users: defineTable({
    /** The auth provider's subject: identity comes from ctx.auth only. */
    userId: v.string(),
    name: v.string(),
    email: v.string(),
    /** Display copy of the user's global role; the grant itself lives in authz. */
    role: v.union(
      v.literal("member"),
      v.literal("support"),
      v.literal("admin"),
    ),
    /** SHA-256 of the user id and PIN for the login-like check; never reaches the audit log. */
    pinHash: v.string(),
  }).index("by_userId", ["userId"]),
  teams: defineTable({
    slug: v.string(),
    name: v.string(),
  }).index("by_slug", ["slug"]),
  posts: defineTable({
    teamId: v.string(),
    authorId: v.string(),
    title: v.string(),
    body: v.string(),
    published: v.boolean(),
    removed: v.optional(v.boolean()),
    wordCount: v.optional(v.number()),
  }).index("by_team", ["teamId"]),
});
