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

/**
 * What the component's `limit` and `check` return, as one flat object: a
 * small validator is cheaper to check on every call. The client narrows it
 * to {@link LimitResult}.
 */
export const vLimitResult = v.object({
  ok: v.boolean(),
  /** Denied: ms until a retry can succeed. Admitted reservation: ms to wait before the work. */
  retryAfter: v.optional(v.number()),
  /** Denied: the limit needing the longest wait. */
  name: v.optional(v.string()),
  /** Denied: every denying limit. */
  denied: v.optional(v.array(vDenial)),
  /** Limits in shadow mode that would have denied. */
  shadow: v.optional(v.array(vDenial)),
  /** The capacity of the most constrained limit in the call. */
  limit: v.optional(v.number()),
  /** Whole tokens it has left after this call (estimated from the shards read when sharded). */
  remaining: v.optional(v.number()),
  /** Ms until it is full again. */
  resetAfter: v.optional(v.number()),
});

/** A limit that denied (or, in shadow mode, would have denied). */
export type Denial = Infer<typeof vDenial>;

type Quota = { limit?: number; remaining?: number; resetAfter?: number };

/**
 * The result of `limit` and `check`: `{ ok: true, retryAfter? }` or
 * `{ ok: false, retryAfter }` like `@convex-dev/rate-limiter`, plus which
 * limit denied (`name`, `denied`), shadow-mode denials (`shadow`) and quota
 * figures for HTTP headers.
 */
export type LimitResult =
  | ({ ok: true; retryAfter?: number; shadow?: Denial[] } & Quota)
  | ({
      ok: false;
      retryAfter: number;
      name: string;
      denied: Denial[];
      shadow?: Denial[];
    } & Quota);

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
