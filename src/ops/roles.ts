/**
 * The users section of `opsApi`: a scope's members, a user's grants, and
 * granting or revoking a role (never one's own, never more than one holds).
 */
import type { GenericDataModel } from "convex/server";
import { v } from "convex/values";
import type { AdminCtx } from "../auditLog/client.js";
import { clipped, opskitError, shown } from "../shared/errors.js";
import type { OpsDeps } from "./deps.js";
import { mayAssign } from "./grants.js";
import { vGrants, vMembersPage, vPaginationOpts } from "./validators.js";

/** The users section of {@link opsApi} (`permissions.users`). */
export function rolesSection<
  DataModel extends GenericDataModel,
  Perm extends string,
>(deps: OpsDeps<DataModel, Perm>) {
  const roleMembers = deps.userQuery({
    permission: deps.perm.users,
    args: { scope: v.optional(v.string()), paginationOpts: vPaginationOpts },
    returns: vMembersPage,
    handler: async (ctx, { scope, paginationOpts }) =>
      await deps.authz.listMembers(ctx, {
        ...(scope !== undefined ? { scope } : {}),
        paginationOpts: {
          numItems: deps.pageSize(paginationOpts.numItems),
          cursor: paginationOpts.cursor,
        },
      }),
  });

  const userGrants = deps.userQuery({
    permission: deps.perm.users,
    args: { userId: v.string() },
    returns: vGrants,
    handler: async (ctx, { userId }) =>
      await deps.authz.listRoles(ctx, { userId }),
  });

  /** Refuses self-service and escalation before any write. */
  async function checkAssign(
    ctx: AdminCtx<DataModel>,
    a: { userId: string; role: string; scope?: string },
  ) {
    const actorId = ctx.audit.actor.actorId;
    if (a.userId === actorId)
      throw opskitError(
        "FORBIDDEN",
        "you cannot change your own roles; ask another administrator",
      );
    if (!deps.roles.has(a.role))
      throw opskitError(
        "INVALID_ARGUMENT",
        `unknown role ${JSON.stringify(a.role.slice(0, 64))}; expected one of: ${[...deps.roles.keys()].join(", ")}`,
      );
    const grants = await deps.authz.listRoles(ctx, { userId: actorId });
    if (!mayAssign(deps.roles, grants, a.role, a.scope, Date.now()))
      throw opskitError(
        "FORBIDDEN",
        `role "${a.role}" allows more than you hold${a.scope ? ` in ${shown(a.scope)}` : ""}; only someone who holds all of it may grant or revoke it`,
        { role: a.role, ...(a.scope ? { scope: clipped(a.scope) } : {}) },
      );
  }

  // The grant's own tables, plus what afterRoleChange writes in the app.
  const roleTables = [
    ...deps.componentTables("authz"),
    ...(deps.options.roleChangeTables ?? []),
  ] as never;
  const pick = (a: { userId: string; role: string; scope?: string }) => ({
    userId: a.userId,
    role: a.role,
    ...(a.scope !== undefined ? { scope: a.scope } : {}),
  });

  /** Checks the change, applies it, then runs `afterRoleChange`, in one audited operation. */
  async function changeRole<R>(
    ctx: AdminCtx<DataModel>,
    action: "grant" | "revoke",
    a: { userId: string; role: string; scope?: string },
    apply: () => Promise<R>,
  ): Promise<R> {
    await checkAssign(ctx, a);
    const result = await apply();
    await deps.options.afterRoleChange?.(ctx, { action, ...pick(a) });
    return result;
  }
  const roleArgs = {
    userId: v.string(),
    role: v.string(),
    scope: v.optional(v.string()),
  };

  const grantRole = deps.admin({
    name: "ops:grantRole",
    permission: deps.perm.users,
    tables: roleTables,
    args: { ...roleArgs, expiresAt: v.optional(v.number()) },
    returns: v.object({ created: v.boolean() }),
    handler: async (ctx, a) =>
      await changeRole(ctx, "grant", a, () =>
        deps.authz.grant(ctx, a as never),
      ),
  });

  const revokeRole = deps.admin({
    name: "ops:revokeRole",
    permission: deps.perm.users,
    tables: roleTables,
    args: roleArgs,
    returns: v.object({ revoked: v.boolean() }),
    handler: async (ctx, a) =>
      await changeRole(ctx, "revoke", a, () =>
        deps.authz.revoke(ctx, a as never),
      ),
  });

  return { roleMembers, userGrants, grantRole, revokeRole };
}
