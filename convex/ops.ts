/**
 * The admin console's server side, in one call: every function
 * `<OpsConsole api={api.ops} />` needs, guarded by authz and audited.
 */
import { ConvexError } from "convex/values";
import { opsApi, type OpsFunctions } from "convex-opskit/ops";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { syncGlobalRole } from "./admin";
import { auditLog } from "./audit";
import { authz } from "./authz";
import { rateLimiter } from "./limits";
import { migrations } from "./migrations";

const ops: OpsFunctions = opsApi({
  authz,
  auditLog,
  rateLimiter,
  migrations: {
    instance: migrations,
    list: [internal.migrations.backfillWordCount],
  },
  revertTables: ["users", "posts"],
  // users.role drives the global grants: follow a reverted row, and keep
  // making or unmaking an admin to holders of "users.assignAdmin".
  afterRevert: async (ctx, { entries }) => {
    for (const entry of entries) {
      if (entry.table !== "users") continue;
      const user = await ctx.db.get("users", entry.docId as Id<"users">);
      if (user === null) continue;
      const touchesAdmin =
        user.role === "admin" ||
        (entry.after as { role?: string } | null)?.role === "admin";
      if (
        touchesAdmin &&
        !(await authz.can(ctx, {
          userId: ctx.audit.actor.actorId,
          permission: "users.assignAdmin",
        }))
      )
        throw new ConvexError({
          code: "FORBIDDEN",
          message:
            'this revert makes or unmakes an admin, which needs "users.assignAdmin"',
          permission: "users.assignAdmin",
        });
      await syncGlobalRole(ctx, user.userId, user.role);
    }
  },
});

export const {
  opsConfig,
  auditTrail,
  auditOperations,
  auditOperation,
  auditVerify,
  auditRevert,
  migrationsStatus,
  migrationReport,
  migrationRun,
  migrationControl,
  rateLimitValue,
  rateLimitReset,
  roleMembers,
  userGrants,
  grantRole,
  revokeRole,
} = ops;
