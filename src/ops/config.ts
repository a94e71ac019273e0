/**
 * `opsConfig`: what the signed-in user may do in the console, and the names it offers.
 */
import type { GenericDataModel } from "convex/server";
import { mayAssign } from "./grants.js";
import { vOpsConfig } from "./validators.js";
import type { OpsDeps } from "./deps.js";
import type { OpsSection } from "./options.js";

/** `opsConfig` of {@link opsApi} (any signed-in user: it says what each may do). */
export function configSection<
  DataModel extends GenericDataModel,
  Perm extends string,
>(deps: OpsDeps<DataModel, Perm>) {
  const opsConfig = deps.userQuery({
    args: {},
    returns: vOpsConfig,
    handler: async (ctx) => {
      const can = Object.fromEntries(
        await Promise.all(
          (Object.keys(deps.perm) as OpsSection[]).map(
            async (s) => [s, await ctx.authz.can(deps.perm[s])] as const,
          ),
        ),
      ) as Record<OpsSection, boolean>;
      const grants = await deps.authz.listRoles(ctx, {
        userId: ctx.user.actorId,
      });
      const now = Date.now();
      const reason = deps.auditLog.options.reason;
      // Names are shown only to those who may use the section they belong to.
      return {
        actorId: ctx.user.actorId,
        can,
        permissions: deps.perm,
        tables: can.read ? ([...deps.options.revertTables] as string[]) : [],
        migrations: can.migrations ? [...deps.migrationRefs.keys()] : [],
        rateLimits: can.rateLimits
          ? Object.entries(deps.limits).map(([name, c]) => ({
              name,
              kind: c.kind,
            }))
          : [],
        roles: can.users
          ? [...deps.roles.keys()].map((name) => ({
              name,
              assignable: mayAssign(deps.roles, grants, name, undefined, now),
            }))
          : [],
        reason: {
          minLength: reason?.minLength ?? 10,
          ...(reason?.patternHint ? { hint: reason.patternHint } : {}),
        },
      };
    },
  });

  return { opsConfig };
}
