/**
 * The public types of convex-opskit/auditLog's admin side: the authorizer
 * contract, the options, admin mutation definitions and revert. What the
 * reading methods take and return is in `./queryTypes.ts`. The entry
 * (`../client.ts`) re-exports both.
 */
import type {
  FieldPaths,
  GenericDatabaseWriter,
  GenericDataModel,
  GenericMutationCtx,
  NamedTableInfo,
  RegisteredMutation,
  TableNamesInDataModel,
} from "convex/server";
import type { ObjectType, PropertyValidators, Validator } from "convex/values";
import type { Actor, AuthorizedActor } from "../../shared/actor.js";
import type { AnyCtx } from "../../shared/ctx.js";

/** Who made an admin call, and how they were authenticated (`"user"`, `"service"`...). */
export type { Actor };

/** What an admin mutation asks its authorizer to check. */
export type AuthorizeRequest<Permission extends string = string> = {
  permission?: Permission;
  scope?: string;
  functionName?: string;
  serviceKey?: string;
};

/**
 * The identity + permission check `adminMutation` relies on. convex-opskit's
 * `Authz` implements it; so can anything else with this method. It must throw
 * (e.g. `UNAUTHENTICATED`, `FORBIDDEN`) to refuse the call.
 */
export interface AdminAuthorizer<Permission extends string = string> {
  authorize(
    // The contract is shared with authz, which accepts any kind of ctx.
    ctx: AnyCtx,
    request: AuthorizeRequest<Permission>,
  ): Promise<AuthorizedActor>;
  /**
   * Optional: the database an admin mutation's handler works through, for
   * the actor `authorize` has just verified (called right after it, with the
   * same ctx and request). convex-opskit's `Authz` returns a `ctx.db` that
   * enforces its row rules, so an admin call reads and writes only rows its
   * caller may; the recorded writes go through it too. Without this method
   * the handler gets the plain `ctx.db` (still limited to `tables`), unless
   * the authorizer called authz's `authorize` for the request, which offers
   * its row guard for the caller it verified (so
   * `(ctx) => authz.authorize(ctx, {})` keeps the row rules).
   */
  guardedDb?(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    ctx: GenericMutationCtx<any>,
    request: AuthorizeRequest<Permission>,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ): Promise<GenericDatabaseWriter<any>>;
}

/**
 * A plain function authorizer, for apps without convex-opskit's authz:
 * return the actor, or throw to refuse the call.
 */
export type AuthorizeFunction<
  DataModel extends GenericDataModel,
  Permission extends string = string,
> = (
  ctx: GenericMutationCtx<DataModel>,
  request: AuthorizeRequest<Permission> & { functionName: string },
) => Promise<Actor>;

/** Field paths of a table that may be redacted (`"passwordHash"`, `"profile.ssn"`). */
export type RedactableField<
  DataModel extends GenericDataModel,
  Table extends TableNamesInDataModel<DataModel>,
> = Exclude<
  FieldPaths<NamedTableInfo<DataModel, Table>>,
  "_id" | "_creationTime"
>;

/** Options of {@link AuditLog}. */
export type AuditLogOptions<DataModel extends GenericDataModel> = {
  /** Per table, fields whose values never reach the log (before, after, args). */
  redact?: {
    [T in TableNamesInDataModel<DataModel>]?: readonly RedactableField<
      DataModel,
      T
    >[];
  };
  /** Argument names redacted in every admin call, at any depth (e.g. `"password"`). */
  redactArgs?: readonly string[];
  /** The reason every admin call must carry. */
  reason?: {
    /** Minimum length after trimming. Default 10. */
    minLength?: number;
    /** A pattern the reason must match, such as a ticket id: `/\b[A-Z]+-\d+\b/`. */
    pattern?: RegExp;
    /** How to describe the pattern in errors (e.g. "a ticket id like SUP-123"). */
    patternHint?: string;
  };
  /** Delete operations older than this, when `runRetention` is called (from a cron). */
  retention?: { maxAgeMs: number };
};

/** The `ctx` an admin mutation's handler receives. */
export type AdminCtx<DataModel extends GenericDataModel> =
  GenericMutationCtx<DataModel> & {
    /** Who is calling, why, and through which function. */
    audit: { actor: Actor; reason: string; functionName: string };
  };

/** The definition of one admin mutation. */
export type AdminMutationDefinition<
  DataModel extends GenericDataModel,
  Permission extends string,
  Args extends PropertyValidators,
  Result,
  Service extends boolean = false,
> = {
  /**
   * The permission the authorizer checks. Required with an authorizer object
   * such as authz (a type error and a definition-time error without it, since
   * the call would then only authenticate: any signed-in user could run it).
   * Optional with a function authorizer, which decides on its own.
   */
  permission?: Permission;
  /**
   * The scope `permission` is checked in, fixed or derived from the
   * arguments. Needs a `permission` (a definition-time error otherwise).
   */
  scope?: string | ((args: ObjectType<Args>) => string);
  /** The only tables this mutation may write. Any other write throws `FORBIDDEN`. */
  tables: readonly TableNamesInDataModel<DataModel>[];
  /** Argument validators; `reason` is added for you and must not be declared. */
  args: Args;
  /** Return validator (recommended). */
  returns?: Validator<Result, "required", string>;
  /** Names the function in the log when Convex cannot (defaults to its path). */
  name?: string;
  /** Extra argument names to redact for this mutation. */
  redactArgs?: readonly string[];
  /**
   * Accept an optional `serviceKey` argument and pass it to the authorizer,
   * so server-to-server callers (authz `services`) can call this mutation.
   * The key is never recorded or logged.
   */
  acceptServiceKey?: Service;
  /**
   * Row rules (authz's `rules`) apply to the handler's reads and writes by
   * default (`"enforce"`): an admin call touches only rows its caller may.
   * `"bypass"` is break-glass: the handler gets the unguarded `ctx.db`
   * (still limited to `tables`, still recorded), and every call logs an
   * `auditLog.rowRulesBypassed` line. Keep such mutations behind a narrow
   * permission.
   */
  rowRules?: "enforce" | "bypass";
  handler: (
    ctx: AdminCtx<DataModel>,
    args: ObjectType<Args>,
  ) => Result | Promise<Result>;
};

/**
 * What `auditLog.adminMutation(authorizer)` returns: a builder of public
 * admin mutations. With an {@link AdminAuthorizer} (`RequirePermission`
 * true) every definition must name its `permission`.
 */
export type AdminMutationBuilder<
  DataModel extends GenericDataModel,
  Permission extends string,
  RequirePermission extends boolean,
> = <Args extends PropertyValidators, Result, Service extends boolean = false>(
  def: AdminMutationDefinition<DataModel, Permission, Args, Result, Service> &
    (RequirePermission extends true ? { permission: Permission } : unknown),
) => RegisteredMutation<
  "public",
  ObjectType<Args> & { reason: string } & (Service extends true
      ? { serviceKey?: string }
      : unknown),
  Promise<Result>
>;

/**
 * Who a revert made outside an admin mutation is recorded as. Prefer an
 * `authorizer` (convex-opskit's `Authz`, with the `permission` to check, or a
 * function authorizer): the actor then comes from the verified identity. An
 * explicit `actor` is recorded as given, so it must come from a verified
 * identity or be a fixed system name, never from function arguments.
 */
export type RevertAuthorization<
  DataModel extends GenericDataModel,
  Permission extends string,
> =
  | {
      actor?: undefined;
      authorizer?: undefined;
      permission?: undefined;
      scope?: undefined;
    }
  | {
      actor: Actor;
      authorizer?: undefined;
      permission?: undefined;
      scope?: undefined;
    }
  | {
      authorizer: AdminAuthorizer<Permission>;
      /** Checked by the authorizer; its names come from the authorizer. */
      permission: NoInfer<Permission>;
      scope?: string;
      actor?: undefined;
    }
  | {
      authorizer: AuthorizeFunction<DataModel, Permission>;
      permission?: NoInfer<Permission>;
      scope?: string;
      actor?: undefined;
    };

/** What `revert` takes: an operation or one entry, and who reverts (see {@link RevertAuthorization}). */
export type RevertArgs<
  DataModel extends GenericDataModel,
  Permission extends string,
> = (
  | { operationId: string; entryId?: never }
  | { entryId: string; operationId?: never }
) & { force?: boolean; reason?: string } & RevertAuthorization<
    DataModel,
    Permission
  >;

/** The outcome of a revert. */
export type RevertResult = {
  /** The new, linked operation (absent when the revert joined an admin call, which records it on return). */
  operationId?: string;
  revertedEntries: number;
  /** Deleted documents re-created by the revert; Convex gives them new ids. */
  recreated: Array<{ table: string; oldDocId: string; newDocId: string }>;
};
