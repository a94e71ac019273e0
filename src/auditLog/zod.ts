/* eslint-disable @typescript-eslint/no-explicit-any -- the definition is forwarded to the `v` builder, whose types it mirrors. */
/**
 * convex-opskit/auditLog/zod: `adminMutation` with zod arguments. Same
 * authorizer, `permission`, `scope` (computed from the parsed arguments),
 * `tables`, required `reason` and audit record as
 * `auditLog.adminMutation(authorizer)`; arguments failing a zod check are
 * refused with `INVALID_ARGUMENT` and nothing is written.
 *
 * Convex validators for the wire are derived from the zod ones
 * (`zodToConvexFields` of `convex-helpers/server/zod4`); the operation
 * records the arguments as the caller sent them.
 *
 * Needs `zod` (v4) and `convex-helpers` installed next to convex-opskit.
 *
 * @example
 * import { z } from "zod";
 * import { zAdminMutation } from "convex-opskit/auditLog/zod";
 * const adminMutation = zAdminMutation(auditLog, authz);
 * export const suspendUser = adminMutation({
 *   permission: "users.manage",
 *   tables: ["users"],
 *   args: { userId: zid("users"), days: z.number().int().min(1).max(90) },
 *   handler: async (ctx, args) => { ... },
 * });
 */
import {
  zodOutputToConvex,
  zodToConvexFields,
} from "convex-helpers/server/zod4";
import type {
  GenericDataModel,
  RegisteredMutation,
  TableNamesInDataModel,
} from "convex/server";
import * as z from "zod/v4";
import type * as zCore from "zod/v4/core";
import { definitionError } from "../shared/definitions.js";
import type {
  ZodArgs,
  ZodInputArgs,
  ZodParsedArgs,
} from "../shared/zodArgs.js";
import { invalidArgsError } from "../shared/zodIssues.js";
import type {
  AdminAuthorizer,
  AdminCtx,
  AuditLog,
  AuthorizeFunction,
} from "./client.js";

export type {
  ZodArgs,
  ZodInputArgs,
  ZodParsedArgs,
} from "../shared/zodArgs.js";

/** The definition of one zod admin mutation (see `AdminMutationDefinition`). */
export type ZodAdminMutationDefinition<
  DataModel extends GenericDataModel,
  Permission extends string,
  Args extends ZodArgs,
  Returns extends zCore.$ZodType | undefined,
  Result,
  Service extends boolean,
> = {
  /** The permission the authorizer checks (required with an authorizer object). */
  permission?: Permission;
  /** The scope `permission` is checked in, fixed or from the parsed arguments. */
  scope?: string | ((args: ZodParsedArgs<Args>) => string);
  /** The only tables this mutation may write. Any other write throws `FORBIDDEN`. */
  tables: readonly TableNamesInDataModel<DataModel>[];
  /** zod validators; `reason` is added for you and must not be declared. */
  args: Args;
  /** A zod validator of the result (recommended). */
  returns?: Returns;
  /** Names the function in the log when Convex cannot (defaults to its path). */
  name?: string;
  /** Extra argument names to redact for this mutation. */
  redactArgs?: readonly string[];
  /** Accept an optional `serviceKey` argument, passed to the authorizer. */
  acceptServiceKey?: Service;
  handler: (
    ctx: AdminCtx<DataModel>,
    args: ZodParsedArgs<Args>,
  ) => Returns extends zCore.$ZodType
    ? zCore.input<Returns> | Promise<zCore.input<Returns>>
    : Result | Promise<Result>;
};

/** What {@link zAdminMutation} returns. */
export type ZodAdminMutationBuilder<
  DataModel extends GenericDataModel,
  Permission extends string,
  RequirePermission extends boolean,
> = <
  Args extends ZodArgs,
  Returns extends zCore.$ZodType | undefined = undefined,
  Result = any,
  Service extends boolean = false,
>(
  def: ZodAdminMutationDefinition<
    DataModel,
    Permission,
    Args,
    Returns,
    Result,
    Service
  > &
    (RequirePermission extends true ? { permission: Permission } : unknown),
) => RegisteredMutation<
  "public",
  ZodInputArgs<Args> & { reason: string } & (Service extends true
      ? { serviceKey?: string }
      : unknown),
  Promise<Returns extends zCore.$ZodType ? zCore.output<Returns> : Result>
>;

/**
 * A builder of admin mutations with zod arguments, for `auditLog` and an
 * authorizer (convex-opskit's `Authz`, or a function returning the actor).
 */
export function zAdminMutation<
  DataModel extends GenericDataModel,
  Permission extends string = string,
>(
  auditLog: AuditLog<DataModel>,
  authorizer: AdminAuthorizer<Permission>,
): ZodAdminMutationBuilder<DataModel, Permission, true>;
export function zAdminMutation<
  DataModel extends GenericDataModel,
  Permission extends string = string,
>(
  auditLog: AuditLog<DataModel>,
  authorizer: AuthorizeFunction<DataModel, Permission>,
): ZodAdminMutationBuilder<DataModel, Permission, false>;
export function zAdminMutation<
  DataModel extends GenericDataModel,
  Permission extends string = string,
>(
  auditLog: AuditLog<DataModel>,
  authorizer:
    AdminAuthorizer<Permission> | AuthorizeFunction<DataModel, Permission>,
): ZodAdminMutationBuilder<DataModel, Permission, boolean> {
  const build = auditLog.adminMutation(authorizer as any) as (
    def: any,
  ) => unknown;
  return ((def: ZodAdminMutationDefinition<any, any, any, any, any, any>) => {
    if (typeof def !== "object" || def === null || def.args === undefined)
      throw definitionError(
        "auditLog",
        "zod admin mutations take { args, tables, handler, ... }",
      );
    const shape: Record<string, zCore.$ZodType> =
      def.args instanceof z.ZodObject ? def.args.shape : def.args;
    const schema = z.object(shape);
    const label = `admin mutation${def.name ? ` ${def.name}` : ""}`;
    const parse = (raw: unknown) => {
      const parsed = schema.safeParse(raw);
      if (!parsed.success)
        throw invalidArgsError(parsed.error.issues, raw, label);
      return parsed.data;
    };
    const { scope, returns, handler, ...rest } = def;
    return build({
      ...rest,
      args: zodToConvexFields(shape),
      ...(returns !== undefined ? { returns: zodOutputToConvex(returns) } : {}),
      ...(scope === undefined
        ? {}
        : {
            scope:
              typeof scope === "function"
                ? (raw: unknown) => scope(parse(raw))
                : scope,
          }),
      handler: async (ctx: AdminCtx<DataModel>, raw: unknown) => {
        const result = await handler(ctx, parse(raw));
        return returns === undefined
          ? result
          : await (returns as z.ZodType).parseAsync(
              result === undefined ? null : result,
            );
      },
    });
  }) as never;
}
