/**
 * Convex validators for the component's arguments and results, shared by the
 * component (which enforces them) and the client (which is typed by them).
 */
import { v, type Infer } from "convex/values";
import { vRateLimitConfig } from "./config.js";

/** One limit to check or consume inside a `limit`/`check` call. */
export const vLimitRequest = v.object({
  name: v.string(),
  key: v.optional(v.string()),
  count: v.optional(v.number()),
  reserve: v.optional(v.boolean()),
  config: vRateLimitConfig,
});

/** A limit that denied (or, in shadow mode, would have denied) a request. */
export const vDenial = v.object({
  name: v.string(),
  key: v.optional(v.string()),
  retryAfter: v.number(),
});

/** Figures for `RateLimit-*` headers, about the most constrained limit of the call. */
const quota = {
  /** The limit's capacity. */
  limit: v.optional(v.number()),
  /** Whole tokens left after this call (estimated from the shards read when sharded). */
  remaining: v.optional(v.number()),
  /** Milliseconds until the limit is full again. */
  resetAfter: v.optional(v.number()),
};

/**
 * `{ ok: true, retryAfter? }` or `{ ok: false, retryAfter }` like
 * `@convex-dev/rate-limiter`, plus which limit denied (`name`, `denied`),
 * shadow-mode denials (`shadow`) and quota figures for HTTP headers.
 */
export const vLimitResult = v.union(
  v.object({
    ok: v.literal(true),
    retryAfter: v.optional(v.number()),
    shadow: v.optional(v.array(vDenial)),
    ...quota,
  }),
  v.object({
    ok: v.literal(false),
    retryAfter: v.number(),
    name: v.string(),
    denied: v.array(vDenial),
    shadow: v.optional(v.array(vDenial)),
    ...quota,
  }),
);

/** The result of `limit` and `check`. */
export type LimitResult = Infer<typeof vLimitResult>;

/** One shard's state as `getValue` reports it (the hook projects it forward in time). */
export const vShardSnapshot = v.object({
  shard: v.number(),
  value: v.number(),
  ts: v.number(),
  prev: v.optional(v.number()),
});

/** The whole limit's value: every shard summed, at server time `ts`. */
export const vValue = v.object({
  /** Tokens available across all shards at `ts`. */
  value: v.number(),
  /** Server time the value was computed at. */
  ts: v.number(),
  /** Always 0: the value covers every shard (kept for `@convex-dev/rate-limiter` compatibility). */
  shard: v.number(),
  config: vRateLimitConfig,
  /** Until when a penalty denies the key, if one is active. */
  penaltyUntil: v.optional(v.number()),
  /** Fixed and sliding windows: the start of the current window. */
  windowStart: v.optional(v.number()),
  /** Every stored shard, so a client can compute the value at a later time. */
  states: v.array(vShardSnapshot),
});

/** What `getValue` returns. */
export type RateLimitValue = Infer<typeof vValue>;
