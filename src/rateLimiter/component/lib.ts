/**
 * The rate limiter's public component functions: thin wrappers over the
 * engine (decisions) and the pure algorithms (math).
 */
import { v } from "convex/values";
import { available, fullAt, windowStart } from "../shared/algorithms.js";
import { refundShards, totalAvailable } from "../shared/acrossShards.js";
import { shardLimit, vRateLimitConfig } from "../shared/config.js";
import {
  validateConfig,
  validateCount,
  validateNameAndKey,
  validateUpTo,
} from "../shared/validate.js";
import { opskitError } from "../../shared/errors.js";
import {
  vLimitRequest,
  vLimitResult,
  vValue,
  type WireLimitResult,
  type RateLimitValue,
} from "../shared/validators.js";
import {
  mutation,
  query,
  type DatabaseReader,
  type MutationCtx,
} from "./_generated/server.js";
import { decideAll, flush } from "./engine.js";
import { Ledger, wholeAvailable, type Request } from "./ledger.js";

function nonEmpty<T>(requests: T[]): T[] {
  if (requests.length === 0)
    throw opskitError(
      "INVALID_ARGUMENT",
      "At least one rate limit must be given.",
    );
  return requests;
}

async function consumeAll(
  ctx: MutationCtx,
  requests: Request[],
): Promise<WireLimitResult> {
  for (const r of requests)
    if (r.config.applyUpdates === "asynchronously")
      throw opskitError(
        "INVALID_ARGUMENT",
        `Rate limit "${r.name}" has applyUpdates "asynchronously": its consumption must be queued (the client's \`limit\` does this), not applied here`,
        { name: r.name },
      );
  const now = Date.now();
  const ledger = new Ledger(ctx.db);
  const result = await decideAll(ledger, requests, now, { write: true });
  // Full states are deleted by the component's cron (sweep.ts): a call
  // schedules nothing.
  await flush(ctx.db, ledger, now, result.ok);
  return result;
}

/** Checks and consumes one limit (flat arguments: the common call stays small). */
export const limit = mutation({
  args: vLimitRequest.fields,
  returns: vLimitResult,
  handler: async (ctx, args) => consumeAll(ctx, [args]),
});

/** Checks and consumes every request atomically: all are consumed or none. */
export const limitAll = mutation({
  args: { requests: v.array(vLimitRequest) },
  returns: vLimitResult,
  handler: async (ctx, args) => consumeAll(ctx, nonEmpty(args.requests)),
});

/** Like `limit`, but consumes nothing (and records no penalty). */
export const check = query({
  args: vLimitRequest.fields,
  returns: vLimitResult,
  handler: async (ctx, args) =>
    decideAll(new Ledger(ctx.db), [args], Date.now(), { write: false }),
});

/** Like `limitAll`, but consumes nothing (and records no penalty). */
export const checkAll = query({
  args: { requests: v.array(vLimitRequest) },
  returns: vLimitResult,
  handler: async (ctx, args) =>
    decideAll(new Ledger(ctx.db), nonEmpty(args.requests), Date.now(), {
      write: false,
    }),
});

async function readShards(
  ctx: { db: DatabaseReader },
  name: string,
  key: string | undefined,
) {
  return ctx.db
    .query("limitStates")
    .withIndex("by_name_key_shard", (q) => q.eq("name", name).eq("key", key))
    .collect();
}

/** The whole limit's current value (every shard), with the raw states for client-side projection. */
export const getValue = query({
  args: {
    name: v.string(),
    key: v.optional(v.string()),
    config: vRateLimitConfig,
    sampleShards: v.optional(v.number()),
  },
  returns: vValue,
  handler: async (ctx, args): Promise<RateLimitValue> => {
    validateNameAndKey(args.name, args.key);
    validateConfig(args.name, args.config);
    const now = Date.now();
    const limit = shardLimit(args.name, args.key, args.config);
    const shards = args.config.shards ?? 1;
    const all = await readShards(ctx, args.name, args.key);
    const docs = all.filter((d) => d.shard < shards);
    const states = docs.map((d) => ({
      value: d.value,
      ts: d.ts,
      ...(d.prev !== undefined ? { prev: d.prev } : {}),
    }));
    const missing = shards - docs.length;
    // States written under another shard count (before the next call
    // re-shards the key) are counted under their own layout.
    const value = all.some((d) => (d.shards ?? shards) !== shards)
      ? wholeAvailable(all, args.name, args.key, args.config, now)
      : totalAvailable(limit, states, now) + missing * limit.capacity;
    const penaltyUntil = Math.max(0, ...docs.map((d) => d.penaltyUntil ?? 0));
    const windowed =
      args.config.kind === "fixed window" ||
      args.config.kind === "sliding window";
    return {
      value,
      ts: now,
      shard: 0,
      // With `shards` filled in, as `@convex-dev/rate-limiter` reports it.
      config: { ...args.config, shards },
      ...(penaltyUntil > now ? { penaltyUntil } : {}),
      ...(windowed ? { windowStart: windowStart(limit, now) } : {}),
      states: docs.map((d, i) => ({ shard: d.shard, ...states[i] })),
    };
  },
});

/** Deletes every shard of a limit for a key (or the keyless limit): the next request starts full. */
export const reset = mutation({
  args: { name: v.string(), key: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, args) => {
    validateNameAndKey(args.name, args.key);
    for (const doc of await readShards(ctx, args.name, args.key))
      await ctx.db.delete("limitStates", doc._id);
    return null;
  },
});

/**
 * Gives back `count` tokens (e.g. the work was cancelled). Never raises the
 * limit above its capacity, and never lifts a penalty. Returns the tokens
 * actually credited.
 */
export const refund = mutation({
  args: {
    name: v.string(),
    key: v.optional(v.string()),
    count: v.optional(v.number()),
    config: vRateLimitConfig,
  },
  returns: v.object({ credited: v.number() }),
  handler: async (ctx, args) => {
    const count = args.count ?? 1;
    validateNameAndKey(args.name, args.key);
    validateConfig(args.name, args.config);
    validateCount(args.name, args.config, count, true);
    const now = Date.now();
    const limit = shardLimit(args.name, args.key, args.config);
    const shards = args.config.shards ?? 1;
    let all = await readShards(ctx, args.name, args.key);
    if (all.some((d) => (d.shards ?? shards) !== shards)) {
      // States written under another shard count: re-shard the key first (as
      // `limit` does), so the refund is measured against what the whole
      // limit holds, not against one new shard's capacity.
      const ledger = new Ledger(ctx.db);
      await ledger.reshard(args.name, args.key, args.config, now);
      await flush(ctx.db, ledger, now, false);
      all = await readShards(ctx, args.name, args.key);
    }
    const docs = all.filter((d) => d.shard < shards);
    const states = docs.map((d) => ({
      value: d.value,
      ts: d.ts,
      ...(d.prev !== undefined ? { prev: d.prev } : {}),
    }));
    let credited = 0;
    for (const [i, next] of refundShards(limit, states, now, count)) {
      const doc = docs[i];
      credited +=
        available(limit, next, now) - available(limit, states[i], now);
      const penaltyUntil = doc.penaltyUntil ?? 0;
      if (
        next === null ||
        (available(limit, next, now) >= limit.capacity && penaltyUntil <= now)
      )
        await ctx.db.delete("limitStates", doc._id);
      else
        await ctx.db.patch("limitStates", doc._id, {
          value: next.value,
          ts: next.ts,
          prev: next.prev,
          fullAt: Math.max(fullAt(limit, next), penaltyUntil),
        });
    }
    // Float error at real timestamps can make the sum a hair above `count`.
    return { credited: Math.min(count, Math.max(0, credited)) };
  },
});

/** The server's clock, for the React hook to correct client clock skew. */
export const getServerTime = mutation({
  args: {},
  returns: v.number(),
  handler: async () => Date.now(),
});

/**
 * How many state documents are stored, counting at most `upTo` (a whole
 * number from 1 to 10,000; default 1000): for monitoring storage.
 */
export const countStates = query({
  args: { upTo: v.optional(v.number()) },
  returns: v.number(),
  handler: async (ctx, args) => {
    const upTo = validateUpTo(args.upTo);
    return (await ctx.db.query("limitStates").take(upTo)).length;
  },
});
