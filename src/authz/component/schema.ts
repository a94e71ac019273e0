import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { vGrant } from "../shared/validators.js";

export default defineSchema({
  // One document per user holding all their grants, so an authorization
  // check reads exactly one document however many roles the user has.
  userGrants: defineTable({
    userId: v.string(),
    grants: v.array(vGrant),
    // Written by the per-user expiry jobs of the previous version (expiry.ts); no longer set.
    expiryCheckAt: v.optional(v.number()),
    // The earliest `expiresAt` among `grants`; absent when none expires (expiry.ts).
    nextExpiry: v.optional(v.number()),
  })
    .index("by_userId", ["userId"])
    .index("by_nextExpiry", ["nextExpiry"]),
  // At most one row: when the component's expiry sweep next runs (expiry.ts).
  expirySchedule: defineTable({
    at: v.number(),
    // How many sweeps were scheduled at the `Date.now()` `madeAt` (one transaction's clock).
    madeAt: v.number(),
    made: v.number(),
  }),
  // One row per (scope, user, role), only to list a scope's members.
  // Global grants are stored under scope "" (user scopes always contain ":").
  members: defineTable({
    scope: v.string(),
    userId: v.string(),
    role: v.string(),
    expiresAt: v.optional(v.number()),
  }).index("by_scope_user_role", ["scope", "userId", "role"]),
});
