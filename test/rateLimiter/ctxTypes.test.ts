/**
 * `RunQueryCtx` and `RunMutationCtx`, as `convex-opskit/rateLimiter` exports
 * them, stay usable the way 0.1's were (`Pick<GenericQueryCtx, "runQuery">`):
 * a helper typed with them may run the app's own public functions, and a
 * function without arguments without an `{}`. Checked by `npm run typecheck`
 * (a compile error fails it); the runtime part only shows the calls go
 * through.
 */
import {
  anyApi,
  type FunctionReference,
  type GenericActionCtx,
  type GenericDataModel,
  type GenericMutationCtx,
  type GenericQueryCtx,
} from "convex/server";
import { describe, expect, it } from "vitest";
import type { RunMutationCtx, RunQueryCtx } from "convex-opskit/rateLimiter";

const countQuery = anyApi.app.count as FunctionReference<
  "query",
  "public",
  Record<string, never>,
  number
>;
const bumpMutation = anyApi.app.bump as FunctionReference<
  "mutation",
  "public",
  { by: number },
  number
>;

/** An app helper typed with the exported ctx shapes, calling public functions. */
async function helper(ctx: RunMutationCtx, reader: RunQueryCtx) {
  const before = await reader.runQuery(countQuery);
  const after = await ctx.runMutation(bumpMutation, { by: 2 });
  return [before, after, await reader.runQuery(countQuery, {})];
}

describe("RunQueryCtx / RunMutationCtx (public types)", () => {
  it("accept Convex's query, mutation and action ctx", () => {
    const assignable = (
      q: GenericQueryCtx<GenericDataModel>,
      m: GenericMutationCtx<GenericDataModel>,
      a: GenericActionCtx<GenericDataModel>,
    ): Array<RunQueryCtx | RunMutationCtx> => {
      const fromQuery: RunQueryCtx = q;
      const fromMutation: RunMutationCtx = m;
      const fromAction: RunMutationCtx = a;
      return [fromQuery, fromMutation, fromAction];
    };
    expect(typeof assignable).toBe("function");
  });

  it("run public functions, with or without an empty args object", async () => {
    let n = 0;
    const calls: unknown[] = [];
    const ctx = {
      runQuery: async (_ref: unknown, ...args: unknown[]) => {
        calls.push(["query", ...args]);
        return n;
      },
      runMutation: async (_ref: unknown, args: { by: number }) => {
        calls.push(["mutation", args]);
        return (n += args.by);
      },
    } as unknown as RunMutationCtx;
    expect(await helper(ctx, ctx)).toEqual([0, 2, 2]);
    expect(calls).toEqual([["query"], ["mutation", { by: 2 }], ["query", {}]]);
  });
});
