/**
 * The bodies of `Authz.grant`, `revoke`, `can`, `listRoles` and
 * `listMembers`: arguments checked here (nothing is written on a mistake),
 * then one call of the component.
 */
import type { PaginationOptions, PaginationResult } from "convex/server";
import type { RunMutationCtx, RunQueryCtx } from "../../shared/ctx.js";
import { opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { callerFields } from "../../shared/meta.js";
import type { Authz } from "../client.js";
import { hasPermission, type Grant } from "../shared/policy.js";
import type { Member } from "../shared/validators.js";
import { checkPermission, checkScope, invalidate } from "./checker.js";
import { checkUserId } from "./identity.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any instance, whatever its roles.
type AnyAuthz = Authz<any, any, any>;

/** Throws `INVALID_ARGUMENT` unless `role` is one of `authz`'s roles. */
function checkRole(authz: AnyAuthz, role: string) {
  if (!authz.compiled.has(role))
    throw opskitError(
      "INVALID_ARGUMENT",
      `Unknown role ${JSON.stringify(String(role).slice(0, 64))}; expected one of ${[...authz.compiled.keys()].join(", ")}`,
      { role: String(role).slice(0, 64) },
    );
}

/** Checks the arguments of `grant`/`revoke` before anything is written. */
function checkGrantArgs(
  authz: AnyAuthz,
  args: { userId: string; role: string; scope?: string },
) {
  checkRole(authz, args.role);
  checkScope(args.scope);
  checkUserId(args.userId);
}

/** The body of `Authz.grant`: see there. */
export async function grantRole(
  authz: AnyAuthz,
  ctx: RunMutationCtx,
  args: { userId: string; role: string; scope?: string; expiresAt?: number },
): Promise<{ created: boolean }> {
  checkGrantArgs(authz, args);
  const result = await ctx.runMutation(authz.component.grants.grantRole, {
    userId: args.userId,
    role: args.role,
    scope: args.scope,
    expiresAt: args.expiresAt,
  });
  invalidate(ctx, args.userId);
  logEvent("authz.grant", {
    ...(await callerFields(ctx)),
    userId: args.userId,
    role: args.role,
    scope: args.scope ?? null,
    expiresAt: args.expiresAt ?? null,
  });
  return result;
}

/** The body of `Authz.revoke`: see there. */
export async function revokeRole(
  authz: AnyAuthz,
  ctx: RunMutationCtx,
  args: { userId: string; role: string; scope?: string },
): Promise<{ revoked: boolean }> {
  checkGrantArgs(authz, args);
  const result = await ctx.runMutation(authz.component.grants.revokeRole, {
    userId: args.userId,
    role: args.role,
    scope: args.scope,
  });
  invalidate(ctx, args.userId);
  if (result.revoked)
    logEvent("authz.revoke", {
      ...(await callerFields(ctx)),
      userId: args.userId,
      role: args.role,
      scope: args.scope ?? null,
    });
  return result;
}

/** The body of `Authz.can`: see there. */
export async function userCan(
  authz: AnyAuthz,
  ctx: RunQueryCtx,
  args: { userId: string; permission: string; scope?: string },
): Promise<boolean> {
  const scope = checkScope(args.scope);
  checkPermission(args.permission);
  checkUserId(args.userId);
  const grants = await ctx.runQuery(authz.component.grants.getUserGrants, {
    userId: args.userId,
  });
  return hasPermission(
    authz.compiled,
    grants,
    args.permission,
    scope,
    Date.now(),
  );
}

/** The body of `Authz.listRoles`: see there. */
export async function listRoles(
  authz: AnyAuthz,
  ctx: RunQueryCtx,
  args: { userId: string },
): Promise<Grant[]> {
  checkUserId(args.userId);
  const now = Date.now();
  const grants = await ctx.runQuery(authz.component.grants.getUserGrants, {
    userId: args.userId,
  });
  return grants.filter((g) => g.expiresAt === undefined || g.expiresAt > now);
}

/** The body of `Authz.listMembers`: see there. */
export async function listMembers(
  authz: AnyAuthz,
  ctx: RunQueryCtx,
  args: { scope?: string; paginationOpts: PaginationOptions },
): Promise<PaginationResult<Member>> {
  checkScope(args.scope);
  return await ctx.runQuery(authz.component.grants.listMembers, {
    scope: args.scope,
    paginationOpts: args.paginationOpts,
  });
}
