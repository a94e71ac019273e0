// Ported from get-convex/migrations 0.3.6 (commit 35e143e),
// example/convex/schema.ts. Apache-2.0, Copyright Convex, Inc.
import { v } from "convex/values";
import { defineSchema, defineTable } from "convex/server";

export default defineSchema({
  // Any tables used by the example app go here.
  myTable: defineTable({
    requiredField: v.string(),
    optionalField: v.optional(v.string()),
    unionField: v.union(v.string(), v.number()),
  }).index("by_requiredField", ["requiredField"]),
});
