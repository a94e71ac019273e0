/**
 * `Authz.authorize` and `Authz.guardedDb`: identity, permission and row
 * rules for a wrapper that is not an authz builder (auditLog's admin
 * mutations and revert call them).
 */
import type {
  GenericDatabaseWriter,
  GenericDataModel,
  GenericMutationCtx,
} from "convex/server";
import { offerRowGuard } from "../../shared/dbCalls.js";
import { enforcingDb } from "./builders.js";
import {
  checkerFor,
  rememberChecker,
  type AnyCtx,
  type AuthzSetup,
} from "./checker.js";
import type { Authorization } from "./types.js";

/** The body of `Authz.authorize`: see there. */
export async function authorizeRequest(
  setup: AuthzSetup,
  ctx: AnyCtx,
  request: {
    permission?: string;
    scope?: string;
    functionName?: string;
    serviceKey?: string;
  },
): Promise<Authorization> {
  const checker = await checkerFor(setup, ctx, request);
  // Found again by guardedDb() (and grant/revoke invalidation) for this
  // request, so the caller's grants are read once.
  const db = (ctx as { db?: object }).db;
  if (db && checker.actor.actorKind === "user")
    rememberChecker(db, checker, { keep: true });
  if (request.permission !== undefined)
    await checker.require(request.permission, { scope: request.scope });
  const roles = await checker.roles({ scope: request.scope });
  // A function authorizer wrapping this call (`(ctx) => authz.authorize(ctx, {})`)
  // has no guardedDb of its own: auditLog finds the rules through this.
  if (db && setup.rules)
    offerRowGuard(db, () =>
      guardedDbFor(setup, ctx as GenericMutationCtx<GenericDataModel>, {
        ...(request.functionName !== undefined
          ? { functionName: request.functionName }
          : {}),
        ...(request.serviceKey !== undefined
          ? { serviceKey: request.serviceKey }
          : {}),
      }),
    );
  return {
    actorId: checker.actor.actorId,
    actorKind: checker.actor.actorKind,
    roles,
  };
}

/** The body of `Authz.guardedDb`: see there. */
export async function guardedDbFor<DM extends GenericDataModel>(
  setup: AuthzSetup,
  ctx: GenericMutationCtx<DM>,
  request: { functionName?: string; serviceKey?: string },
): Promise<GenericDatabaseWriter<DM>> {
  const rules = setup.rules;
  if (!rules) return ctx.db;
  const checker = await checkerFor(setup, ctx, request);
  const db = enforcingDb(
    "mutation",
    ctx.db,
    rules,
    checker,
  ) as GenericDatabaseWriter<DM>;
  rememberChecker(db, checker);
  return db;
}
