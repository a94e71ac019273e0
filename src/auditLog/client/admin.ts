/**
 * Admin mutations: the builder (`AuditLog.adminMutation`), the reason check,
 * and `runAudited`, which runs a handler over a recording db and appends
 * what it wrote as one operation in the same transaction. `revert` made
 * outside an admin call records through `runAudited` too.
 */
import {
  mutationGeneric,
  type GenericDatabaseWriter,
  type GenericDataModel,
  type GenericMutationCtx,
  type RegisteredMutation,
} from "convex/server";
import {
  v,
  type ObjectType,
  type PropertyValidators,
  type Value,
} from "convex/values";
import { offeredRowGuard } from "../../shared/dbCalls.js";
import {
  checkPermissionOptions,
  definitionError,
} from "../../shared/definitions.js";
import type { AuditCore } from "./core.js";
import { opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { functionNameOf, requestInfo } from "../../shared/meta.js";
import { MAX_REASON_LENGTH } from "../shared/limits.js";
import { storableArgs } from "../shared/snapshot.js";
import { appendInBatches } from "./append.js";
import { WriteRecorder } from "./capture.js";
import { redactKeys } from "./diff.js";
import type {
  Actor,
  AdminAuthorizer,
  AdminCtx,
  AdminMutationBuilder,
  AdminMutationDefinition,
  AuthorizeFunction,
  AuthorizeRequest,
} from "./types.js";

/**
 * The hidden channel between an admin mutation and `revert`: `runAudited`
 * puts the call's {@link Session} on the handler's ctx under this symbol, so
 * a `revert` made inside the handler joins that call (recorded in its
 * operation, with `revertOf` set) instead of recording its own, and can tell
 * a row the row rules hide from one that is gone (`unguarded`). A
 * `Symbol.for` key, so two copies of the package in one bundle agree. Read it
 * with {@link sessionOf}.
 */
export const SESSION = Symbol.for("convex-opskit.auditLog.session");

/** What an admin call in progress shares with a `revert` made inside it. */
export type Session = {
  recorder: WriteRecorder;
  revertOf?: { operationId: string; entryId?: string };
  /** The unguarded db, when the handler's db enforces row rules. */
  unguarded?: GenericDatabaseWriter<GenericDataModel>;
};

/** The admin call in progress on `ctx` (see {@link SESSION}), if any. */
export function sessionOf(ctx: object): Session | undefined {
  return (ctx as Record<symbol, Session | undefined>)[SESSION];
}

/** An admin call in progress; what runAudited needs to record it. */
export type CallInfo = {
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

/** `AuditLog.adminMutation`: the builder of admin mutations for `authorizer`. */
export function adminMutationBuilder<
  DataModel extends GenericDataModel,
  Permission extends string,
>(
  log: AuditCore,
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
    def: AdminMutationDefinition<DataModel, Permission, Args, Result, Service>,
  ): RegisteredMutation<
    "public",
    ObjectType<Args> & { reason: string } & (Service extends true
        ? { serviceKey?: string }
        : unknown),
    Promise<Result>
  > => {
    // Definition-time mistakes: INVALID_ARGUMENT when the module loads.
    checkDefinitionShape(def);
    const label = `auditLog: admin mutation${def.name ? ` ${def.name}` : ""}`;
    const refuse = (message: string) =>
      opskitError("INVALID_ARGUMENT", message, { definition: label });
    for (const reserved of ["reason", "serviceKey"])
      if (reserved in def.args)
        throw refuse(
          `${label} declares a "${reserved}" argument; it is added for you`,
        );
    if (def.tables.length === 0)
      throw refuse(`${label} must declare the tables it writes`);
    checkPermissionOptions(label, def);
    if (needsPermission && def.permission === undefined)
      throw refuse(
        `${label} needs a \`permission\`: with an authorizer object it would otherwise only authenticate, letting any signed-in user call it`,
      );
    if (
      def.rowRules !== undefined &&
      def.rowRules !== "enforce" &&
      def.rowRules !== "bypass"
    )
      throw definitionError(
        label,
        `\`rowRules\` must be "enforce" or "bypass"; got ${JSON.stringify(String(def.rowRules).slice(0, 40))}`,
      );
    const bypass = def.rowRules === "bypass";
    const definition = {
      args: {
        ...def.args,
        reason: v.string(),
        ...(def.acceptServiceKey ? { serviceKey: v.optional(v.string()) } : {}),
      },
      ...(def.returns ? { returns: def.returns } : {}),
      handler: async (
        ctx: GenericMutationCtx<DataModel>,
        all: Record<string, Value>,
      ) => {
        const { reason, serviceKey, ...args } = all as Record<string, Value> & {
          reason: string;
          serviceKey?: string;
        };
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
        const { result } = await runAudited(
          log,
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

/**
 * The shape of an admin mutation definition, for untyped callers: an object
 * with `args` (an object of validators), `tables` (an array: a string would
 * be searched by substring) and a `handler` function.
 */
function checkDefinitionShape(def: unknown): void {
  const d = def as Record<string, unknown> | null | undefined;
  const label =
    typeof d === "object" && d !== null && d.name
      ? `admin mutation ${String(d.name)}`
      : "admin mutation";
  const refuse = (problem: string) => {
    throw definitionError("auditLog", `${label} ${problem}`);
  };
  if (typeof d !== "object" || d === null)
    refuse(
      `takes { args, tables, handler, ... }; got ${d === null ? "null" : typeof d}`,
    );
  if (typeof d!.args !== "object" || d!.args === null)
    refuse("needs `args`: an object of validators");
  if (!Array.isArray(d!.tables)) refuse("needs `tables`: the tables it writes");
  if (typeof d!.handler !== "function") refuse("needs a `handler` function");
}

/** `AuditLog.checkReason`: a reason against the policy; throws `INVALID_ARGUMENT`. */
export function checkReason(
  reason: string,
  minLength: number,
  policy: { pattern?: RegExp; patternHint?: string } | undefined,
): void {
  const trimmed = typeof reason === "string" ? reason.trim() : "";
  if (trimmed.length < minLength)
    throw opskitError(
      "INVALID_ARGUMENT",
      `reason must be at least ${minLength} characters saying why; got ${trimmed.length}`,
      { minLength: minLength, length: trimmed.length },
    );
  if (trimmed.length > MAX_REASON_LENGTH)
    throw opskitError(
      "INVALID_ARGUMENT",
      `reason must be at most ${MAX_REASON_LENGTH} characters; got ${trimmed.length}`,
      { maxLength: MAX_REASON_LENGTH, length: trimmed.length },
    );
  const pattern = policy?.pattern;
  if (
    pattern &&
    !new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, "")).test(
      trimmed,
    )
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      `reason must contain ${policy?.patternHint ?? `a match for ${pattern}`}; got ${JSON.stringify(trimmed.slice(0, 80))}`,
      { pattern: pattern.source },
    );
}

/** Runs `body` with a recording db, then appends the operation and logs it. */
export async function runAudited<DataModel extends GenericDataModel, R>(
  log: AuditCore,
  ctx: GenericMutationCtx<DataModel>,
  call: CallInfo,
  body: (ctx: AdminCtx<DataModel>) => R | Promise<R>,
): Promise<{ result: R; operationId: string }> {
  log.checkReason(call.reason);
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
    {
      functionName: call.functionName,
      actorId: call.actor.actorId,
      actorKind: call.actor.actorKind,
    },
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
  const entries = await recorder.entries((t) => log.redactedPaths(t));
  const argKeys = new Set([...log.argKeys, ...(call.redactArgs ?? [])]);
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
    log.component,
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

/** One calling convention for both kinds of authorizer. */
export function authorizeWith<
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

/** The authorizer's guarded database (row rules), when it offers one. */
export async function guardedDbOf<
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
