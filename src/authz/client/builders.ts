/* eslint-disable @typescript-eslint/no-explicit-any -- the builder plumbing is generic over any Convex ctx and args, as in convex-helpers. */
/**
 * The bodies of the authz builders (`authz.query` ... `authz.serviceAction`)
 * and the convex-helpers customizations behind them (what
 * `convex-opskit/authz/zod` wraps too). The typed signatures stay on the
 * `Authz` class (`../client.ts`).
 */
import {
  customAction,
  customMutation,
  customQuery,
  type Customization,
} from "convex-helpers/server/customFunctions";
import type {
  GenericDatabaseReader,
  GenericDatabaseWriter,
  GenericDataModel,
} from "convex/server";
import { v } from "convex/values";
import { rememberChecker, RequestAuthz, type AuthzSetup } from "./checker.js";
import { guardDefinition } from "./guard.js";
import { authenticate, authenticateService } from "./identity.js";
import { guardReader, guardWriter } from "./rowRules.js";
import type { PermissionChecker, RowRules } from "./ruleTypes.js";

/** The kind of Convex function a builder makes. */
export type FunctionKind = "query" | "mutation" | "action";
/** Who a builder's functions admit: a signed-in user, or a service by its key. */
export type CallerKind = "user" | "service";

const CUSTOM = {
  query: customQuery,
  mutation: customMutation,
  action: customAction,
} as const;

/**
 * `db` enforcing `rules` for `checker`'s caller: a reader for a query, a
 * writer for a mutation. Denials log `authz.deny` with `row_<reason>`.
 */
export function enforcingDb(
  kind: "query" | "mutation",
  db: any,
  rules: RowRules<any>,
  checker: RequestAuthz<any>,
): GenericDatabaseReader<GenericDataModel> | GenericDatabaseWriter<any> {
  const ruleCtx = {
    user: checker.actor,
    authz: checker as PermissionChecker<string>,
  };
  return kind === "query"
    ? guardReader(db, rules, ruleCtx, checker.rowDenyHook)
    : guardWriter(db, rules, ruleCtx, checker.rowDenyHook);
}

/** What a builder adds to `ctx`: `user`, `authz` and (not for actions) `db`. */
function addedCtx(
  setup: AuthzSetup,
  kind: FunctionKind,
  ctx: Record<string, any>,
  checker: RequestAuthz<any>,
) {
  const added: Record<string, unknown> = {
    user: checker.actor,
    authz: checker,
  };
  if (kind === "action") return added;
  const rules = setup.rules;
  const db = !rules ? ctx.db : enforcingDb(kind, ctx.db, rules, checker);
  rememberChecker(ctx.db, checker);
  rememberChecker(db, checker);
  added.db = db;
  return added;
}

/**
 * The convex-helpers customization behind a builder: authenticates the user,
 * or the `serviceKey` argument, and adds `ctx.user`, `ctx.authz` and `ctx.db`.
 */
export function customizationFor(
  setup: AuthzSetup,
  kind: FunctionKind,
  caller: CallerKind,
): Customization<any, any, any, any> {
  if (caller === "user")
    return {
      args: {},
      input: async (ctx: any) => {
        const actor = await authenticate(setup.getUserId, ctx);
        const checker = new RequestAuthz(setup.owner, ctx, actor, undefined);
        return { ctx: addedCtx(setup, kind, ctx, checker), args: {} };
      },
    };
  return {
    args: { serviceKey: v.string() },
    input: async (ctx: any, args: any) => {
      const { actor, grants } = await authenticateService(
        setup.services,
        ctx,
        args.serviceKey,
      );
      const checker = new RequestAuthz(
        setup.owner,
        ctx,
        actor,
        undefined,
        grants,
      );
      return { ctx: addedCtx(setup, kind, ctx, checker), args: {} };
    },
  };
}

/** `own`, then `extra` (seeing `own`'s ctx), as one customization. */
function stacked(own: any, extra: any): Customization<any, any, any, any> {
  return {
    args: { ...own.args, ...extra.args },
    input: async (ctx: any, args: any, more: any) => {
      const pick = (keys: object) =>
        Object.fromEntries(Object.keys(keys).map((k) => [k, args[k]]));
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
}

/**
 * One builder body for all six: `base` (the app's `query`/`mutation`/
 * `action`) customized for `caller`, then `extra` if given; each definition's
 * `permission` and `scope` are checked when it is defined and enforced before
 * its handler.
 */
export function builderFor(
  setup: AuthzSetup,
  kind: FunctionKind,
  caller: CallerKind,
  base: unknown,
  extra?: any,
) {
  const own = customizationFor(setup, kind, caller);
  const inner = (CUSTOM[kind] as (b: any, c: any) => (def: any) => unknown)(
    base,
    extra ? stacked(own, extra) : own,
  );
  return (def: Record<string, any>) => inner(guardDefinition(def));
}
