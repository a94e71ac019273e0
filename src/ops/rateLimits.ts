/**
 * The rate limits section of `opsApi`: a limit's value, and resetting it.
 */
import type { GenericDataModel } from "convex/server";
import { v } from "convex/values";
import { vValue } from "../rateLimiter/shared/validators.js";
import type { OpsDeps } from "./deps.js";

/** The rate limits section of {@link opsApi} (`permissions.rateLimits`). */
export function rateLimitsSection<
  DataModel extends GenericDataModel,
  Perm extends string,
>(deps: OpsDeps<DataModel, Perm>) {
  const rateLimitValue = deps.userQuery({
    permission: deps.perm.rateLimits,
    args: { name: v.string(), key: v.optional(v.string()) },
    returns: vValue,
    handler: async (ctx, { name, key }) => {
      const limit = deps.limitName(name);
      return await limit.limiter.getValue(
        ctx,
        limit.name,
        key !== undefined ? { key } : {},
      );
    },
  });

  const rateLimitReset = deps.admin({
    name: "ops:rateLimitReset",
    permission: deps.perm.rateLimits,
    tables: deps.componentTables("rateLimiter"),
    args: { name: v.string(), key: v.optional(v.string()) },
    returns: v.null(),
    handler: async (ctx, { name, key }) => {
      const limit = deps.limitName(name);
      await limit.limiter.reset(
        ctx,
        limit.name,
        key !== undefined ? { key } : {},
      );
      return null;
    },
  });

  return { rateLimitValue, rateLimitReset };
}
