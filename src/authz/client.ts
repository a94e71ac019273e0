/* eslint-disable @typescript-eslint/no-explicit-any -- the builder signatures are generic over any Convex ctx and args, as in convex-helpers. */
// Over ~400 lines (~460): the six builders' generic signatures are the typed
// API and stay on the class with their JSDoc (tsc reads a method's overloads
// and generics only from the class); their bodies are one `builderFor`
// (./client/builders.ts) and every other method is a one-line delegate to
// ./client/. Each signature names its own ctx type (`AuthzQueryHandlerCtx`…)
// because a return type computed from a `kind` argument loses the inference
// of `DM`, `V` and a stacked customization's types.
/**
 * convex-opskit/authz: authenticated, permission-checked Convex functions with
 * roles defined in code, grants stored in the authz component, and
 * fail-closed row rules on `ctx.db`.
 *
 * This entry holds `class Authz`; the rest lives in `./client/` (types,
 * identity, the request checker, builder bodies, row rules) and
 * `./shared/policy.ts` (pure policy, also used by the component).
 */
import type { Customization } from "convex-helpers/server/customFunctions";
import type {
  ActionBuilder,
  FunctionVisibility,
  GenericDatabaseWriter,
  GenericDataModel,
  GenericMutationCtx,
  MutationBuilder,
  PaginationOptions,
  PaginationResult,
  QueryBuilder,
} from "convex/server";
import { v, type PropertyValidators, type Validator } from "convex/values";
import type { RunMutationCtx, RunQueryCtx } from "../shared/ctx.js";
import { definitionError } from "../shared/definitions.js";
import type { ComponentApi } from "./component/_generated/component.js";
import { authorizeRequest, guardedDbFor } from "./client/authorize.js";
import { checkAuthzConfig } from "./client/checkConfig.js";
import {
  builderFor,
  customizationFor,
  type CallerKind,
  type FunctionKind,
} from "./client/builders.js";
import type { AnyCtx, AuthzSetup } from "./client/checker.js";
import {
  grantRole,
  listMembers,
  listRoles,
  revokeRole,
  userCan,
} from "./client/grants.js";
import { userIdFromTokenIdentifier } from "./client/identity.js";
import type { Member } from "./shared/validators.js";
import type {
  Authorization,
  AuthzActionHandlerCtx,
  AuthzBuilder,
  AuthzConfig,
  AuthzMutationHandlerCtx,
  AuthzQueryHandlerCtx,
  ExtraCustomization,
  Overwrite,
  RoleName,
  ServiceKeyArgs,
  ValidRoles,
} from "./client/types.js";
import {
  compileRoles,
  type CompiledRoles,
  type Grant,
  type PermissionsOf,
  type RolesConfig,
} from "./shared/policy.js";

export { defineRules } from "./client/rowRules.js";
export type {
  Actor,
  PermissionChecker,
  RowRules,
  RowRulesByTable,
  RuleCtx,
  TableRules,
} from "./client/ruleTypes.js";
export type { Grant, PermissionsOf, RolesConfig } from "./shared/policy.js";
export {
  vAuthorization,
  vGrant,
  vGrantResult,
  vMember,
  vMembersPage,
  vRevokeResult,
  type Member,
} from "./client/returns.js";
export type {
  Authorization,
  AuthzActionCtx,
  AuthzActionHandlerCtx,
  AuthzBuilder,
  AuthzConfig,
  AuthzCtx,
  AuthzMutationHandlerCtx,
  AuthzQueryHandlerCtx,
  ExtraCustomization,
  PermissionName,
  RoleName,
  ServiceConfig,
  ServiceKeyArgs,
  ValidRoles,
} from "./client/types.js";
export {
  userIdFromSubject,
  userIdFromTokenIdentifier,
} from "./client/identity.js";

/**
 * A validator accepting exactly `authz`'s role names (same as
 * `authz.roleValidator()`): `args: { role: vRoleName(authz) }`.
 */
export function vRoleName<A extends Authz<any, any, any>>(
  authz: A,
): Validator<RoleName<A>, "required", string> {
  return authz.roleValidator() as Validator<RoleName<A>, "required", string>;
}

/** Longest user id authz accepts (characters); longer ids get `INVALID_ARGUMENT`. */
export { MAX_USER_ID_LENGTH } from "./shared/policy.js";

/**
 * Authorization for a Convex app: who is calling (from `ctx.auth` only),
 * what their roles allow (roles in code, grants in the component), and which
 * rows they may touch (row rules on `ctx.db`).
 *
 * @example
 * // convex/authz.ts
 * import { Authz } from "convex-opskit/authz";
 * import { components } from "./_generated/api";
 * import { action, mutation, query } from "./_generated/server";
 *
 * export const authz = new Authz(components.authz, {
 *   roles: {
 *     viewer: ["posts.read"],
 *     editor: ["posts.read", "posts.write"],
 *     admin: ["*"],
 *   },
 *   permissions: ["posts.read", "posts.write", "posts.delete", "members.manage"],
 * });
 * export const userQuery = authz.query(query);
 * export const userMutation = authz.mutation(mutation);
 * export const userAction = authz.action(action);
 *
 * // convex/posts.ts
 * export const editPost = userMutation({
 *   permission: "posts.write",
 *   scope: (args) => `team:${args.teamId}`,
 *   args: { teamId: v.string(), postId: v.id("posts"), body: v.string() },
 *   handler: async (ctx, args) => {
 *     await ctx.db.patch(args.postId, { body: args.body, editedBy: ctx.user.actorId });
 *   },
 * });
 */
export class Authz<
  const Roles extends RolesConfig,
  Perm extends string = PermissionsOf<Roles>,
  DataModel extends GenericDataModel = GenericDataModel,
> {
  /** @internal Roles compiled for matching. */
  readonly compiled: CompiledRoles;
  /** What the request-time helpers (`./client/`) need of this instance. */
  private readonly setup: AuthzSetup;

  /**
   * @param component - `components.authz` from `./_generated/api`.
   * @param config - roles, optional permission list, identity, row rules and service keys.
   */
  constructor(
    readonly component: ComponentApi,
    private readonly config: AuthzConfig<Roles, Perm, DataModel> & {
      roles: ValidRoles<Roles, Perm>;
    },
  ) {
    if (typeof config !== "object" || config === null)
      throw definitionError(
        "authz",
        "new Authz(component, config) takes a config object { roles, ... }",
      );
    this.compiled = compileRoles(config.roles);
    checkAuthzConfig(config, this.compiled);
    this.setup = {
      owner: this,
      getUserId: config.getUserId ?? userIdFromTokenIdentifier,
      services: config.services ?? {},
      rules: config.rules,
    };
  }

  /** The configured role names, in configuration order. */
  roleNames(): Array<keyof Roles & string> {
    return Object.keys(this.config.roles) as Array<keyof Roles & string>;
  }

  /**
   * A validator accepting exactly the configured role names, so an argument
   * can go straight to `grant`/`revoke`:
   * `args: { role: authz.roleValidator() }`. An unknown name is refused by
   * Convex's argument validation before the handler runs.
   */
  roleValidator(): Validator<keyof Roles & string, "required", string> {
    const [first, ...more] = this.roleNames().map((name) => v.literal(name));
    if (first === undefined)
      throw definitionError("authz", "roleValidator() needs at least one role");
    return (more.length === 0 ? first : v.union(first, ...more)) as never;
  }

  /**
   * @internal The convex-helpers customization behind the builders (what
   * `convex-opskit/authz/zod` wraps): authenticates the user, or the
   * `serviceKey` argument, and adds `ctx.user`, `ctx.authz` and `ctx.db`.
   */
  customizationFor(
    kind: FunctionKind,
    caller: CallerKind,
  ): Customization<any, any, any, any> {
    return customizationFor(this.setup, kind, caller);
  }

  /**
   * A query builder that requires a signed-in user. `ctx.user`, `ctx.authz`
   * and (with rules) a rule-enforcing `ctx.db` are added; `permission` and
   * `scope` are checked before the handler.
   * @param customization - optional convex-helpers customization applied after authz (its ctx sees `ctx.user`).
   */
  query<
    DM extends DataModel,
    V extends FunctionVisibility,
    CustomArgs extends PropertyValidators = Record<never, never>,
    CustomCtx extends Record<string, any> = Record<never, never>,
  >(
    query: QueryBuilder<DM, V>,
    customization?: ExtraCustomization<
      AuthzQueryHandlerCtx<DM, Perm>,
      CustomArgs,
      CustomCtx
    >,
  ): AuthzBuilder<
    "query",
    Overwrite<AuthzQueryHandlerCtx<DM, Perm>, CustomCtx>,
    V,
    Perm,
    CustomArgs
  > {
    return builderFor(
      this.setup,
      "query",
      "user",
      query,
      customization,
    ) as never;
  }

  /** A mutation builder that requires a signed-in user; see {@link Authz.query}. */
  mutation<
    DM extends DataModel,
    V extends FunctionVisibility,
    CustomArgs extends PropertyValidators = Record<never, never>,
    CustomCtx extends Record<string, any> = Record<never, never>,
  >(
    mutation: MutationBuilder<DM, V>,
    customization?: ExtraCustomization<
      AuthzMutationHandlerCtx<DM, Perm>,
      CustomArgs,
      CustomCtx
    >,
  ): AuthzBuilder<
    "mutation",
    Overwrite<AuthzMutationHandlerCtx<DM, Perm>, CustomCtx>,
    V,
    Perm,
    CustomArgs
  > {
    return builderFor(
      this.setup,
      "mutation",
      "user",
      mutation,
      customization,
    ) as never;
  }

  /** An action builder that requires a signed-in user (actions have no `ctx.db`). */
  action<
    DM extends DataModel,
    V extends FunctionVisibility,
    CustomArgs extends PropertyValidators = Record<never, never>,
    CustomCtx extends Record<string, any> = Record<never, never>,
  >(
    action: ActionBuilder<DM, V>,
    customization?: ExtraCustomization<
      AuthzActionHandlerCtx<DM, Perm>,
      CustomArgs,
      CustomCtx
    >,
  ): AuthzBuilder<
    "action",
    Overwrite<AuthzActionHandlerCtx<DM, Perm>, CustomCtx>,
    V,
    Perm,
    CustomArgs
  > {
    return builderFor(
      this.setup,
      "action",
      "user",
      action,
      customization,
    ) as never;
  }

  /**
   * A query for server-to-server callers: takes a `serviceKey` arg, compared
   * in constant time with the configured `services` keys; `ctx.user` is
   * `{ actorId: <service name>, actorKind: "service" }` with the service's roles.
   */
  serviceQuery<DM extends DataModel, V extends FunctionVisibility>(
    query: QueryBuilder<DM, V>,
  ): AuthzBuilder<
    "query",
    AuthzQueryHandlerCtx<DM, Perm>,
    V,
    Perm,
    ServiceKeyArgs
  > {
    return builderFor(this.setup, "query", "service", query) as never;
  }

  /** A mutation for server-to-server callers; see {@link Authz.serviceQuery}. */
  serviceMutation<DM extends DataModel, V extends FunctionVisibility>(
    mutation: MutationBuilder<DM, V>,
  ): AuthzBuilder<
    "mutation",
    AuthzMutationHandlerCtx<DM, Perm>,
    V,
    Perm,
    ServiceKeyArgs
  > {
    return builderFor(this.setup, "mutation", "service", mutation) as never;
  }

  /** An action for server-to-server callers; see {@link Authz.serviceQuery}. */
  serviceAction<DM extends DataModel, V extends FunctionVisibility>(
    action: ActionBuilder<DM, V>,
  ): AuthzBuilder<
    "action",
    AuthzActionHandlerCtx<DM, Perm>,
    V,
    Perm,
    ServiceKeyArgs
  > {
    return builderFor(this.setup, "action", "service", action) as never;
  }

  /**
   * Identity + permission check for another wrapper (e.g. auditLog's
   * `adminMutation`). Throws `UNAUTHENTICATED` when nobody is signed in (or
   * the service key is wrong), `FORBIDDEN` when `permission` is missing for
   * `scope`. Without `permission` it only authenticates. `roles` are the
   * actor's roles that apply to `scope` (global ones when no scope).
   */
  async authorize(
    ctx: AnyCtx,
    request: {
      permission?: Perm;
      scope?: string;
      functionName?: string;
      serviceKey?: string;
    },
  ): Promise<Authorization> {
    return authorizeRequest(this.setup, ctx, request);
  }

  /**
   * `ctx.db` enforcing this instance's row rules for the caller (the same
   * identity `authorize` verifies: signed-in user, or the service whose
   * `serviceKey` is given). Without `rules` it returns `ctx.db` itself.
   * auditLog's `adminMutation` calls it, so row rules apply inside admin
   * mutations, and their recorded writes go through the guard.
   */
  async guardedDb<DM extends GenericDataModel>(
    ctx: GenericMutationCtx<DM>,
    request: { functionName?: string; serviceKey?: string } = {},
  ): Promise<GenericDatabaseWriter<DM>> {
    return guardedDbFor(this.setup, ctx, request);
  }

  /**
   * Grants `role` to `userId`, globally or for `scope`, optionally until
   * `expiresAt` (ms). Granting again replaces the expiry. Unknown roles,
   * malformed scopes and past expiries throw `INVALID_ARGUMENT`; nothing is
   * written then. Call it from a mutation you have protected yourself.
   */
  async grant(
    ctx: RunMutationCtx,
    args: {
      userId: string;
      role: keyof Roles & string;
      scope?: string;
      expiresAt?: number;
    },
  ): Promise<{ created: boolean }> {
    return grantRole(this, ctx, args);
  }

  /** Revokes one grant (same role and scope). Returns whether anything was revoked. */
  async revoke(
    ctx: RunMutationCtx,
    args: { userId: string; role: keyof Roles & string; scope?: string },
  ): Promise<{ revoked: boolean }> {
    return revokeRole(this, ctx, args);
  }

  /** Whether `userId` holds `permission` globally or for `scope` (reads one document). */
  async can(
    ctx: RunQueryCtx,
    args: { userId: string; permission: Perm; scope?: string },
  ): Promise<boolean> {
    return userCan(this, ctx, args);
  }

  /** The user's unexpired grants: role, scope (absent = global) and expiry. */
  async listRoles(
    ctx: RunQueryCtx,
    args: { userId: string },
  ): Promise<Grant[]> {
    return listRoles(this, ctx, args);
  }

  /** A page of a scope's members (global grants when `scope` is omitted). */
  async listMembers(
    ctx: RunQueryCtx,
    args: { scope?: string; paginationOpts: PaginationOptions },
  ): Promise<PaginationResult<Member>> {
    return listMembers(this, ctx, args);
  }
}

/** Where the lines this client emits go (see `configureLogs`). */
export * from "../shared/logExports.js";
