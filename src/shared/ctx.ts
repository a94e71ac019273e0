/**
 * The ctx shapes every convex-opskit client accepts, declared once.
 *
 * A client method needs only what it calls: `runQuery` to read a component,
 * `runMutation` to write one, `meta` to learn about the running function.
 * Taking these narrow shapes (not `GenericQueryCtx<DataModel>`) lets one
 * method serve a query, a mutation and an action ctx of any app's data model.
 * The call signatures are Convex's own (any visibility, `args` optional for a
 * function without arguments): the capability entries re-export these types,
 * and an app helper typed with them runs the app's public functions too, as
 * with 0.1's `Pick<GenericQueryCtx, "runQuery">` (test/rateLimiter/ctxTypes.test.ts).
 */
import type {
  FunctionReference,
  FunctionReturnType,
  GenericActionCtx,
  GenericMutationCtx,
  GenericQueryCtx,
  OptionalRestArgs,
} from "convex/server";

/** A ctx that can run component queries: a query, mutation or action ctx. */
export type RunQueryCtx = {
  runQuery: <Query extends FunctionReference<"query", "public" | "internal">>(
    query: Query,
    ...args: OptionalRestArgs<Query>
  ) => Promise<FunctionReturnType<Query>>;
};

/** A ctx that can run component mutations (and queries): a mutation or action ctx. */
export type RunMutationCtx = RunQueryCtx & {
  runMutation: <
    Mutation extends FunctionReference<"mutation", "public" | "internal">,
  >(
    mutation: Mutation,
    ...args: OptionalRestArgs<Mutation>
  ) => Promise<FunctionReturnType<Mutation>>;
};

/** A ctx that can run component actions too: an action ctx. */
export type RunActionCtx = RunMutationCtx & {
  runAction: <
    Action extends FunctionReference<"action", "public" | "internal">,
  >(
    action: Action,
    ...args: OptionalRestArgs<Action>
  ) => Promise<FunctionReturnType<Action>>;
};

/**
 * A ctx that may carry Convex's `ctx.meta` (convex >= 1.36). Typed as
 * `unknown` on purpose: older runtimes and test harnesses lack it, so every
 * reader goes through the guarded functions of `./meta.ts`.
 */
export type MetaCtx = { meta?: unknown };

/**
 * Any Convex function's ctx: a query, mutation or action ctx of any data
 * model (what authz's `authorize` and auditLog's `AdminAuthorizer` accept).
 */
export type AnyCtx =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any app's data model.
  GenericQueryCtx<any> | GenericMutationCtx<any> | GenericActionCtx<any>;
