import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";

/** One grant inside a user's grant document. */
export const grantValidator = v.object({
  role: v.string(),
  scope: v.optional(v.string()),
  expiresAt: v.optional(v.number()),
});

export default defineSchema({
  // One document per user holding all their grants, so an authorization
  // check reads exactly one document however many roles the user has.
  userGrants: defineTable({
    userId: v.string(),
    grants: v.array(grantValidator),
    // When the earliest pending expiry job runs (expiry.ts); absent when none.
    expiryCheckAt: v.optional(v.number()),
  }).index("by_userId", ["userId"]),
  // One row per (scope, user, role), only to list a scope's members.
  // Global grants are stored under scope "" (user scopes always contain ":").
  members: defineTable({
    scope: v.string(),
    userId: v.string(),
    role: v.string(),
    expiresAt: v.optional(v.number()),
  }).index("by_scope_user_role", ["scope", "userId", "role"]),
});
