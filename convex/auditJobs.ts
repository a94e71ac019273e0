import { v } from "convex/values";
import { internalMutation } from "./_generated/server";
import { auditLog } from "./audit";

/** Seals new audit operations into the hash chain (run by a cron). */
export const seal = internalMutation({
  args: {},
  returns: v.object({ sealed: v.number(), more: v.boolean() }),
  handler: async (ctx) => await auditLog.seal(ctx),
});
