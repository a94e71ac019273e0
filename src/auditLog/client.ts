// Over ~400 lines, not yet split: the split along its seams is issue 13's
// (architecture) work, planned file by file and kept out of the hardening
// sessions so the attack fixes could land without a concurrent reshape.
/**
 * convex-opskit/auditLog: admin mutations that are authenticated, authorized,
 * scoped to declared tables and recorded atomically with their changes, plus
 * the queries, hash-chain verification, revert, retention and reconcile that
 * work on the record.
 */
import {
  mutationGeneric,
  type DocumentByName,
  type FieldPaths,
  type FunctionArgs,
  type FunctionReference,
  type FunctionReturnType,
  type GenericActionCtx,
  type GenericDatabaseWriter,
  type GenericDataModel,
  type GenericMutationCtx,
  type GenericQueryCtx,
  type NamedTableInfo,
  type PaginationOptions,
  type PaginationResult,
  type RegisteredMutation,
  type TableNamesInDataModel,
} from "convex/server";
import {
  getConvexSize,
  v,
  type GenericId,
  type ObjectType,
  type PropertyValidators,
  type Validator,
  type Value,
} from "convex/values";
import { offeredRowGuard } from "../shared/dbCalls.js";
import { clipped, opskitError, shown } from "../shared/errors.js";
import { logEvent } from "../shared/log.js";
import { WriteRecorder } from "./client/capture.js";
import { functionNameOf, requestInfo } from "./meta.js";
import {
  driftedPaths,
  redactDocument,
  redactKeys,
  restoreRedacted,
  sameVersion,
  withoutSystemFields,
} from "./client/diff.js";
import { hashValue } from "./shared/hash.js";
import { APPEND_BATCH_BYTES, storableArgs } from "./shared/snapshot.js";
import type { ComponentApi } from "./component/_generated/component.js";
import type {
  ChainProblem,
  Entry,
  EntryInput,
  EntryKind,
  Operation,
  RecordedVersion,
  RetentionRun,
} from "./shared/validators.js";

export { REDACTED } from "./client/diff.js";
/** Validators for `returns` of functions that pass log entries, operations or pages through. */
export { vEntry, vOperation, vPage } from "./shared/validators.js";
export type {
  ChainProblem,
  Entry,
  EntryKind,
  Operation,
  RequestInfo,
  RetentionRun,
} from "./shared/validators.js";

/** Who made an admin call, and how they were authenticated (`"user"`, `"service"`...). */
export type Actor = { actorId: string; actorKind: string; roles?: string[] };

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

/** A context that can run component queries (query, mutation or action ctx). */
export type RunQueryCtx = {
  runQuery: <Query extends FunctionReference<"query", "internal">>(
    query: Query,
    args: FunctionArgs<Query>,
  ) => Promise<FunctionReturnType<Query>>;
};
/** A context that can run component mutations (mutation or action ctx). */
export type RunMutationCtx = RunQueryCtx & {
  runMutation: <Mutation extends FunctionReference<"mutation", "internal">>(
    mutation: Mutation,
    args: FunctionArgs<Mutation>,
  ) => Promise<FunctionReturnType<Mutation>>;
};

type Range = {
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
export type ListArgs<DataModel extends GenericDataModel> = Range &
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

/** The filter combinations `list` serves, each from one index. */
export const LIST_FILTERS = [
  [],
  ["table"],
  ["table", "docId"],
  ["table", "actorId"],
  ["actorId"],
  ["actorId", "kind"],
  ["kind"],
] as const;

const ENTRY_KINDS: readonly EntryKind[] = [
  "insert",
  "patch",
  "replace",
  "delete",
];

const LIST_KEYS = new Set([
  "table",
  "docId",
  "actorId",
  "kind",
  "from",
  "to",
  "order",
  "paginationOpts",
]);

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

/** The outcome of a revert. */
export type RevertResult = {
  /** The new, linked operation (absent when the revert joined an admin call, which records it on return). */
  operationId?: string;
  revertedEntries: number;
  /** Deleted documents re-created by the revert; Convex gives them new ids. */
  recreated: Array<{ table: string; oldDocId: string; newDocId: string }>;
};

/** Longest reason accepted: a justification, not a document. */
export const MAX_REASON_LENGTH = 2000;

const SESSION = Symbol.for("convex-opskit.auditLog.session");

type Session = {
  recorder: WriteRecorder;
  revertOf?: { operationId: string; entryId?: string };
  /** The unguarded db, when the handler's db enforces row rules. */
  unguarded?: GenericDatabaseWriter<GenericDataModel>;
};

/** An admin call in progress; what runAudited needs to record it. */
type CallInfo = {
  actor: Actor;
  reason: string;
  functionName: string;
  tables: readonly string[];
  args: Record<string, Value>;
  redactArgs?: readonly string[];
  revertOf?: { operationId: string; entryId?: string };
  /** The database the handler works through (row rules), when not `ctx.db`. */
  db?: GenericDatabaseWriter<GenericDataModel>;
  /** Set when a definition bypassed row rules (break-glass): logged. */
  rowRulesBypassed?: boolean;
};

/**
 * The audit log. Construct it once with `components.auditLog`, then define
 * admin mutations with {@link AuditLog.adminMutation} and read, verify,
 * revert and trim the log with its methods.
 *
 * @example
 * ```ts
 * import { v } from "convex/values";
 * import { AuditLog } from "convex-opskit/auditLog";
 * import { components } from "./_generated/api";
 * import type { DataModel } from "./_generated/dataModel";
 * import { authz } from "./authz";
 *
 * export const auditLog = new AuditLog<DataModel>(components.auditLog, {
 *   redact: { users: ["passwordHash"] },
 *   reason: { minLength: 10, pattern: /\b[A-Z]+-\d+\b/, patternHint: "a ticket id" },
 * });
 * const adminMutation = auditLog.adminMutation(authz);
 *
 * export const setUserRole = adminMutation({
 *   permission: "users.manage",
 *   tables: ["users"],
 *   args: { userId: v.id("users"), role: v.string() },
 *   returns: v.null(),
 *   handler: async (ctx, { userId, role }) => {
 *     await ctx.db.patch(userId, { role });
 *     return null;
 *   },
 * });
 * // Callers add a reason: { userId, role, reason: "SUP-1234 customer asked to downgrade" }
 * ```
 */
export class AuditLog<DataModel extends GenericDataModel = GenericDataModel> {
  private readonly argKeys: ReadonlySet<string>;
  private readonly minLength: number;

  /**
   * @param component - `components.auditLog` from `./_generated/api`.
   * @param options - redaction, reason policy and retention.
   */
  constructor(
    readonly component: ComponentApi,
    readonly options: AuditLogOptions<DataModel> = {},
  ) {
    this.minLength = options.reason?.minLength ?? 10;
    if (!Number.isInteger(this.minLength) || this.minLength < 1)
      throw new Error(
        `auditLog: reason.minLength must be a positive integer; got ${options.reason?.minLength}`,
      );
    if (options.retention !== undefined && !(options.retention.maxAgeMs > 0))
      throw new Error(
        `auditLog: retention.maxAgeMs must be positive; got ${options.retention.maxAgeMs}`,
      );
    // A field redacted in any table is redacted in arguments too: admins
    // often pass the new value of exactly that field.
    const keys = new Set<string>(options.redactArgs ?? []);
    for (const paths of Object.values(options.redact ?? {}))
      for (const path of (paths as readonly string[]) ?? [])
        keys.add(path.split(".").pop()!);
    this.argKeys = keys;
  }

  /** The redacted field paths of a table. */
  redactedPaths(table: string): readonly string[] {
    const all = this.options.redact as
      Record<string, readonly string[] | undefined> | undefined;
    return all?.[table] ?? [];
  }

  /**
   * A builder of admin mutations. Each call is authenticated and authorized
   * by `authorizer`, needs a `reason` argument, may write only the tables it
   * declares, and is recorded — one operation plus one entry per touched
   * document — in the same transaction as its writes.
   *
   * With an authorizer object (authz) each definition must name its
   * `permission`: without one, authz would only authenticate and any
   * signed-in user could run the mutation. To really allow any signed-in
   * user, say so with a function: `(ctx) => authz.authorize(ctx, {})`.
   *
   * @param authorizer - convex-opskit's `Authz` (or anything with its
   *   `authorize` method), or a function returning the actor or throwing.
   */
  adminMutation<Permission extends string = string>(
    authorizer: AdminAuthorizer<Permission>,
  ): AdminMutationBuilder<DataModel, Permission, true>;
  adminMutation<Permission extends string = string>(
    authorizer: AuthorizeFunction<DataModel, Permission>,
  ): AdminMutationBuilder<DataModel, Permission, false>;
  adminMutation<Permission extends string = string>(
    authorizer:
      AdminAuthorizer<Permission> | AuthorizeFunction<DataModel, Permission>,
  ): AdminMutationBuilder<DataModel, Permission, boolean> {
    const authorize = authorizeWith(authorizer);
    const needsPermission = typeof authorizer !== "function";

    return <
      Args extends PropertyValidators,
      Result,
      Service extends boolean = false,
    >(
      def: AdminMutationDefinition<
        DataModel,
        Permission,
        Args,
        Result,
        Service
      >,
    ): RegisteredMutation<
      "public",
      ObjectType<Args> & { reason: string } & (Service extends true
          ? { serviceKey?: string }
          : unknown),
      Promise<Result>
    > => {
      const label = `auditLog: admin mutation${def.name ? ` ${def.name}` : ""}`;
      for (const reserved of ["reason", "serviceKey"])
        if (reserved in def.args)
          throw new Error(
            `${label} declares a "${reserved}" argument; it is added for you`,
          );
      if (def.tables.length === 0)
        throw new Error(`${label} must declare the tables it writes`);
      if (def.scope !== undefined && def.permission === undefined)
        throw new Error(`${label}: \`scope\` needs a \`permission\` to check`);
      if (
        def.scope !== undefined &&
        typeof def.scope !== "string" &&
        typeof def.scope !== "function"
      )
        throw new Error(
          `${label}: \`scope\` must be a string or a function of the arguments; got ${typeof def.scope}`,
        );
      if (needsPermission && def.permission === undefined)
        throw new Error(
          `${label} needs a \`permission\`: with an authorizer object it would otherwise only authenticate, letting any signed-in user call it`,
        );
      if (
        def.rowRules !== undefined &&
        def.rowRules !== "enforce" &&
        def.rowRules !== "bypass"
      )
        throw opskitError(
          "INVALID_ARGUMENT",
          `${label}: \`rowRules\` must be "enforce" or "bypass"; got ${JSON.stringify(String(def.rowRules).slice(0, 40))}`,
        );
      const bypass = def.rowRules === "bypass";
      const definition = {
        args: {
          ...def.args,
          reason: v.string(),
          ...(def.acceptServiceKey
            ? { serviceKey: v.optional(v.string()) }
            : {}),
        },
        ...(def.returns ? { returns: def.returns } : {}),
        handler: async (
          ctx: GenericMutationCtx<DataModel>,
          all: Record<string, Value>,
        ) => {
          const { reason, serviceKey, ...args } = all as Record<
            string,
            Value
          > & { reason: string; serviceKey?: string };
          const functionName = await functionNameOf(ctx, def.name);
          const scope =
            typeof def.scope === "function"
              ? def.scope(args as ObjectType<Args>)
              : def.scope;
          if (def.scope !== undefined && typeof scope !== "string")
            throw opskitError(
              "INVALID_ARGUMENT",
              `the scope of ${functionName} resolved to ${scope === null ? "null" : typeof scope}, not a scope`,
            );
          const request: AuthorizeRequest<Permission> = {
            ...(def.permission !== undefined
              ? { permission: def.permission }
              : {}),
            ...(scope !== undefined ? { scope } : {}),
            ...(serviceKey !== undefined ? { serviceKey } : {}),
            functionName,
          };
          const actor = await authorize(ctx, request as never);
          const db = bypass
            ? undefined
            : await guardedDbOf(authorizer, ctx, request);
          const { result } = await this.runAudited(
            ctx,
            {
              actor,
              reason,
              functionName,
              tables: def.tables as readonly string[],
              args,
              redactArgs: def.redactArgs,
              db,
              rowRulesBypassed: bypass,
            },
            (auditCtx) => def.handler(auditCtx, args as ObjectType<Args>),
          );
          return result;
        },
      };
      // The handler is typed for the app's DataModel; mutationGeneric wants `any`.
      return mutationGeneric(definition as never) as never;
    };
  }

  /** Checks a reason against the configured policy; throws `INVALID_ARGUMENT`. */
  checkReason(reason: string): void {
    const trimmed = typeof reason === "string" ? reason.trim() : "";
    if (trimmed.length < this.minLength)
      throw opskitError(
        "INVALID_ARGUMENT",
        `reason must be at least ${this.minLength} characters saying why; got ${trimmed.length}`,
        { minLength: this.minLength, length: trimmed.length },
      );
    if (trimmed.length > MAX_REASON_LENGTH)
      throw opskitError(
        "INVALID_ARGUMENT",
        `reason must be at most ${MAX_REASON_LENGTH} characters; got ${trimmed.length}`,
        { maxLength: MAX_REASON_LENGTH, length: trimmed.length },
      );
    const pattern = this.options.reason?.pattern;
    if (
      pattern &&
      !new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, "")).test(
        trimmed,
      )
    )
      throw opskitError(
        "INVALID_ARGUMENT",
        `reason must contain ${this.options.reason?.patternHint ?? `a match for ${pattern}`}; got ${JSON.stringify(trimmed.slice(0, 80))}`,
        { pattern: pattern.source },
      );
  }

  /** Runs `body` with a recording db, then appends the operation and logs it. */
  private async runAudited<R>(
    ctx: GenericMutationCtx<DataModel>,
    call: CallInfo,
    body: (ctx: AdminCtx<DataModel>) => R | Promise<R>,
  ): Promise<{ result: R; operationId: string }> {
    this.checkReason(call.reason);
    if (call.rowRulesBypassed)
      logEvent("auditLog.rowRulesBypassed", {
        functionName: call.functionName,
        actorId: call.actor.actorId,
        actorKind: call.actor.actorKind,
        reason: call.reason.trim(),
        tables: [...call.tables],
      });
    const recorder = new WriteRecorder(
      ctx.db as unknown as ConstructorParameters<typeof WriteRecorder>[0],
      call.tables,
      { functionName: call.functionName, actorId: call.actor.actorId },
      call.db,
    );
    const session: Session = {
      recorder,
      revertOf: call.revertOf,
      // Only a guard (a db other than ctx.db itself, e.g. authz without
      // rules returns ctx.db) can hide rows from the handler.
      ...(call.db && (call.db as unknown) !== ctx.db
        ? {
            unguarded:
              ctx.db as unknown as GenericDatabaseWriter<GenericDataModel>,
          }
        : {}),
    };
    const auditCtx = {
      ...ctx,
      db: recorder.db,
      audit: {
        actor: call.actor,
        reason: call.reason.trim(),
        functionName: call.functionName,
      },
      [SESSION]: session,
    } as unknown as AdminCtx<DataModel>;
    const result = await body(auditCtx);
    const entries = await recorder.entries((t) => this.redactedPaths(t));
    const argKeys = new Set([...this.argKeys, ...(call.redactArgs ?? [])]);
    const operation = {
      actorId: call.actor.actorId,
      actorKind: call.actor.actorKind,
      roles: call.actor.roles ?? [],
      functionName: call.functionName,
      reason: call.reason.trim(),
      args: storableArgs(redactKeys(call.args, argKeys)),
      request: await requestInfo(ctx),
      time: Date.now(),
      tables: [...call.tables],
      ...(session.revertOf ? { revertOf: session.revertOf } : {}),
    };
    const operationId = await appendInBatches(
      ctx,
      this.component,
      operation,
      entries,
    );
    logEvent("auditLog.write", {
      operationId,
      functionName: operation.functionName,
      actorId: operation.actorId,
      actorKind: operation.actorKind,
      reason: operation.reason,
      tables: operation.tables,
      entries: entries.length,
      changes: entries.slice(0, 20).map((e) => ({
        table: e.table,
        docId: e.docId,
        kind: e.kind,
        changed: e.changed.slice(0, 20),
        ...(e.changed.length > 20 ? { changedTotal: e.changed.length } : {}),
      })),
      ...(operation.revertOf ? { revertOf: operation.revertOf } : {}),
      ...(call.rowRulesBypassed ? { rowRules: "bypassed" } : {}),
      requestId: operation.request?.requestId ?? null,
    });
    return { result, operationId };
  }

  /**
   * A page of entries, newest first unless `order: "asc"`: a document's
   * history (`table` + `docId`), a table, an actor, a kind of change, or all
   * entries, each within an optional `from`/`to` time range (ms).
   */
  async list(
    ctx: RunQueryCtx,
    args: ListArgs<DataModel>,
  ): Promise<PaginationResult<Entry>> {
    return ctx.runQuery(this.component.queries.listEntries, {
      by: listIndex(args as Record<string, unknown>),
      ...range(args),
    });
  }

  /** A page of operations (actor, reason, args...), newest first: all, by actor, or by function name. */
  async listOperations(
    ctx: RunQueryCtx,
    args: Range & { actorId?: string; functionName?: string },
  ): Promise<PaginationResult<Operation>> {
    checkListArgs(
      "listOperations",
      args as unknown as Record<string, unknown>,
      LIST_OPERATIONS_KEYS,
    );
    for (const k of ["actorId", "functionName"] as const)
      if (args[k] !== undefined && typeof args[k] !== "string")
        throw opskitError(
          "INVALID_ARGUMENT",
          `listOperations' ${k} must be a string; got ${typeof args[k]}`,
        );
    if (args.actorId !== undefined && args.functionName !== undefined)
      throw opskitError(
        "INVALID_ARGUMENT",
        "list operations by actorId or by functionName, not both",
      );
    const by =
      args.actorId !== undefined
        ? { actorId: args.actorId }
        : args.functionName !== undefined
          ? { functionName: args.functionName }
          : {};
    return ctx.runQuery(this.component.queries.listOperations, {
      by,
      ...range(args),
    });
  }

  /**
   * One operation with all its entries, or null. The component serves them
   * in pages sized by bytes; this collects every page in the caller's
   * transaction. For operations too large to return at once (several MiB
   * of versions), page with {@link AuditLog.getOperationPage}.
   */
  async getOperation(
    ctx: RunQueryCtx,
    args: { operationId: string },
  ): Promise<{ operation: Operation; entries: Entry[] } | null> {
    const first = await this.getOperationPage(ctx, args);
    if (!first) return null;
    const entries = [...first.entries];
    let next = first.nextIndex;
    while (next !== null) {
      const page = await this.getOperationPage(ctx, {
        operationId: args.operationId,
        fromIndex: next,
      });
      if (!page) break;
      entries.push(...page.entries);
      next = page.nextIndex;
    }
    return { operation: first.operation, entries };
  }

  /**
   * One operation with its entries from index `fromIndex` (default 0), as
   * many as one query may read and return (8 MiB); `nextIndex` is where to
   * continue, null once all were returned. Null when there is no such
   * operation.
   */
  async getOperationPage(
    ctx: RunQueryCtx,
    args: { operationId: string; fromIndex?: number },
  ): Promise<{
    operation: Operation;
    entries: Entry[];
    nextIndex: number | null;
  } | null> {
    return ctx.runQuery(this.component.queries.getOperation, args);
  }

  /** A document's versions, newest first. */
  async history<Table extends TableNamesInDataModel<DataModel>>(
    ctx: RunQueryCtx,
    args: {
      table: Table;
      docId: GenericId<Table> | string;
      paginationOpts: PaginationOptions;
      order?: "asc" | "desc";
    },
  ): Promise<PaginationResult<Version<DocumentByName<DataModel, Table>>>> {
    const page = await this.list(ctx, {
      table: args.table,
      docId: args.docId,
      paginationOpts: args.paginationOpts,
      ...(args.order ? { order: args.order } : {}),
    } as ListArgs<DataModel>);
    return {
      ...page,
      page: page.page.map((e) => ({
        entryId: e.entryId,
        operationId: e.operationId,
        time: e.time,
        actorId: e.actorId,
        functionName: e.functionName,
        kind: e.kind,
        doc: e.after,
        changed: e.changed.slice(0, 20),
        ...(e.changed.length > 20 ? { changedTotal: e.changed.length } : {}),
      })),
    };
  }

  /**
   * A document as it was at time `at` (ms), from the log. `known` is false
   * when no recorded change of the document brackets `at`.
   */
  async documentAt<Table extends TableNamesInDataModel<DataModel>>(
    ctx: RunQueryCtx,
    args: { table: Table; docId: GenericId<Table> | string; at: number },
  ): Promise<{ known: boolean; doc: DocumentByName<DataModel, Table> | null }> {
    const r = await ctx.runQuery(this.component.queries.documentAt, args);
    return { known: r.known, doc: r.doc };
  }

  /**
   * Seals appended operations into the hash chain, in commit order, in
   * bounded batches (scheduling itself until done). Call it from a cron.
   */
  async seal(ctx: RunMutationCtx): Promise<{ sealed: number; more: boolean }> {
    return ctx.runMutation(this.component.chain.seal, {});
  }

  /** The chain's head (publish `hash` elsewhere to anchor it) and where it starts after retention. */
  async head(ctx: RunQueryCtx) {
    return ctx.runQuery(this.component.chain.head, {});
  }

  /**
   * Verifies the sealed chain, optionally only the operations from time
   * `from` to `to`, page by page (`pageSize` operations per query, up to
   * `maxPages`). Problems say what was edited, deleted or reordered, with
   * seq, operation id and entry index. From an action, each page is its own
   * transaction, so any size of log can be verified.
   */
  async verify(
    ctx: RunQueryCtx,
    args: {
      from?: number;
      to?: number;
      fromSeq?: number;
      /** With `fromSeq`: resume inside that operation (a previous result's `nextSnapshot`). */
      fromSnapshot?: number;
      pageSize?: number;
      maxPages?: number;
    } = {},
  ): Promise<VerifyResult> {
    const maxPages = args.maxPages ?? 100;
    const problems: ChainProblem[] = [];
    let checked = 0;
    let firstSeq: number | null = null;
    let lastSeq: number | null = null;
    let pendingSeal = false;
    let fromSeq = args.fromSeq;
    let fromSnapshot =
      args.fromSeq !== undefined ? args.fromSnapshot : undefined;
    for (let pageNo = 0; ; pageNo++) {
      const page = await ctx.runQuery(this.component.chain.verify, {
        ...(fromSeq !== undefined
          ? { fromSeq }
          : args.from !== undefined
            ? { from: args.from }
            : {}),
        ...(fromSnapshot ? { fromSnapshot } : {}),
        ...(args.to !== undefined ? { to: args.to } : {}),
        ...(args.pageSize !== undefined ? { limit: args.pageSize } : {}),
      });
      problems.push(...page.problems);
      checked += page.checked;
      firstSeq ??= page.firstSeq;
      lastSeq = page.lastSeq ?? lastSeq;
      pendingSeal = page.pendingSeal;
      // A page that moved nothing found this transaction's read budget
      // spent (a query verifies within one transaction): stop here; from an
      // action every page gets a fresh budget.
      const stuck =
        !page.isDone &&
        page.nextSeq === fromSeq &&
        page.nextSnapshot === (fromSnapshot ?? 0);
      fromSeq = page.nextSeq;
      fromSnapshot = page.nextSnapshot;
      if (page.isDone || stuck || pageNo + 1 >= maxPages) {
        const result = {
          ok: problems.length === 0,
          checked,
          problems,
          pendingSeal,
          firstSeq,
          lastSeq,
          isDone: page.isDone,
          nextSeq: page.nextSeq,
          nextSnapshot: page.nextSnapshot,
        };
        if (!result.ok)
          logEvent("auditLog.tamper", {
            problems: problems.length,
            first: problems[0],
          });
        return result;
      }
    }
  }

  /**
   * Starts a retention run with the configured `retention.maxAgeMs`: sealed
   * operations older than that are deleted in bounded scheduled batches, the
   * chain keeps an anchor at the cut, and the run is recorded. Call it from a
   * cron. Returns the running run instead if one is going.
   */
  async runRetention(
    ctx: RunMutationCtx,
  ): Promise<{ runId: string; started: boolean }> {
    const retention = this.options.retention;
    if (!retention)
      throw opskitError(
        "INVALID_ARGUMENT",
        "runRetention needs the retention option: new AuditLog(component, { retention: { maxAgeMs } })",
      );
    return ctx.runMutation(this.component.retention.start, {
      maxAgeMs: retention.maxAgeMs,
    });
  }

  /** The most recent retention runs, newest first. */
  async retentionRuns(
    ctx: RunQueryCtx,
    args: { limit?: number } = {},
  ): Promise<RetentionRun[]> {
    return ctx.runQuery(this.component.retention.listRuns, args);
  }

  /**
   * Undoes an operation (or one entry of it) as a new audited operation
   * linked to it (`revertOf`). Refuses with `CONFLICT` when a document
   * changed after the reverted entry, unless `force`.
   *
   * Inside an admin mutation's handler it joins that call (its actor, reason
   * and table scope). In any other mutation pass a `reason` and say who is
   * reverting, preferably with an `authorizer`:
   *
   * ```ts
   * await auditLog.revert(ctx, {
   *   operationId, reason,
   *   authorizer: authz, permission: "audit.revert",
   * });
   * ```
   *
   * The authorizer checks the caller (throwing to refuse, before anything is
   * read or written) and its answer is the recorded actor.
   *
   * **Security:** an explicit `actor` is recorded exactly as given, with no
   * check. It must come from a verified identity (`ctx.auth`) or be a fixed
   * name for a system job (`{ actorId: "system:janitor", actorKind: "system" }`
   * in an internal mutation), never from function arguments: a public
   * mutation passing a client-supplied actor lets anyone revert anything in
   * someone else's name.
   */
  async revert<Permission extends string = string>(
    ctx: GenericMutationCtx<DataModel>,
    args: (
      | { operationId: string; entryId?: never }
      | { entryId: string; operationId?: never }
    ) & { force?: boolean; reason?: string } & RevertAuthorization<
        DataModel,
        Permission
      >,
  ): Promise<RevertResult> {
    const session = (ctx as unknown as Record<symbol, Session | undefined>)[
      SESSION
    ];
    if (args.actor !== undefined && args.authorizer !== undefined)
      throw opskitError(
        "INVALID_ARGUMENT",
        "revert takes an actor or an authorizer, not both",
      );
    if (
      args.authorizer !== undefined &&
      typeof args.authorizer !== "function" &&
      args.permission === undefined
    )
      throw opskitError(
        "INVALID_ARGUMENT",
        "revert with an authorizer object needs the permission to check",
      );
    if (args.scope !== undefined && args.permission === undefined)
      throw opskitError(
        "INVALID_ARGUMENT",
        "revert's `scope` needs a `permission` to check",
      );
    if (
      !session &&
      (args.reason === undefined || (!args.actor && !args.authorizer))
    )
      throw opskitError(
        "INVALID_ARGUMENT",
        "outside an admin mutation, revert needs a reason and an authorizer (or a verified actor)",
      );
    const functionName = await functionNameOf(ctx, "auditLog.revert");
    // An authorizer is checked even inside an admin call, which may have
    // been authorized for a narrower permission than reverting.
    const request = {
      ...(args.permission !== undefined ? { permission: args.permission } : {}),
      ...(args.scope !== undefined ? { scope: args.scope } : {}),
      functionName,
    };
    const authorized = args.authorizer
      ? await authorizeWith(args.authorizer)(ctx, request)
      : undefined;
    const target = await this.revertTarget(ctx, args);
    const revertOf = {
      operationId: target.operationId,
      ...(args.entryId !== undefined ? { entryId: args.entryId } : {}),
    };
    if (session) {
      if (session.revertOf)
        throw opskitError(
          "INVALID_ARGUMENT",
          "one admin call can revert one operation or entry",
        );
      session.revertOf = revertOf;
      return this.applyRevert(ctx, target.entries, args.force ?? false);
    }
    const { result, operationId } = await this.runAudited(
      ctx,
      {
        actor: (authorized ?? args.actor)!,
        reason: args.reason!,
        functionName,
        tables: [...new Set(target.entries.map((e) => e.table))],
        args: {
          ...revertOf,
          ...(args.force !== undefined ? { force: args.force } : {}),
        },
        revertOf,
        // The authorizer's row rules apply to the revert's reads and writes.
        db: args.authorizer
          ? await guardedDbOf(args.authorizer, ctx, request)
          : undefined,
      },
      (auditCtx) =>
        this.applyRevert(auditCtx, target.entries, args.force ?? false),
    );
    return { ...result, operationId };
  }

  private async revertTarget(
    ctx: RunQueryCtx,
    args: { operationId?: string; entryId?: string },
  ): Promise<{ operationId: string; entries: Entry[] }> {
    if (args.entryId !== undefined) {
      const entry = await ctx.runQuery(this.component.queries.getEntry, {
        entryId: args.entryId,
      });
      if (!entry)
        throw opskitError(
          "NOT_FOUND",
          `no audit entry ${shown(args.entryId)}`,
          { entryId: clipped(args.entryId) },
        );
      return { operationId: entry.operationId, entries: [entry] };
    }
    const entries: Entry[] = [];
    let fromIndex: number | null = 0;
    while (fromIndex !== null) {
      const op: {
        entries: Entry[];
        nextIndex: number | null;
      } | null = await ctx.runQuery(this.component.queries.getOperation, {
        operationId: args.operationId!,
        fromIndex,
      });
      if (!op)
        throw opskitError(
          "NOT_FOUND",
          `no audit operation ${shown(args.operationId)}`,
          { operationId: clipped(args.operationId!) },
        );
      entries.push(...op.entries);
      fromIndex = op.nextIndex;
    }
    return { operationId: args.operationId!, entries };
  }

  private async applyRevert(
    ctx: GenericMutationCtx<DataModel>,
    entries: Entry[],
    force: boolean,
  ): Promise<RevertResult> {
    // The recording db refuses tables outside the scope; reads pass through.
    const db = ctx.db as unknown as GenericMutationCtx<GenericDataModel>["db"];
    const unguarded = (ctx as unknown as Record<symbol, Session | undefined>)[
      SESSION
    ]?.unguarded;
    const ordered = [...entries].sort((a, b) => b.index - a.index);
    const live = new Map<string, Record<string, Value> | null>();
    const conflicts: Array<{ table: string; docId: string; entryId: string }> =
      [];
    for (const e of ordered) {
      const id = db.normalizeId(e.table, e.docId);
      const doc = id ? await db.get(id) : null;
      // Under row rules a row the caller may not read looks absent: refuse
      // instead of reporting a conflict or re-creating it.
      if (doc === null && id && (await unguarded?.get(id)))
        throw opskitError(
          "FORBIDDEN",
          `cannot revert ${e.table} ${e.docId}: the row rules do not let the caller read it`,
          { table: e.table, operation: "read" },
        );
      live.set(e.docId, doc as Record<string, Value> | null);
      if (!sameVersion(e.after, doc, this.redactedPaths(e.table)))
        conflicts.push({ table: e.table, docId: e.docId, entryId: e.entryId });
    }
    if (conflicts.length > 0 && !force)
      throw opskitError(
        "CONFLICT",
        `cannot revert: ${conflicts.length} document(s) changed after the change being reverted (first: ${conflicts[0].table} ${conflicts[0].docId}); pass force: true to overwrite`,
        { conflicts },
      );
    const recreated: RevertResult["recreated"] = [];
    for (const e of ordered) {
      const current = live.get(e.docId) ?? null;
      const id = e.docId as GenericId<string>;
      if (e.before === null) {
        if (current !== null) await db.delete(id);
        continue;
      }
      const { doc, missing } = restoreRedacted(
        e.before,
        current,
        this.redactedPaths(e.table),
      );
      if (missing.length > 0 && !force)
        throw opskitError(
          "CONFLICT",
          `cannot restore ${e.table} ${e.docId}: redacted field(s) ${missing.join(", ")} were never recorded; pass force: true to restore without them`,
          { table: e.table, docId: e.docId, missing },
        );
      const value = withoutSystemFields(doc);
      if (current === null) {
        const newDocId = await db.insert(e.table, value as never);
        recreated.push({ table: e.table, oldDocId: e.docId, newDocId });
      } else await db.replace(id, value as never);
    }
    return { revertedEntries: ordered.length, recreated };
  }

  /**
   * Compares one page of an audited table with the log and reports documents
   * whose current state differs from their last recorded version: changes
   * made outside admin mutations (dashboard edits, other functions).
   * Redacted fields are not compared. Page through with `continueCursor`.
   */
  async reconcile<Table extends TableNamesInDataModel<DataModel>>(
    ctx: GenericQueryCtx<DataModel>,
    args: { table: Table; paginationOpts: PaginationOptions },
  ): Promise<{
    checked: number;
    drift: Drift[];
    continueCursor: string;
    isDone: boolean;
  }> {
    const page = await ctx.db.query(args.table).paginate(args.paginationOpts);
    const docs = page.page as unknown as Array<
      Record<string, Value> & { _id: string }
    >;
    const latest =
      docs.length === 0
        ? []
        : await ctx.runQuery(this.component.queries.latestEntries, {
            table: args.table,
            docIds: docs.map((d) => d._id),
          });
    const redacted = this.redactedPaths(args.table);
    const drift: Drift[] = [];
    docs.forEach((doc, i) => {
      const entry = latest[i].entry;
      if (!entry)
        drift.push({
          docId: doc._id,
          status: "unrecorded",
          changed: driftedPaths(null, doc, redacted),
          lastEntryId: null,
        });
      else if (entry.kind === "delete")
        drift.push({
          docId: doc._id,
          status: "deletedInLog",
          changed: driftedPaths(null, doc, redacted),
          lastEntryId: entry.entryId,
        });
      else {
        const changed = versionDrift(entry, doc, redacted);
        if (changed)
          drift.push({
            docId: doc._id,
            status: "changed",
            ...changed,
            lastEntryId: entry.entryId,
          });
      }
    });
    logDrift(args.table, drift);
    return {
      checked: docs.length,
      drift,
      continueCursor: page.continueCursor,
      isDone: page.isDone,
    };
  }

  /**
   * The other half of {@link AuditLog.reconcile}: walks the documents the log
   * has recorded for `table` (up to `limit`, default 100, per call) and
   * reports those deleted outside admin mutations (`deletedOutside`) or
   * changed since their last recorded version (`changed`). Pass the returned
   * `continueCursor` back as `cursor` until `isDone`. A page also ends once
   * the live documents it read reach 6 MiB (the first
   * is always read), so a page of large documents stays inside a
   * transaction's 16 MiB of reads whatever `limit` is.
   */
  async reconcileRecorded<Table extends TableNamesInDataModel<DataModel>>(
    ctx: GenericQueryCtx<DataModel>,
    args: { table: Table; cursor: string | null; limit?: number },
  ): Promise<{
    checked: number;
    drift: Drift[];
    continueCursor: string | null;
    isDone: boolean;
  }> {
    const page = await ctx.runQuery(this.component.queries.recordedDocuments, {
      table: args.table,
      afterDocId: args.cursor,
      limit: args.limit ?? 100,
    });
    const redacted = this.redactedPaths(args.table);
    const drift: Drift[] = [];
    let checked = 0;
    let liveBytes = 0;
    let continueCursor = page.continueCursor;
    let isDone = page.isDone;
    for (const { docId, entry } of page.documents) {
      if (checked > 0 && liveBytes >= RECONCILE_LIVE_BYTES) {
        // The rest of the component's page is walked by the next call.
        continueCursor = page.documents[checked - 1].docId;
        isDone = false;
        break;
      }
      checked += 1;
      const id = ctx.db.normalizeId(args.table, docId);
      const live = id
        ? ((await ctx.db.get(id)) as Record<string, Value> | null)
        : null;
      if (live !== null) liveBytes += getConvexSize(live);
      const deletedInLog = entry.kind === "delete";
      if (live === null && !deletedInLog)
        drift.push({
          docId,
          status: "deletedOutside",
          changed: entry.afterLoaded
            ? driftedPaths(entry.after, null, redacted)
            : [],
          ...(entry.afterLoaded ? {} : { changedUnknown: true }),
          lastEntryId: entry.entryId,
        });
      else if (live !== null && deletedInLog)
        drift.push({
          docId,
          status: "deletedInLog",
          changed: driftedPaths(null, live, redacted),
          lastEntryId: entry.entryId,
        });
      else if (live !== null) {
        const changed = versionDrift(entry, live, redacted);
        if (changed)
          drift.push({
            docId,
            status: "changed",
            ...changed,
            lastEntryId: entry.entryId,
          });
      }
    }
    logDrift(args.table, drift);
    return { checked, drift, continueCursor, isDone };
  }
}

/**
 * Bytes of live documents one {@link AuditLog.reconcileRecorded} page reads
 * at most (plus one document): with the component's own reads (at most
 * 8 MiB), a page stays inside a transaction's 16 MiB.
 */
const RECONCILE_LIVE_BYTES = 6 * 1024 * 1024;

/** One calling convention for both kinds of authorizer. */
function authorizeWith<
  DataModel extends GenericDataModel,
  Permission extends string,
>(
  authorizer:
    AdminAuthorizer<Permission> | AuthorizeFunction<DataModel, Permission>,
) {
  return async (
    ctx: GenericMutationCtx<DataModel>,
    request: AuthorizeRequest<Permission> & { functionName: string },
  ): Promise<Actor> =>
    typeof authorizer === "function"
      ? authorizer(ctx, request)
      : authorizer.authorize(ctx, request);
}

/**
 * Whether a live document differs from its last recorded version (ignoring
 * redacted paths), and which paths: compared value by value when the
 * version was loaded, else by hash (the recorded version is stored
 * redacted, so the live one is redacted the same way before hashing).
 */
function versionDrift(
  entry: RecordedVersion,
  live: Record<string, Value>,
  redacted: readonly string[],
): { changed: string[]; changedUnknown?: true } | null {
  if (entry.afterLoaded) {
    if (sameVersion(entry.after, live, redacted)) return null;
    return { changed: driftedPaths(entry.after, live, redacted) };
  }
  if (hashValue(redactDocument(live, redacted)) === entry.afterHash)
    return null;
  return { changed: [], changedUnknown: true };
}

/**
 * Sends an operation's entries to the component in calls of at most
 * {@link APPEND_BATCH_BYTES} (function arguments are capped at 16 MiB), all
 * in the caller's transaction: `append` with the total count, then
 * `appendEntries` for the rest.
 */
async function appendInBatches(
  ctx: RunMutationCtx,
  component: ComponentApi,
  operation: FunctionArgs<ComponentApi["log"]["append"]>["operation"],
  entries: EntryInput[],
): Promise<string> {
  const batches: EntryInput[][] = [[]];
  let bytes = 0;
  for (const e of entries) {
    const size = getConvexSize(e as unknown as Value);
    const current = batches[batches.length - 1];
    if (current.length > 0 && bytes + size > APPEND_BATCH_BYTES) {
      batches.push([e]);
      bytes = size;
    } else {
      current.push(e);
      bytes += size;
    }
  }
  const operationId = await ctx.runMutation(component.log.append, {
    operation,
    entries: batches[0],
    entryCount: entries.length,
  });
  let fromIndex = batches[0].length;
  for (const batch of batches.slice(1)) {
    await ctx.runMutation(component.log.appendEntries, {
      operationId,
      fromIndex,
      entries: batch,
    });
    fromIndex += batch.length;
  }
  return operationId;
}

/** The authorizer's guarded database (row rules), when it offers one. */
async function guardedDbOf<
  DataModel extends GenericDataModel,
  Permission extends string,
>(
  authorizer:
    AdminAuthorizer<Permission> | AuthorizeFunction<DataModel, Permission>,
  ctx: GenericMutationCtx<DataModel>,
  request: AuthorizeRequest<Permission>,
): Promise<GenericDatabaseWriter<GenericDataModel> | undefined> {
  if (typeof authorizer !== "function" && authorizer.guardedDb)
    return authorizer.guardedDb(ctx, request);
  // A function (or object) authorizer that called authz's `authorize` for
  // this request: authz offered its row guard for the caller it verified.
  const offered = offeredRowGuard(ctx.db);
  return offered
    ? ((await offered()) as GenericDatabaseWriter<GenericDataModel>)
    : undefined;
}

/**
 * The one index a `list` call reads, or `INVALID_ARGUMENT` for a combination
 * no index serves (never a silently dropped filter).
 */
function listIndex(
  args: Record<string, unknown>,
):
  | { document: { table: string; docId: string } }
  | { table: string; actorId: string }
  | { actorId: string; kind: EntryKind }
  | { table: string }
  | { actorId: string }
  | { kind: EntryKind }
  | Record<string, never> {
  checkListArgs("list", args, LIST_KEYS);
  const given = (["table", "docId", "actorId", "kind"] as const).filter(
    (k) => args[k] !== undefined,
  );
  for (const k of given)
    if (typeof args[k] !== "string")
      throw opskitError(
        "INVALID_ARGUMENT",
        `list's ${k} must be a string; got ${typeof args[k]}`,
      );
  if (args.kind !== undefined && !ENTRY_KINDS.includes(args.kind as EntryKind))
    throw opskitError(
      "INVALID_ARGUMENT",
      `list's kind must be one of ${ENTRY_KINDS.join(", ")}; got ${JSON.stringify(String(args.kind).slice(0, 40))}`,
    );
  const key = given.join("+");
  if (!LIST_FILTERS.some((combo) => combo.join("+") === key))
    throw opskitError(
      "INVALID_ARGUMENT",
      `list cannot filter by ${given.join(" + ")} together: no index serves it. Supported: ${LIST_FILTERS.map((c) => (c.length === 0 ? "(none)" : c.join(" + "))).join(", ")}`,
      { filters: given, supported: LIST_FILTERS.map((c) => c.join("+")) },
    );
  const s = args as Record<string, string>;
  switch (key) {
    case "table+docId":
      return { document: { table: s.table, docId: s.docId } };
    case "table+actorId":
      return { table: s.table, actorId: s.actorId };
    case "actorId+kind":
      return { actorId: s.actorId, kind: s.kind as EntryKind };
    case "table":
      return { table: s.table };
    case "actorId":
      return { actorId: s.actorId };
    case "kind":
      return { kind: s.kind as EntryKind };
    default:
      return {};
  }
}

const LIST_OPERATIONS_KEYS = new Set([
  "actorId",
  "functionName",
  "from",
  "to",
  "order",
  "paginationOpts",
]);

/**
 * The checks `list` and `listOperations` share, for untyped callers (the
 * dashboard, `npx convex run`, `any`): an object of known keys only, time
 * bounds that are numbers (not NaN), an order of "asc" or "desc", and
 * `paginationOpts` with a numeric `numItems` and a string or null `cursor`.
 * Each failure is `INVALID_ARGUMENT`; no argument is ever ignored.
 */
function checkListArgs(
  fn: "list" | "listOperations",
  args: unknown,
  keys: ReadonlySet<string>,
): asserts args is Record<string, unknown> {
  if (typeof args !== "object" || args === null || Array.isArray(args))
    throw opskitError("INVALID_ARGUMENT", `${fn} takes an object of filters`);
  const a = args as Record<string, unknown>;
  const unknown = Object.keys(a).filter(
    (k) => !keys.has(k) && a[k] !== undefined,
  );
  if (unknown.length > 0)
    throw opskitError(
      "INVALID_ARGUMENT",
      `${fn} does not know ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(", ")}; it takes ${[...keys].join(", ")}`,
      { unknown: unknown.map((k) => k.slice(0, 40)) },
    );
  for (const k of ["from", "to"] as const)
    if (a[k] !== undefined && (typeof a[k] !== "number" || Number.isNaN(a[k])))
      throw opskitError(
        "INVALID_ARGUMENT",
        `${fn}'s ${k} must be a time in ms; got ${typeof a[k] === "number" ? "NaN" : typeof a[k]}`,
      );
  if (a.order !== undefined && a.order !== "asc" && a.order !== "desc")
    throw opskitError(
      "INVALID_ARGUMENT",
      `${fn}'s order must be "asc" or "desc"; got ${typeof a.order === "string" ? JSON.stringify(a.order.slice(0, 40)) : a.order === null ? "null" : typeof a.order}`,
    );
  const p = a.paginationOpts as Record<string, unknown> | null | undefined;
  if (
    typeof p !== "object" ||
    p === null ||
    typeof p.numItems !== "number" ||
    !(p.cursor === null || typeof p.cursor === "string")
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      `${fn} needs paginationOpts: { numItems: number, cursor: string | null }; got ${p === null ? "null" : typeof p === "object" ? `{ numItems: ${typeof p.numItems}, cursor: ${p.cursor === null ? "null" : typeof p.cursor} }` : typeof p}`,
    );
}

function logDrift(table: string, drift: Drift[]): void {
  if (drift.length > 0)
    logEvent("auditLog.drift", {
      table,
      documents: drift.length,
      docIds: drift.slice(0, 20).map((d) => d.docId),
    });
}

function range(args: Range) {
  return {
    paginationOpts: args.paginationOpts,
    ...(args.from !== undefined ? { from: args.from } : {}),
    ...(args.to !== undefined ? { to: args.to } : {}),
    ...(args.order !== undefined ? { order: args.order } : {}),
  };
}

/** Where the lines this client emits go (see `configureLogs`). */
export {
  configureLogs,
  type LogEvent,
  type LogOptions,
  type LogSink,
} from "../shared/log.js";

/** Return validators for the results this client gives back. */
export {
  vEntriesPage,
  vOperationWithEntries,
  vOperationsPage,
  vRetentionRun,
} from "./client/returns.js";
