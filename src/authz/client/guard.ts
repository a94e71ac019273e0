/* eslint-disable @typescript-eslint/no-explicit-any -- a function definition's handler is generic over any Convex ctx and args. */
/**
 * The `permission` and `scope` options every authz builder takes (the `v`
 * builders of `./client.ts` and the zod ones of `./zod.ts`): checked when the
 * function is defined, enforced before its handler runs.
 */
import { opskitError } from "../../shared/errors.js";
import { isPermissionName } from "../shared/policy.js";
import type { PermissionChecker } from "./rowRules.js";

/**
 * Checks a builder definition's `permission` and `scope` and returns the
 * definition without them, its handler first requiring the permission (in
 * the scope, computed from the arguments when a function) on `ctx.authz`.
 * `checkScopeType` also refuses, at definition, a `scope` that is neither a
 * string nor a function.
 */
export function guardDefinition(
  def: Record<string, any>,
  checkScopeType: boolean,
): Record<string, any> {
  if (typeof def !== "object" || typeof def.handler !== "function")
    throw new Error("authz builders take { args, handler, ... }");
  const { permission, scope, handler, ...rest } = def;
  if (permission !== undefined && !isPermissionName(permission))
    throw new Error(
      `authz: malformed permission ${JSON.stringify(permission)}`,
    );
  if (scope !== undefined && permission === undefined)
    throw new Error("authz: `scope` needs a `permission` to check");
  if (
    checkScopeType &&
    scope !== undefined &&
    typeof scope !== "string" &&
    typeof scope !== "function"
  )
    throw new Error(
      `authz: \`scope\` must be a string or a function of the arguments; got ${typeof scope}`,
    );
  return {
    ...rest,
    handler: async (ctx: any, args: any) => {
      if (permission !== undefined) {
        const resolved = typeof scope === "function" ? scope(args) : scope;
        if (scope !== undefined && typeof resolved !== "string")
          throw opskitError(
            "INVALID_ARGUMENT",
            "The function's scope resolved to no scope",
          );
        await (ctx.authz as PermissionChecker<string>).require(permission, {
          scope: resolved,
        });
      }
      return handler(ctx, args);
    },
  };
}
