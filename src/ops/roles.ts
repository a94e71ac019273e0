/**
 * The users section of `opsApi`: a scope's members, a user's grants, and granting or revoking a role (never one's own, never more than one holds).
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
  const {
    options,
    authz,
    roles,
    perm,
    userQuery,
    admin,
    componentTables,
    pageSize,
  } = deps;

  const roleMembers = userQuery({
    permission: perm.users,
    args: { scope: v.optional(v.string()), paginationOpts: vPaginationOpts },
    returns: vMembersPage,
    handler: async (ctx, { scope, paginationOpts }) =>
      await authz.listMembers(ctx, {
        ...(scope !== undefined ? { scope } : {}),
        paginationOpts: {
          numItems: pageSize(paginationOpts.numItems),
          cursor: paginationOpts.cursor,
        },
      }),
  });

  const userGrants = userQuery({
    permission: perm.users,
    args: { userId: v.string() },
    returns: vGrants,
    handler: async (ctx, { userId }) => await authz.listRoles(ctx, { userId }),
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
    if (!roles.has(a.role))
      throw opskitError(
        "INVALID_ARGUMENT",
        `unknown role ${JSON.stringify(a.role.slice(0, 64))}; expected one of: ${[...roles.keys()].join(", ")}`,
      );
    const grants = await authz.listRoles(ctx, { userId: actorId });
    if (!mayAssign(roles, grants, a.role, a.scope, Date.now()))
      throw opskitError(
        "FORBIDDEN",
        `role "${a.role}" allows more than you hold${a.scope ? ` in ${shown(a.scope)}` : ""}; only someone who holds all of it may grant or revoke it`,
        { role: a.role, ...(a.scope ? { scope: clipped(a.scope) } : {}) },
      );
  }

  // The grant's own tables, plus what afterRoleChange writes in the app.
  const roleTables = [
    ...componentTables("authz"),
    ...(options.roleChangeTables ?? []),
  ] as never;
  const pick = (a: { userId: string; role: string; scope?: string }) => ({
    userId: a.userId,
    role: a.role,
    ...(a.scope !== undefined ? { scope: a.scope } : {}),
  });

  const grantRole = admin({
    name: "ops:grantRole",
    permission: perm.users,
    tables: roleTables,
    args: {
      userId: v.string(),
      role: v.string(),
      scope: v.optional(v.string()),
      expiresAt: v.optional(v.number()),
    },
    returns: v.object({ created: v.boolean() }),
    handler: async (ctx, a) => {
      await checkAssign(ctx, a);
      const result = await authz.grant(ctx, a as never);
      await options.afterRoleChange?.(ctx, { action: "grant", ...pick(a) });
      return result;
    },
  });

  const revokeRole = admin({
    name: "ops:revokeRole",
    permission: perm.users,
    tables: roleTables,
    args: {
      userId: v.string(),
      role: v.string(),
      scope: v.optional(v.string()),
    },
    returns: v.object({ revoked: v.boolean() }),
    handler: async (ctx, a) => {
      await checkAssign(ctx, a);
      const result = await authz.revoke(ctx, a as never);
      await options.afterRoleChange?.(ctx, { action: "revoke", ...pick(a) });
      return result;
    },
  });

  return { roleMembers, userGrants, grantRole, revokeRole };
}
