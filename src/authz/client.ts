/* eslint-disable @typescript-eslint/no-explicit-any -- the builder plumbing is generic over any Convex ctx and args, as in convex-helpers. */
// Over ~400 lines, not yet split: the split along its seams is issue 13's
// (architecture) work, planned file by file and kept out of the hardening
// sessions so the attack fixes could land without a concurrent reshape.
/**
 * convex-opskit/authz: authenticated, permission-checked Convex functions with
 * roles defined in code, grants stored in the authz component, and
 * fail-closed row rules on `ctx.db`.
 */
import {
  customAction,
  customMutation,
  customQuery,
  type Customization,
  type Registration,
} from "convex-helpers/server/customFunctions";
import type {
  ActionBuilder,
  ArgsArrayForOptionalValidator,
  ArgsArrayToObject,
  Auth,
  DefaultArgsForOptionalValidator,
  FunctionVisibility,
  GenericActionCtx,
  GenericDatabaseReader,
  GenericDatabaseWriter,
  GenericDataModel,
  GenericMutationCtx,
  GenericQueryCtx,
  MutationBuilder,
  PaginationOptions,
  QueryBuilder,
  ReturnValueForOptionalValidator,
} from "convex/server";
import {
  v,
  type GenericValidator,
  type ObjectType,
  type PropertyValidators,
  type Validator,
} from "convex/values";
import { offerRowGuard, WRAPPED_DB } from "../shared/dbCalls.js";
import { opskitError } from "../shared/errors.js";
import { logEvent } from "../shared/log.js";
import { guardDefinition } from "./guard.js";
import type { ComponentApi } from "./component/_generated/component.js";
import {
  applicableRoles,
  compileRoles,
  constantTimeEqual,
  hasPermission,
  isPermissionName,
  isValidScope,
  MAX_USER_ID_LENGTH,
  userIdProblem,
  type CompiledRoles,
  type Grant,
  type PermissionsOf,
  type RolesConfig,
  type WildcardsOf,
} from "./policy.js";
import {
  guardReader,
  guardWriter,
  type Actor,
  type DenyHook,
  type PermissionChecker,
  type RowRules,
} from "./rowRules.js";

export { defineRules } from "./rowRules.js";
export type {
  Actor,
  PermissionChecker,
  RowRules,
  RowRulesByTable,
  RuleCtx,
  TableRules,
} from "./rowRules.js";
export type { Grant, PermissionsOf, RolesConfig } from "./policy.js";
export {
  vAuthorization,
  vGrant,
  vGrantResult,
  vMember,
  vMembersPage,
  vRevokeResult,
  type Member,
} from "./returns.js";

/**
 * The role names an {@link Authz} instance was configured with, e.g.
 * `RoleName<typeof authz>` is `"viewer" | "editor" | "admin"`.
 */
export type RoleName<A> =
  A extends Authz<infer Roles, any, any> ? keyof Roles & string : never;

/** The permission names an {@link Authz} instance knows: `PermissionName<typeof authz>`. */
export type PermissionName<A> =
  A extends Authz<any, infer Perm, any> ? Perm : never;

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
export { MAX_USER_ID_LENGTH } from "./policy.js";

/** An API key a server-to-server caller presents, and the roles it acts with. */
export type ServiceConfig<RoleName extends string> = {
  /**
   * The secret, usually `process.env.SOME_KEY`. A function is read on each
   * request, so a key rotated in the dashboard applies without a redeploy.
   * A missing or empty key never matches.
   */
  key: string | undefined | (() => string | undefined);
  /** Global roles the service acts with. */
  roles: readonly RoleName[];
};

/** Configuration of an {@link Authz} instance. */
export type AuthzConfig<
  Roles extends RolesConfig,
  Perm extends string,
  DataModel extends GenericDataModel,
> = {
  /** Role name → permissions (`"posts.read"`, `"posts.*"`, `"*"`). Lives in code: edits apply on the next request. */
  roles: Roles;
  /**
   * Every permission name, when some are held only through wildcards
   * (e.g. `"posts.delete"` granted by `admin: ["*"]`). Defaults to the names
   * listed in `roles`.
   */
  permissions?: readonly Perm[];
  /**
   * Who is calling, from `ctx.auth` only; the string grants are keyed by.
   * Defaults to {@link userIdFromTokenIdentifier} (the identity's
   * `tokenIdentifier`, unique across auth providers); convex-opskit 0.1 used
   * the `subject` ({@link userIdFromSubject}). Return null when nobody is
   * signed in. The id must be 1 to {@link MAX_USER_ID_LENGTH} characters
   * without control characters.
   */
  getUserId?: (ctx: { auth: Auth }) => Promise<string | null>;
  /** Row rules from {@link defineRules}; when set, `ctx.db` in the builders enforces them. */
  rules?: RowRules<DataModel>;
  /** Named API keys accepted by the `service*` builders and by `authorize({ serviceKey })`. */
  services?: Record<string, ServiceConfig<keyof Roles & string>>;
};

/** Each role may list known permission names and the wildcards covering them. */
export type ValidRoles<Roles extends RolesConfig, Perm extends string> = {
  [R in keyof Roles]: readonly (Perm | WildcardsOf<Perm>)[];
};

/** What the builders add to `ctx` for queries and mutations. */
export type AuthzCtx<Perm extends string, DB> = {
  /** The caller, from `ctx.auth` (or the service key), never from args. */
  user: Actor;
  /** Memoized permission checks for this request. */
  authz: PermissionChecker<Perm>;
  /** The database, enforcing row rules when they are configured. */
  db: DB;
};

/** What the builders add to `ctx` for actions (no database). */
export type AuthzActionCtx<Perm extends string> = {
  user: Actor;
  authz: PermissionChecker<Perm>;
};

type Overwrite<T, U> = keyof U extends never ? T : Omit<T, keyof U> & U;
type Expand<T> = { [K in keyof T]: T[K] };
type FirstArg<A> = A extends [infer First] ? First : Record<string, never>;

/**
 * A function builder made by {@link Authz}: like `query`/`mutation`/`action`,
 * plus `permission` (checked before the handler) and `scope` (a string or a
 * function of the validated args).
 */
export type AuthzBuilder<
  FuncType extends "query" | "mutation" | "action",
  Ctx,
  Visibility extends FunctionVisibility,
  Perm extends string,
  ConsumedArgs extends PropertyValidators,
> = <
  ArgsValidator extends PropertyValidators | void | Validator<any, any, any>,
  ReturnsValidator extends PropertyValidators | GenericValidator | void,
  ReturnValue extends ReturnValueForOptionalValidator<ReturnsValidator> = any,
  OneOrZeroArgs extends ArgsArrayForOptionalValidator<ArgsValidator> =
    DefaultArgsForOptionalValidator<ArgsValidator>,
>(func: {
  args?: ArgsValidator;
  returns?: ReturnsValidator;
  /** Checked before the handler runs; missing → `FORBIDDEN`. */
  permission?: Perm;
  /** The scope the permission must hold in (global grants always count). */
  scope?: string | ((args: FirstArg<OneOrZeroArgs>) => string);
  handler: (ctx: Ctx, ...args: OneOrZeroArgs) => ReturnValue;
}) => Registration<
  FuncType,
  Visibility,
  ArgsArrayToObject<
    keyof ConsumedArgs extends never
      ? OneOrZeroArgs
      : OneOrZeroArgs extends [infer A]
        ? [Expand<A & ObjectType<ConsumedArgs>>]
        : [ObjectType<ConsumedArgs>]
  >,
  ReturnValue
>;

/** A customization users stack on top of an authz builder (see `Authz.query`). */
export type ExtraCustomization<
  InCtx extends Record<string, any>,
  CustomArgs extends PropertyValidators,
  CustomCtx extends Record<string, any>,
> = Customization<InCtx, CustomArgs, CustomCtx, Record<string, never>>;

type AnyCtx =
  GenericQueryCtx<any> | GenericMutationCtx<any> | GenericActionCtx<any>;
type RunQueryCtx = { runQuery: GenericQueryCtx<GenericDataModel>["runQuery"] };
type RunMutationCtx = {
  runMutation: GenericMutationCtx<GenericDataModel>["runMutation"];
};
type MetaCtx = {
  meta?: { getFunctionMetadata?: () => Promise<{ name: string }> };
};

/** The result of {@link Authz.authorize}. */
export type Authorization = {
  actorId: string;
  actorKind: "user" | "service";
  roles: string[];
};

/**
 * The default user id: the identity's `tokenIdentifier` (`"<issuer>|<subject>"`),
 * unique across auth providers, so two providers' users with the same
 * `subject` never share grants. Pass it as `getUserId` to say so explicitly.
 */
export const userIdFromTokenIdentifier = async (ctx: {
  auth: Auth;
}): Promise<string | null> =>
  (await ctx.auth.getUserIdentity())?.tokenIdentifier ?? null;

/**
 * The identity's `subject` as user id: convex-opskit 0.1's default. Safe only
 * with a single auth provider (subjects of two providers can collide); pass
 * it as `getUserId` to keep grants made under 0.1 without migrating them.
 */
export const userIdFromSubject = async (ctx: {
  auth: Auth;
}): Promise<string | null> =>
  (await ctx.auth.getUserIdentity())?.subject ?? null;

/** Per-request permission checks; reads the user's grants at most once. */
class RequestAuthz<Perm extends string> implements PermissionChecker<Perm> {
  private grantsPromise: Promise<Grant[]> | null;
  constructor(
    readonly owner: Authz<any, any, any>,
    private readonly ctx: RunQueryCtx & MetaCtx,
    readonly actor: Actor,
    private readonly functionName: string | undefined,
    fixedGrants?: Grant[],
  ) {
    this.grantsPromise = fixedGrants ? Promise.resolve(fixedGrants) : null;
  }

  /** Forgets cached grants (after this request granted or revoked for the actor). */
  invalidate(userId: string) {
    if (this.actor.kind === "user" && this.actor.id === userId)
      this.grantsPromise = null;
  }

  private grants(): Promise<Grant[]> {
    this.grantsPromise ??= this.ctx.runQuery(
      this.owner.component.grants.getUserGrants,
      { userId: this.actor.id },
    );
    return this.grantsPromise;
  }

  async can(permission: Perm, opts?: { scope?: string }): Promise<boolean> {
    const scope = checkScope(opts?.scope);
    checkPermission(permission);
    const grants = await this.grants();
    return hasPermission(
      this.owner.compiled,
      grants,
      permission,
      scope,
      Date.now(),
    );
  }

  async require(permission: Perm, opts?: { scope?: string }): Promise<void> {
    if (await this.can(permission, opts)) return;
    const scope = opts?.scope;
    const roles = await this.roles({ scope });
    await this.logDeny({ reason: "missing_permission", permission, scope });
    throw opskitError(
      "FORBIDDEN",
      scope === undefined
        ? `Missing permission "${permission}"`
        : `Missing permission "${permission}" for scope "${scope}"`,
      { permission, scope: scope ?? null, roles },
    );
  }

  async roles(opts?: { scope?: string }): Promise<string[]> {
    const scope = checkScope(opts?.scope);
    return applicableRoles(await this.grants(), scope, Date.now());
  }

  async logDeny(fields: Record<string, unknown>) {
    logEvent("authz.deny", {
      functionName: this.functionName ?? (await functionNameOf(this.ctx)),
      actorId: this.actor.id,
      actorKind: this.actor.kind,
      ...fields,
    });
  }
}

async function functionNameOf(ctx: MetaCtx): Promise<string | null> {
  try {
    return (await ctx.meta?.getFunctionMetadata?.())?.name ?? null;
  } catch {
    return null;
  }
}

function checkScope(scope: unknown): string | undefined {
  if (scope === undefined) return undefined;
  if (typeof scope !== "string" || !isValidScope(scope))
    throw opskitError(
      "INVALID_ARGUMENT",
      `scope must look like "kind:id" (e.g. "team:42"), got ${JSON.stringify(typeof scope === "string" ? scope.slice(0, 64) : typeof scope)}`,
    );
  return scope;
}

function checkUserId(userId: unknown) {
  const problem = userIdProblem(userId);
  if (problem !== null)
    throw opskitError(
      "INVALID_ARGUMENT",
      `userId must be 1 to ${MAX_USER_ID_LENGTH} characters without control characters; it ${problem}`,
      {
        length: typeof userId === "string" ? userId.length : null,
        maxLength: MAX_USER_ID_LENGTH,
      },
    );
}

function checkPermission(permission: unknown) {
  if (typeof permission !== "string" || !isPermissionName(permission))
    throw opskitError(
      "INVALID_ARGUMENT",
      `permission must be a name like "posts.write", got ${JSON.stringify(String(permission).slice(0, 64))}`,
    );
}

// The per-request checker, found again by authorize() when called with a ctx
// that an authz builder produced (same db object) so grants are read once.
const requestCheckers = new WeakMap<object, RequestAuthz<string>>();

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
 *     await ctx.db.patch(args.postId, { body: args.body, editedBy: ctx.user.id });
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
  private readonly getUserId: (ctx: { auth: Auth }) => Promise<string | null>;

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
    this.compiled = compileRoles(config.roles);
    for (const p of config.permissions ?? [])
      if (!isPermissionName(p))
        throw new Error(
          `authz: malformed permission name ${JSON.stringify(p)}`,
        );
    for (const [name, service] of Object.entries(config.services ?? {}))
      for (const role of service.roles)
        if (!this.compiled.has(role))
          throw new Error(
            `authz: service "${name}" uses unknown role "${role}"`,
          );
    this.getUserId = config.getUserId ?? userIdFromTokenIdentifier;
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
      throw new Error("authz: roleValidator() needs at least one role");
    return (more.length === 0 ? first : v.union(first, ...more)) as never;
  }

  /**
   * @internal The convex-helpers customization behind the builders (what
   * `convex-opskit/authz/zod` wraps): authenticates the user, or the
   * `serviceKey` argument, and adds `ctx.user`, `ctx.authz` and `ctx.db`.
   */
  customizationFor(
    kind: "query" | "mutation" | "action",
    caller: "user" | "service",
  ): Customization<any, any, any, any> {
    return (
      caller === "user"
        ? this.userCustomization(kind)
        : this.serviceCustomization(kind)
    ) as Customization<any, any, any, any>;
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
      Overwrite<GenericQueryCtx<DM>, AuthzCtx<Perm, GenericDatabaseReader<DM>>>,
      CustomArgs,
      CustomCtx
    >,
  ): AuthzBuilder<
    "query",
    Overwrite<
      Overwrite<GenericQueryCtx<DM>, AuthzCtx<Perm, GenericDatabaseReader<DM>>>,
      CustomCtx
    >,
    V,
    Perm,
    CustomArgs
  > {
    return this.builder(
      customQuery as never,
      query,
      this.userCustomization("query"),
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
      Overwrite<
        GenericMutationCtx<DM>,
        AuthzCtx<Perm, GenericDatabaseWriter<DM>>
      >,
      CustomArgs,
      CustomCtx
    >,
  ): AuthzBuilder<
    "mutation",
    Overwrite<
      Overwrite<
        GenericMutationCtx<DM>,
        AuthzCtx<Perm, GenericDatabaseWriter<DM>>
      >,
      CustomCtx
    >,
    V,
    Perm,
    CustomArgs
  > {
    return this.builder(
      customMutation as never,
      mutation,
      this.userCustomization("mutation"),
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
      Overwrite<GenericActionCtx<DM>, AuthzActionCtx<Perm>>,
      CustomArgs,
      CustomCtx
    >,
  ): AuthzBuilder<
    "action",
    Overwrite<Overwrite<GenericActionCtx<DM>, AuthzActionCtx<Perm>>, CustomCtx>,
    V,
    Perm,
    CustomArgs
  > {
    return this.builder(
      customAction as never,
      action,
      this.userCustomization("action"),
      customization,
    ) as never;
  }

  /**
   * A query for server-to-server callers: takes a `serviceKey` arg, compared
   * in constant time with the configured `services` keys; `ctx.user` is
   * `{ id: <service name>, kind: "service" }` with the service's roles.
   */
  serviceQuery<DM extends DataModel, V extends FunctionVisibility>(
    query: QueryBuilder<DM, V>,
  ): AuthzBuilder<
    "query",
    Overwrite<GenericQueryCtx<DM>, AuthzCtx<Perm, GenericDatabaseReader<DM>>>,
    V,
    Perm,
    { serviceKey: ReturnType<typeof v.string> }
  > {
    return this.builder(
      customQuery as never,
      query,
      this.serviceCustomization("query"),
    ) as never;
  }

  /** A mutation for server-to-server callers; see {@link Authz.serviceQuery}. */
  serviceMutation<DM extends DataModel, V extends FunctionVisibility>(
    mutation: MutationBuilder<DM, V>,
  ): AuthzBuilder<
    "mutation",
    Overwrite<
      GenericMutationCtx<DM>,
      AuthzCtx<Perm, GenericDatabaseWriter<DM>>
    >,
    V,
    Perm,
    { serviceKey: ReturnType<typeof v.string> }
  > {
    return this.builder(
      customMutation as never,
      mutation,
      this.serviceCustomization("mutation"),
    ) as never;
  }

  /** An action for server-to-server callers; see {@link Authz.serviceQuery}. */
  serviceAction<DM extends DataModel, V extends FunctionVisibility>(
    action: ActionBuilder<DM, V>,
  ): AuthzBuilder<
    "action",
    Overwrite<GenericActionCtx<DM>, AuthzActionCtx<Perm>>,
    V,
    Perm,
    { serviceKey: ReturnType<typeof v.string> }
  > {
    return this.builder(
      customAction as never,
      action,
      this.serviceCustomization("action"),
    ) as never;
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
    const checker = await this.checkerFor(ctx, request);
    // Found again by guardedDb() (and grant/revoke invalidation) for this
    // request, so the caller's grants are read once.
    const db = (ctx as { db?: object }).db;
    if (db && checker.actor.kind === "user" && !requestCheckers.has(db))
      requestCheckers.set(db, checker as RequestAuthz<string>);
    if (request.permission !== undefined)
      await checker.require(request.permission, { scope: request.scope });
    const roles = await checker.roles({ scope: request.scope });
    // A function authorizer wrapping this call (`(ctx) => authz.authorize(ctx, {})`)
    // has no guardedDb of its own: auditLog finds the rules through this.
    if (db && this.config.rules)
      offerRowGuard(db, () =>
        this.guardedDb(ctx as GenericMutationCtx<GenericDataModel>, {
          ...(request.functionName !== undefined
            ? { functionName: request.functionName }
            : {}),
          ...(request.serviceKey !== undefined
            ? { serviceKey: request.serviceKey }
            : {}),
        }),
      );
    return { actorId: checker.actor.id, actorKind: checker.actor.kind, roles };
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
    const rules = this.config.rules;
    if (!rules) return ctx.db;
    const checker = await this.checkerFor(ctx, request);
    const onDeny: DenyHook = (info) =>
      checker.logDeny({ ...info, reason: `row_${info.reason}` });
    const db = guardWriter(
      ctx.db,
      rules as unknown as RowRules<DM>,
      { user: checker.actor, authz: checker as PermissionChecker<string> },
      onDeny,
    );
    requestCheckers.set(db, checker as RequestAuthz<string>);
    return db;
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
    this.checkRole(args.role);
    checkScope(args.scope);
    checkUserId(args.userId);
    const result = await ctx.runMutation(this.component.grants.grantRole, {
      userId: args.userId,
      role: args.role,
      scope: args.scope,
      expiresAt: args.expiresAt,
    });
    invalidate(ctx, args.userId);
    logEvent("authz.grant", {
      userId: args.userId,
      role: args.role,
      scope: args.scope ?? null,
      expiresAt: args.expiresAt ?? null,
    });
    return result;
  }

  /** Revokes one grant (same role and scope). Returns whether anything was revoked. */
  async revoke(
    ctx: RunMutationCtx,
    args: { userId: string; role: keyof Roles & string; scope?: string },
  ): Promise<{ revoked: boolean }> {
    this.checkRole(args.role);
    checkScope(args.scope);
    checkUserId(args.userId);
    const result = await ctx.runMutation(this.component.grants.revokeRole, {
      userId: args.userId,
      role: args.role,
      scope: args.scope,
    });
    invalidate(ctx, args.userId);
    if (result.revoked)
      logEvent("authz.revoke", {
        userId: args.userId,
        role: args.role,
        scope: args.scope ?? null,
      });
    return result;
  }

  /** Whether `userId` holds `permission` globally or for `scope` (reads one document). */
  async can(
    ctx: RunQueryCtx,
    args: { userId: string; permission: Perm; scope?: string },
  ): Promise<boolean> {
    const scope = checkScope(args.scope);
    checkPermission(args.permission);
    checkUserId(args.userId);
    const grants = await ctx.runQuery(this.component.grants.getUserGrants, {
      userId: args.userId,
    });
    return hasPermission(
      this.compiled,
      grants,
      args.permission,
      scope,
      Date.now(),
    );
  }

  /** The user's unexpired grants: role, scope (absent = global) and expiry. */
  async listRoles(
    ctx: RunQueryCtx,
    args: { userId: string },
  ): Promise<Grant[]> {
    checkUserId(args.userId);
    const now = Date.now();
    const grants = await ctx.runQuery(this.component.grants.getUserGrants, {
      userId: args.userId,
    });
    return grants.filter((g) => g.expiresAt === undefined || g.expiresAt > now);
  }

  /** A page of a scope's members (global grants when `scope` is omitted). */
  async listMembers(
    ctx: RunQueryCtx,
    args: { scope?: string; paginationOpts: PaginationOptions },
  ): Promise<{
    page: Array<{ userId: string; role: string; expiresAt?: number }>;
    isDone: boolean;
    continueCursor: string;
  }> {
    checkScope(args.scope);
    return await ctx.runQuery(this.component.grants.listMembers, {
      scope: args.scope,
      paginationOpts: args.paginationOpts,
    });
  }

  private checkRole(role: string) {
    if (!this.compiled.has(role))
      throw opskitError(
        "INVALID_ARGUMENT",
        `Unknown role ${JSON.stringify(String(role).slice(0, 64))}; expected one of ${[...this.compiled.keys()].join(", ")}`,
        { role: String(role).slice(0, 64) },
      );
  }

  /** Finds the signed-in user or throws UNAUTHENTICATED (after logging). */
  private async authenticate(
    ctx: { auth: Auth } & MetaCtx,
    functionName?: string,
  ): Promise<Actor> {
    const userId = await this.getUserId(ctx);
    if (userId === null || userId === undefined || userId === "") {
      logEvent("authz.deny", {
        functionName: functionName ?? (await functionNameOf(ctx)),
        actorId: null,
        actorKind: null,
        reason: "unauthenticated",
      });
      throw opskitError("UNAUTHENTICATED", "You must be signed in");
    }
    const problem = userIdProblem(userId);
    if (problem !== null) {
      // Signed in, but the id getUserId derived cannot key grants: say so,
      // rather than claiming nobody is signed in.
      const length = typeof userId === "string" ? userId.length : null;
      logEvent("authz.deny", {
        functionName: functionName ?? (await functionNameOf(ctx)),
        actorId: null,
        actorKind: "user",
        reason: "invalid_user_id",
        length,
        maxLength: MAX_USER_ID_LENGTH,
      });
      throw opskitError(
        "INVALID_ARGUMENT",
        `The signed-in identity's user id (from getUserId) ${problem}; authz needs 1 to ${MAX_USER_ID_LENGTH} characters without control characters`,
        { length, maxLength: MAX_USER_ID_LENGTH },
      );
    }
    return { id: userId, kind: "user" };
  }

  /** Finds the service whose key matches, or throws UNAUTHENTICATED. */
  private async authenticateService(
    ctx: MetaCtx,
    serviceKey: unknown,
    functionName?: string,
  ): Promise<{ actor: Actor; grants: Grant[] }> {
    let match: string | null = null;
    if (typeof serviceKey === "string" && serviceKey.length > 0)
      for (const [name, service] of Object.entries(
        this.config.services ?? {},
      )) {
        const expected =
          typeof service.key === "function" ? service.key() : service.key;
        // Every configured key is compared, so timing does not reveal which one matched.
        if (
          typeof expected === "string" &&
          constantTimeEqual(serviceKey, expected)
        )
          match ??= name;
      }
    if (match === null) {
      logEvent("authz.deny", {
        functionName: functionName ?? (await functionNameOf(ctx)),
        actorId: null,
        actorKind: "service",
        reason: "invalid_service_key",
      });
      throw opskitError("UNAUTHENTICATED", "Invalid service key");
    }
    const roles = this.config.services![match].roles;
    return {
      actor: { id: match, kind: "service" },
      grants: roles.map((role) => ({ role })),
    };
  }

  private async checkerFor(
    ctx: AnyCtx,
    request: { functionName?: string; serviceKey?: string },
  ): Promise<RequestAuthz<Perm>> {
    if (request.serviceKey !== undefined) {
      const { actor, grants } = await this.authenticateService(
        ctx,
        request.serviceKey,
        request.functionName,
      );
      return new RequestAuthz(
        this,
        ctx as unknown as RunQueryCtx & MetaCtx,
        actor,
        request.functionName,
        grants,
      );
    }
    const existing = existingChecker(ctx);
    // A service builder already verified its key for this request.
    if (existing?.owner === this && existing.actor.kind === "service")
      return existing as RequestAuthz<Perm>;
    if (existing?.owner === this && existing.actor.kind === "user") {
      // Identity is re-derived so a stale checker can never stand in for another user.
      const userId = await this.getUserId(ctx);
      if (userId === existing.actor.id) return existing as RequestAuthz<Perm>;
    }
    const actor = await this.authenticate(ctx, request.functionName);
    return new RequestAuthz(
      this,
      ctx as unknown as RunQueryCtx & MetaCtx,
      actor,
      request.functionName,
    );
  }

  private addedCtx(
    kind: "query" | "mutation" | "action",
    ctx: Record<string, any>,
    checker: RequestAuthz<Perm>,
  ) {
    const added: Record<string, unknown> = {
      user: checker.actor,
      authz: checker,
    };
    if (kind === "action") return added;
    const rules = this.config.rules;
    const onDeny: DenyHook = (info) =>
      checker.logDeny({ ...info, reason: `row_${info.reason}` });
    const ruleCtx = {
      user: checker.actor,
      authz: checker as PermissionChecker<string>,
    };
    const db = !rules
      ? ctx.db
      : kind === "query"
        ? guardReader(ctx.db, rules, ruleCtx, onDeny)
        : guardWriter(ctx.db, rules, ruleCtx, onDeny);
    requestCheckers.set(ctx.db, checker as RequestAuthz<string>);
    requestCheckers.set(db, checker as RequestAuthz<string>);
    added.db = db;
    return added;
  }

  private userCustomization(kind: "query" | "mutation" | "action") {
    return {
      args: {},
      input: async (ctx: any) => {
        const actor = await this.authenticate(ctx);
        const checker = new RequestAuthz<Perm>(this, ctx, actor, undefined);
        return { ctx: this.addedCtx(kind, ctx, checker), args: {} };
      },
    };
  }

  private serviceCustomization(kind: "query" | "mutation" | "action") {
    return {
      args: { serviceKey: v.string() },
      input: async (ctx: any, args: { serviceKey: string }) => {
        const { actor, grants } = await this.authenticateService(
          ctx,
          args.serviceKey,
        );
        const checker = new RequestAuthz<Perm>(
          this,
          ctx,
          actor,
          undefined,
          grants,
        );
        return { ctx: this.addedCtx(kind, ctx, checker), args: {} };
      },
    };
  }

  private builder(
    make: (
      builder: unknown,
      c: Customization<any, any, any, any>,
    ) => (def: any) => unknown,
    base: unknown,
    own: any,
    extra?: any,
  ) {
    const combined: Customization<any, any, any, any> = !extra
      ? own
      : {
          args: { ...own.args, ...extra.args },
          input: async (ctx: any, args: any, more: any) => {
            const pick = (keys: object) =>
              Object.fromEntries(
                Object.keys(keys).map((k) => [k, (args as any)[k]]),
              );
            const first = await own.input(ctx, pick(own.args), more);
            const second = await extra.input(
              { ...ctx, ...first.ctx },
              pick(extra.args),
              more,
            );
            return {
              ctx: { ...first.ctx, ...second.ctx },
              args: { ...first.args, ...second.args },
              onSuccess: second.onSuccess,
            };
          },
        };
    const inner = make(base, combined);
    return (def: Record<string, any>) => inner(guardDefinition(def, false));
  }
}

function existingChecker(ctx: Record<string, any>) {
  if (ctx.authz instanceof RequestAuthz) return ctx.authz;
  // Through wrappers of ctx.db (auditLog's recording db) to the one we know.
  for (let db = ctx.db, hops = 0; db && hops < 8; db = db[WRAPPED_DB], hops++) {
    const found = requestCheckers.get(db);
    if (found) return found;
  }
  return undefined;
}

function invalidate(ctx: Record<string, any>, userId: string) {
  existingChecker(ctx)?.invalidate(userId);
}

/** Where the lines this client emits go (see `configureLogs`). */
export {
  configureLogs,
  type LogEvent,
  type LogOptions,
  type LogSink,
} from "../shared/log.js";
