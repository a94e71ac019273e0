/* eslint-disable @typescript-eslint/no-explicit-any -- a function definition's handler is generic over any Convex ctx and args. */
/**
 * The `permission` and `scope` options every authz builder takes (the `v`
 * builders of `../client.ts` and the zod ones of `../zod.ts`): checked when the
 * function is defined, enforced before its handler runs.
 */
import {
  checkPermissionOptions,
  definitionError,
} from "../../shared/definitions.js";
import { opskitError } from "../../shared/errors.js";
import { isPermissionName } from "../shared/policy.js";
import type { PermissionChecker } from "./ruleTypes.js";

/**
 * Checks a builder definition's `permission` and `scope` and returns the
 * definition without them, its handler first requiring the permission (in
 * the scope, computed from the arguments when a function) on `ctx.authz`.
 * Every mistake is an `INVALID_ARGUMENT` at definition time: no handler, a
 * malformed permission, a scope without a permission, or a scope that is
 * neither a string nor a function (`checkPermissionOptions`).
 */
export function guardDefinition(def: Record<string, any>): Record<string, any> {
  if (
    typeof def !== "object" ||
    def === null ||
    typeof def.handler !== "function"
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      "authz builders take { args, handler, ... }",
      { definition: "authz" },
    );
  const { permission, scope, handler, ...rest } = def;
  if (permission !== undefined && !isPermissionName(permission))
    throw definitionError(
      "authz",
      `malformed permission ${JSON.stringify(permission)}`,
    );
  checkPermissionOptions("authz", { permission, scope });
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
