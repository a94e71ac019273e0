/**
 * The server side of the React hook `useRateLimit`: the public query and
 * mutation that `RateLimiter.hookAPI` returns for one limit.
 */
import {
  mutationGeneric,
  queryGeneric,
  type GenericDataModel,
  type GenericQueryCtx,
} from "convex/server";
import { v } from "convex/values";
import { ErrorCode, opskitError } from "../../shared/errors.js";
import type { ComponentApi } from "../component/_generated/component.js";
import { type RateLimitConfig } from "../shared/config.js";
import { validateNameAndKey } from "../shared/validate.js";
import { vValue, type RateLimitValue } from "../shared/validators.js";

/** Options of `RateLimiter.hookAPI`. */
export type HookOptions<DataModel extends GenericDataModel> = {
  /**
   * The key, fixed or computed on the server (e.g. from `ctx.auth`). A
   * function also receives the key the client asked for, to accept or replace.
   * Without a function the client cannot choose a key.
   */
  key?:
    | string
    | ((
        ctx: GenericQueryCtx<DataModel>,
        keyFromClient?: string,
      ) => string | Promise<string>);
};

/**
 * `getRateLimit` and `getServerTime` for the limit `name` with `config` (both
 * fixed here, on the server): the client can pass only a key, and only if
 * `opts.key` is a function that decides what to do with it.
 */
export function hookFunctions<DataModel extends GenericDataModel>(
  component: ComponentApi,
  name: string,
  config: RateLimitConfig,
  opts: HookOptions<DataModel> | undefined,
) {
  return {
    getRateLimit: queryGeneric({
      args: { key: v.optional(v.string()) },
      returns: vValue,
      handler: async (ctx, args): Promise<RateLimitValue> => {
        const keyOption = opts?.key;
        let key: string | undefined;
        if (typeof keyOption === "function")
          key = await keyOption(
            ctx as unknown as GenericQueryCtx<DataModel>,
            args.key,
          );
        else {
          if (args.key !== undefined)
            throw opskitError(
              ErrorCode.INVALID_ARGUMENT,
              `Rate limit "${name}": the client may not choose the key; pass a \`key\` function to hookAPI to accept one.`,
            );
          key = keyOption;
        }
        // A key function may pass on what the client sent: bound it here.
        validateNameAndKey(name, key);
        return ctx.runQuery(component.lib.getValue, { name, key, config });
      },
    }),
    getServerTime: mutationGeneric({
      args: {},
      returns: v.number(),
      handler: async () => Date.now(),
    }),
  };
}
