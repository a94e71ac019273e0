/* eslint-disable @typescript-eslint/no-explicit-any -- a request's ctx is any Convex ctx; the checker is found on it untyped. */
/**
 * The request checker: `ctx.authz`, one per request, holding the caller
 * (`ctx.user`) and reading the caller's grants at most once.
 *
 * A hidden channel lives here: `requestCheckers`, a WeakMap keyed by a
 * request's `ctx.db`.
 * - What it carries: the request's {@link RequestAuthz} (actor, memoized
 *   grants, the `Authz` instance that made it).
 * - Who writes: the builders' customization (`builders.ts`, under both the
 *   raw and the rule-enforcing db), `Authz.authorize` (under the raw db, for
 *   a signed-in user, when none is there) and `Authz.guardedDb` (under the
 *   db it returns).
 * - Who reads: {@link existingChecker}, through wrappers of `ctx.db` that
 *   expose the db they wrap under `WRAPPED_DB` (auditLog's recording db):
 *   `checkerFor` (so `authorize` inside a builder's handler, or auditLog's
 *   `adminMutation` calling it, reuses the request's grants instead of
 *   reading them again) and {@link invalidate} (`grant`/`revoke` drop the
 *   cached grants of the user they changed).
 * A found checker of a user is reused only after the identity is derived
 * again and matches, so a stale entry never stands in for another caller.
 */
import type { Auth } from "convex/server";
import type { AnyCtx, MetaCtx, RunQueryCtx } from "../../shared/ctx.js";
import { WRAPPED_DB } from "../../shared/dbCalls.js";
import { opskitError } from "../../shared/errors.js";
import { logEvent } from "../../shared/log.js";
import { functionNameOf } from "../../shared/meta.js";
import type { Authz } from "../client.js";
import {
  applicableRoles,
  hasPermission,
  isPermissionName,
  isValidScope,
  type Grant,
} from "../shared/policy.js";
import {
  authenticate,
  authenticateService,
  type GetUserId,
} from "./identity.js";
import type {
  Actor,
  DenyHook,
  PermissionChecker,
  RowRules,
} from "./ruleTypes.js";
import type { ServiceConfig } from "./types.js";

export type { AnyCtx } from "../../shared/ctx.js";

/**
 * What the request-time helpers need of an `Authz` instance: the instance
 * itself (its component and compiled roles) and the parts of its config.
 */
export type AuthzSetup = {
  owner: Authz<any, any, any>;
  getUserId: GetUserId;
  services: Record<string, ServiceConfig<string>>;
  rules: RowRules<any> | undefined;
};

/** Per-request permission checks; reads the user's grants at most once. */
export class RequestAuthz<
  Perm extends string,
> implements PermissionChecker<Perm> {
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
    if (this.actor.actorKind === "user" && this.actor.actorId === userId)
      this.grantsPromise = null;
  }

  private grants(): Promise<Grant[]> {
    this.grantsPromise ??= this.ctx.runQuery(
      this.owner.component.grants.getUserGrants,
      { userId: this.actor.actorId },
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
      actorId: this.actor.actorId,
      actorKind: this.actor.actorKind,
      ...fields,
    });
  }

  /** The row guard's deny hook: logs `authz.deny` with reason `row_<reason>`. */
  readonly rowDenyHook: DenyHook = (info) =>
    this.logDeny({ ...info, reason: `row_${info.reason}` });
}

/** Throws `INVALID_ARGUMENT` unless `scope` is absent or looks like `kind:id`. */
export function checkScope(scope: unknown): string | undefined {
  if (scope === undefined) return undefined;
  if (typeof scope !== "string" || !isValidScope(scope))
    throw opskitError(
      "INVALID_ARGUMENT",
      `scope must look like "kind:id" (e.g. "team:42"), got ${JSON.stringify(typeof scope === "string" ? scope.slice(0, 64) : typeof scope)}`,
    );
  return scope;
}

/** Throws `INVALID_ARGUMENT` unless `permission` is a permission name. */
export function checkPermission(permission: unknown) {
  if (typeof permission !== "string" || !isPermissionName(permission))
    throw opskitError(
      "INVALID_ARGUMENT",
      `permission must be a name like "posts.write", got ${JSON.stringify(String(permission).slice(0, 64))}`,
    );
}

// The hidden channel (see the top of this file): request checkers by ctx.db.
const requestCheckers = new WeakMap<object, RequestAuthz<string>>();

/** Registers `checker` as the checker of the request whose `ctx.db` is `db`. */
export function rememberChecker(
  db: object,
  checker: RequestAuthz<any>,
  opts: { keep?: boolean } = {},
) {
  if (opts.keep && requestCheckers.has(db)) return;
  requestCheckers.set(db, checker as RequestAuthz<string>);
}

/** The checker of this request, from `ctx.authz` or found by its `ctx.db`. */
export function existingChecker(ctx: Record<string, any>) {
  if (ctx.authz instanceof RequestAuthz) return ctx.authz;
  // Through wrappers of ctx.db (auditLog's recording db) to the one we know.
  for (let db = ctx.db, hops = 0; db && hops < 8; db = db[WRAPPED_DB], hops++) {
    const found = requestCheckers.get(db);
    if (found) return found;
  }
  return undefined;
}

/** Drops the request's cached grants when they are `userId`'s. */
export function invalidate(ctx: Record<string, any>, userId: string) {
  existingChecker(ctx)?.invalidate(userId);
}

/**
 * The checker for this request: a service's when `serviceKey` is given (the
 * key is verified), else the one the request already has when it is this
 * instance's and (for a user) the identity still matches, else a new one
 * for the signed-in user.
 */
export async function checkerFor<Perm extends string>(
  setup: AuthzSetup,
  ctx: AnyCtx,
  request: { functionName?: string; serviceKey?: string },
): Promise<RequestAuthz<Perm>> {
  const asRunQuery = ctx as unknown as RunQueryCtx & MetaCtx;
  if (request.serviceKey !== undefined) {
    const { actor, grants } = await authenticateService(
      setup.services,
      ctx,
      request.serviceKey,
      request.functionName,
    );
    return new RequestAuthz(
      setup.owner,
      asRunQuery,
      actor,
      request.functionName,
      grants,
    );
  }
  const existing = existingChecker(ctx);
  // A service builder already verified its key for this request.
  if (existing?.owner === setup.owner && existing.actor.actorKind === "service")
    return existing as RequestAuthz<Perm>;
  if (existing?.owner === setup.owner && existing.actor.actorKind === "user") {
    // Identity is re-derived so a stale checker can never stand in for another user.
    const userId = await setup.getUserId(ctx as { auth: Auth });
    if (userId === existing.actor.actorId)
      return existing as RequestAuthz<Perm>;
  }
  const actor = await authenticate(setup.getUserId, ctx, request.functionName);
  return new RequestAuthz(setup.owner, asRunQuery, actor, request.functionName);
}
