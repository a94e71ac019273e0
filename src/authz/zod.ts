/* eslint-disable @typescript-eslint/no-explicit-any -- the builder plumbing is generic over any Convex ctx and args, as in convex-helpers. */
/**
 * convex-opskit/authz/zod: the authz builders with zod arguments, on
 * `convex-helpers/server/zod4` (`zCustomQuery`, `zCustomMutation`,
 * `zCustomAction`). Same `permission`, same `scope` (computed from the
 * parsed arguments), same `ctx.user`/`ctx.authz`/rule-enforcing `ctx.db`,
 * same errors as the `v` builders of `convex-opskit/authz`; an argument that
 * fails a zod check is refused with `INVALID_ARGUMENT` before the handler
 * runs, saying per argument what was expected and what arrived.
 *
 * Needs `zod` (v4) and `convex-helpers` installed next to convex-opskit.
 *
 * @example
 * import { z } from "zod";
 * import { zAuthz } from "convex-opskit/authz/zod";
 * const zodAuthz = zAuthz(authz);
 * export const zUserMutation = zodAuthz.mutation(mutation);
 * export const createPost = zUserMutation({
 *   permission: "posts.write",
 *   scope: (args) => `team:${args.teamId}`,
 *   args: { teamId: z.string(), body: z.string().min(1).max(5000) },
 *   handler: async (ctx, args) => { ... },
 * });
 */
import {
  zCustomAction,
  zCustomMutation,
  zCustomQuery,
} from "convex-helpers/server/zod4";
import type { Registration } from "convex-helpers/server/customFunctions";
import type {
  ActionBuilder,
  FunctionVisibility,
  GenericDataModel,
  MutationBuilder,
  QueryBuilder,
} from "convex/server";
import { ConvexError } from "convex/values";
import type * as zCore from "zod/v4/core";
import type {
  ZodArgs,
  ZodInputArgs as SharedZodInputArgs,
  ZodParsedArgs as SharedZodParsedArgs,
} from "../shared/zodArgs.js";
import { invalidArgsError, zodErrorIssues } from "../shared/zodIssues.js";
import type {
  Authz,
  AuthzActionHandlerCtx,
  AuthzMutationHandlerCtx,
  AuthzQueryHandlerCtx,
} from "./client.js";
import { guardDefinition } from "./client/guard.js";

export type { ZodArgs } from "../shared/zodArgs.js";

/** The handler's arguments: zod's output (after transforms and defaults); `{}` for no arguments. */
export type ZodParsedArgs<A> = SharedZodParsedArgs<A, Record<string, never>>;

/** The function's arguments as callers send them: zod's input; `{}` for no arguments. */
export type ZodInputArgs<A> = SharedZodInputArgs<A, Record<string, never>>;

type Expand<T> = { [K in keyof T]: T[K] };

/**
 * A function builder made by {@link zAuthz}: like a `zCustomQuery` /
 * `zCustomMutation` / `zCustomAction` builder, plus `permission` (checked
 * before the handler) and `scope` (a string, or a function of the parsed
 * arguments).
 */
export type ZodAuthzBuilder<
  FuncType extends "query" | "mutation" | "action",
  Ctx,
  Visibility extends FunctionVisibility,
  Perm extends string,
  ExtraArgs extends Record<string, unknown>,
> = <
  Args extends ZodArgs = Record<string, never>,
  Returns extends zCore.$ZodType | undefined = undefined,
  Result = any,
>(func: {
  /** zod validators; Convex validators are derived from them for the wire. */
  args?: Args;
  /** A zod validator of the result (the handler's value is parsed by it). */
  returns?: Returns;
  /** Checked before the handler runs; missing → `FORBIDDEN`. */
  permission?: Perm;
  /** The scope the permission must hold in: a string or a function of the parsed args. */
  scope?: string | ((args: ZodParsedArgs<Args>) => string);
  handler: (
    ctx: Ctx,
    args: ZodParsedArgs<Args>,
  ) => Returns extends zCore.$ZodType
    ? zCore.input<Returns> | Promise<zCore.input<Returns>>
    : Result;
}) => Registration<
  FuncType,
  Visibility,
  Expand<ZodInputArgs<Args> & ExtraArgs>,
  Returns extends zCore.$ZodType ? Promise<zCore.output<Returns>> : Result
>;

type ServiceArgs = { serviceKey: string };
type NoArgs = Record<never, never>;

/** A zod query builder over `DM` whose functions take `Extra` arguments too. */
type ZodAuthzQuery<
  Perm extends string,
  DM extends GenericDataModel,
  V extends FunctionVisibility,
  Extra extends Record<string, unknown>,
> = ZodAuthzBuilder<"query", AuthzQueryHandlerCtx<DM, Perm>, V, Perm, Extra>;

/** A zod mutation builder over `DM` whose functions take `Extra` arguments too. */
type ZodAuthzMutation<
  Perm extends string,
  DM extends GenericDataModel,
  V extends FunctionVisibility,
  Extra extends Record<string, unknown>,
> = ZodAuthzBuilder<
  "mutation",
  AuthzMutationHandlerCtx<DM, Perm>,
  V,
  Perm,
  Extra
>;

/** A zod action builder over `DM` whose functions take `Extra` arguments too. */
type ZodAuthzAction<
  Perm extends string,
  DM extends GenericDataModel,
  V extends FunctionVisibility,
  Extra extends Record<string, unknown>,
> = ZodAuthzBuilder<"action", AuthzActionHandlerCtx<DM, Perm>, V, Perm, Extra>;

/** The builders {@link zAuthz} returns. */
export type ZodAuthzBuilders<Perm extends string> = {
  /** A zod query builder that requires a signed-in user. */
  query<DM extends GenericDataModel, V extends FunctionVisibility>(
    query: QueryBuilder<DM, V>,
  ): ZodAuthzQuery<Perm, DM, V, NoArgs>;
  /** A zod mutation builder that requires a signed-in user. */
  mutation<DM extends GenericDataModel, V extends FunctionVisibility>(
    mutation: MutationBuilder<DM, V>,
  ): ZodAuthzMutation<Perm, DM, V, NoArgs>;
  /** A zod action builder that requires a signed-in user (no `ctx.db`). */
  action<DM extends GenericDataModel, V extends FunctionVisibility>(
    action: ActionBuilder<DM, V>,
  ): ZodAuthzAction<Perm, DM, V, NoArgs>;
  /** A zod query for server-to-server callers (a `serviceKey` argument). */
  serviceQuery<DM extends GenericDataModel, V extends FunctionVisibility>(
    query: QueryBuilder<DM, V>,
  ): ZodAuthzQuery<Perm, DM, V, ServiceArgs>;
  /** A zod mutation for server-to-server callers (a `serviceKey` argument). */
  serviceMutation<DM extends GenericDataModel, V extends FunctionVisibility>(
    mutation: MutationBuilder<DM, V>,
  ): ZodAuthzMutation<Perm, DM, V, ServiceArgs>;
  /** A zod action for server-to-server callers (a `serviceKey` argument). */
  serviceAction<DM extends GenericDataModel, V extends FunctionVisibility>(
    action: ActionBuilder<DM, V>,
  ): ZodAuthzAction<Perm, DM, V, ServiceArgs>;
};

/**
 * Wraps a Convex builder so the `{ ZodError }` ConvexError convex-helpers
 * throws for arguments failing a zod check becomes `INVALID_ARGUMENT`.
 */
export function withCodedZodErrors<B>(base: B, label: string): B {
  return ((def: { handler: (ctx: any, args: any) => unknown }) =>
    (base as any)({
      ...def,
      handler: async (ctx: any, args: any) => {
        try {
          return await def.handler(ctx, args);
        } catch (e) {
          const issues =
            e instanceof ConvexError ? zodErrorIssues(e.data) : null;
          if (issues) throw invalidArgsError(issues, args, label);
          throw e;
        }
      },
    })) as B;
}

/**
 * The authz builders with zod arguments, for `authz` (an {@link Authz}).
 * Use them like the `v` builders (`authz.query(query)`...), with zod
 * validators in `args` and, optionally, `returns`.
 */
export function zAuthz<A extends Authz<any, any, any>>(
  authz: A,
): ZodAuthzBuilders<A extends Authz<any, infer Perm, any> ? Perm : never> {
  const make =
    (
      zCustom: (builder: any, customization: any) => (def: any) => unknown,
      kind: "query" | "mutation" | "action",
      caller: "user" | "service",
    ) =>
    (base: unknown) => {
      const inner = zCustom(
        withCodedZodErrors(base, `this ${kind}`),
        authz.customizationFor(kind, caller),
      );
      return (def: Record<string, any>) => inner(guardDefinition(def));
    };
  return {
    query: make(zCustomQuery, "query", "user"),
    mutation: make(zCustomMutation, "mutation", "user"),
    action: make(zCustomAction, "action", "user"),
    serviceQuery: make(zCustomQuery, "query", "service"),
    serviceMutation: make(zCustomMutation, "mutation", "service"),
    serviceAction: make(zCustomAction, "action", "service"),
  } as never;
}
