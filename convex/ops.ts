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
  // users.role shows each user's global role: a global grant or revoke made
  // from the console updates it in the same audited operation, as
  // admin:setUserRole does the other way round.
  roleChangeTables: ["users"],
  afterRoleChange: async (ctx, { userId, scope }) => {
    if (scope !== undefined) return;
    const global = new Set(
      (await authz.listRoles(ctx, { userId }))
        .filter((g) => g.scope === undefined)
        .map((g) => g.role),
    );
    const role = global.has("admin")
      ? "admin"
      : global.has("support")
        ? "support"
        : "member";
    const user = await ctx.db
      .query("users")
      .withIndex("by_userId", (q) => q.eq("userId", userId))
      .unique();
    if (user !== null && user.role !== role)
      await ctx.db.patch("users", user._id, { role });
  },
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

// Convex registers a module's named exports only, so each function opsApi
// returns is listed by name (a spread cannot be exported);
// test/ops/types.test.ts checks this list against opsApi's keys.
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
