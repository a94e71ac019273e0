/**
 * The public types of convex-opskit/auditLog's client: the authorizer
 * contract, the options, admin mutation definitions, and what the reading,
 * verifying, reverting and reconciling methods take and return. The entry
 * (`../client.ts`) re-exports them.
 */
import type {
  FieldPaths,
  GenericActionCtx,
  GenericDatabaseWriter,
  GenericDataModel,
  GenericMutationCtx,
  GenericQueryCtx,
  NamedTableInfo,
  PaginationOptions,
  PaginationResult,
  RegisteredMutation,
  TableNamesInDataModel,
} from "convex/server";
import type {
  GenericId,
  ObjectType,
  PropertyValidators,
  Validator,
} from "convex/values";
import type { Actor } from "../../shared/actor.js";
import type {
  ChainProblem,
  Entry,
  EntryKind,
  Operation,
} from "../shared/validators.js";

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
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    ctx: GenericQueryCtx<any> | GenericMutationCtx<any> | GenericActionCtx<any>,
    request: AuthorizeRequest<Permission>,
  ): Promise<{
    actorId: string;
    actorKind: "user" | "service";
    roles: string[];
  }>;
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

/** The time range (ms), order and page of `list`, `listOperations` and `history`. */
export type ListRange = {
  from?: number;
  to?: number;
  order?: "asc" | "desc";
  paginationOpts: PaginationOptions;
};

/**
 * What `list` reads, picked so that exactly one index serves it: a document
 * (`table` + `docId`), a table, an actor, a kind of change, an actor in a
 * table (`table` + `actorId`), an actor's changes of one kind (`actorId` +
 * `kind`), or everything — each within an optional time range. Any other
 * combination is a type error, and `INVALID_ARGUMENT` at runtime.
 */
export type ListArgs<DataModel extends GenericDataModel> = ListRange &
  (
    | {
        table: TableNamesInDataModel<DataModel>;
        docId?: string;
        actorId?: never;
        kind?: never;
      }
    | {
        table: TableNamesInDataModel<DataModel>;
        actorId: string;
        docId?: never;
        kind?: never;
      }
    | { actorId: string; kind?: EntryKind; table?: never; docId?: never }
    | { kind: EntryKind; table?: never; docId?: never; actorId?: never }
    | { table?: never; docId?: never; actorId?: never; kind?: never }
  );

/** What `history` takes: a document, and a page of its versions. */
export type HistoryArgs<Table extends string> = {
  table: Table;
  docId: GenericId<Table> | string;
  paginationOpts: PaginationOptions;
  order?: "asc" | "desc";
};

/** One version of a document, as `history` returns it. */
export type Version<Doc> = {
  entryId: string;
  operationId: string;
  time: number;
  actorId: string;
  functionName: string;
  kind: EntryKind;
  /** The document after this change (null once deleted). Redacted fields read {@link REDACTED}. */
  doc: Doc | null;
  changed: string[];
};

/** What `verify` takes: a time range or a resume point, and page bounds. */
export type VerifyArgs = {
  from?: number;
  to?: number;
  fromSeq?: number;
  /** With `fromSeq`: resume inside that operation (a previous result's `nextSnapshot`). */
  fromSnapshot?: number;
  pageSize?: number;
  maxPages?: number;
};

/** What `verify` found. */
export type VerifyResult = {
  /** True when every checked link and entry matches and nothing is missing. */
  ok: boolean;
  checked: number;
  problems: ChainProblem[];
  /** Operations appended but not yet sealed are not covered until `seal` runs. */
  pendingSeal: boolean;
  firstSeq: number | null;
  lastSeq: number | null;
  /**
   * False when `maxPages` (or, in a query, the transaction's read budget)
   * stopped the walk; continue with `{ fromSeq: nextSeq, fromSnapshot: nextSnapshot }`.
   */
  isDone: boolean;
  nextSeq: number;
  /** Where to resume inside operation `nextSeq` (0: at its start). */
  nextSnapshot: number;
};

/** One document `reconcile` found out of step with the log. */
export type Drift = {
  docId: string;
  /**
   * `unrecorded`: no admin mutation ever wrote it; `changed`: it differs from
   * its last recorded version; `deletedInLog`: the log says it was deleted,
   * yet it exists; `deletedOutside`: the log says it exists, yet it is gone.
   */
  status: "unrecorded" | "changed" | "deletedInLog" | "deletedOutside";
  changed: string[];
  /**
   * True when the recorded version was too large to load within the page's
   * read budget: drift was found by hash, and `changed` is empty. Read the
   * entry (`lastEntryId`) for the difference.
   */
  changedUnknown?: true;
  lastEntryId: string | null;
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

/** One page of `reconcile`: the documents checked and those out of step. */
export type ReconcileResult = {
  checked: number;
  drift: Drift[];
  continueCursor: string;
  isDone: boolean;
};

/**
 * One page of `reconcileRecorded({ table, paginationOpts })`: the documents
 * out of step in `page`, and how many recorded documents were `checked`.
 */
export type ReconcileRecordedPage = PaginationResult<Drift> & {
  checked: number;
};

/**
 * One page of `reconcileRecorded({ table, cursor, limit })`.
 * @deprecated the result of the deprecated `{ cursor, limit }` form; pass
 * `paginationOpts` and read {@link ReconcileRecordedPage}.
 */
export type ReconcileRecordedCursorResult = {
  checked: number;
  drift: Drift[];
  continueCursor: string | null;
  isDone: boolean;
};

/** One operation and a page of its entries, in index order (`getOperationPage` with `paginationOpts`). */
export type OperationPage = PaginationResult<Entry> & { operation: Operation };

/**
 * One operation and its entries from `fromIndex`.
 * @deprecated the result of the deprecated `{ operationId, fromIndex }` form
 * of `getOperationPage`; pass `paginationOpts` and read {@link OperationPage}.
 */
export type OperationFromIndex = {
  operation: Operation;
  entries: Entry[];
  nextIndex: number | null;
};

/** The outcome of a revert. */
export type RevertResult = {
  /** The new, linked operation (absent when the revert joined an admin call, which records it on return). */
  operationId?: string;
  revertedEntries: number;
  /** Deleted documents re-created by the revert; Convex gives them new ids. */
  recreated: Array<{ table: string; oldDocId: string; newDocId: string }>;
};
