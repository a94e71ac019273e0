/* eslint-disable @typescript-eslint/no-explicit-any -- the builder types are generic over any Convex ctx and args, as in convex-helpers. */
/** The public types of `convex-opskit/authz`: configuration, builders, what they add to `ctx`. */
import type {
  Customization,
  Registration,
} from "convex-helpers/server/customFunctions";
import type {
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
  ReturnValueForOptionalValidator,
} from "convex/server";
import type {
  GenericValidator,
  ObjectType,
  PropertyValidators,
  Validator,
  VString,
} from "convex/values";
import type { AuthorizedActor } from "../../shared/actor.js";
import type { Authz } from "../client.js";
import type { RolesConfig, WildcardsOf } from "../shared/policy.js";
import type { Actor, PermissionChecker, RowRules } from "./ruleTypes.js";

/**
 * The role names an {@link Authz} instance was configured with, e.g.
 * `RoleName<typeof authz>` is `"viewer" | "editor" | "admin"`.
 */
export type RoleName<A> =
  A extends Authz<infer Roles, any, any> ? keyof Roles & string : never;

/** The permission names an {@link Authz} instance knows: `PermissionName<typeof authz>`. */
export type PermissionName<A> =
  A extends Authz<any, infer Perm, any> ? Perm : never;

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

/** @internal `T` with `U`'s fields replacing its own. */
export type Overwrite<T, U> = keyof U extends never ? T : Omit<T, keyof U> & U;
type Expand<T> = { [K in keyof T]: T[K] };
type FirstArg<A> = A extends [infer First] ? First : Record<string, never>;

/** The ctx of a query made by an authz builder: Convex's, plus {@link AuthzCtx} with a rule-enforcing reader. */
export type AuthzQueryHandlerCtx<
  DM extends GenericDataModel,
  Perm extends string,
> = Overwrite<GenericQueryCtx<DM>, AuthzCtx<Perm, GenericDatabaseReader<DM>>>;

/** The ctx of a mutation made by an authz builder: Convex's, plus {@link AuthzCtx} with a rule-enforcing writer. */
export type AuthzMutationHandlerCtx<
  DM extends GenericDataModel,
  Perm extends string,
> = Overwrite<
  GenericMutationCtx<DM>,
  AuthzCtx<Perm, GenericDatabaseWriter<DM>>
>;

/** The ctx of an action made by an authz builder: Convex's, plus {@link AuthzActionCtx}. */
export type AuthzActionHandlerCtx<
  DM extends GenericDataModel,
  Perm extends string,
> = Overwrite<GenericActionCtx<DM>, AuthzActionCtx<Perm>>;

/** The argument the `service*` builders add to every function they make. */
export type ServiceKeyArgs = { serviceKey: VString<string, "required"> };

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

/** The result of {@link Authz.authorize}: the verified actor and its roles. */
export type Authorization = AuthorizedActor;
