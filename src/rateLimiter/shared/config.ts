/**
 * Rate-limit configurations: their TypeScript types, the Convex validators the
 * component checks them with, and the per-shard limit a config means. Shared
 * by the client and the component; the rules that refuse bad configs are in
 * `validate.ts`.
 */
import { v, type Infer } from "convex/values";
import { windowOrigin, type ShardLimit } from "./algorithms.js";

/** Options every algorithm accepts on top of its own. */
type Common = {
  /** Tokens added per `period` (requests allowed per `period`). */
  rate: number;
  /** Length of the period in milliseconds (use `SECOND`, `MINUTE`, ...). */
  period: number;
  /** How far below zero reservations (`reserve: true`) may take the limit. Unbounded when omitted. */
  maxReserved?: number;
  /**
   * Splits the limit over this many documents (at most 1024) to spread write
   * contention; never admits more than unsharded. See `suggestShards`.
   */
  shards?: number;
  /** Never deny: report `shadow` in the result and log `rateLimiter.shadowDeny` instead. For rolling out a new limit. */
  shadow?: boolean;
  /** Once a key is denied, keep denying it for this many ms regardless of refill (e.g. login brute force). */
  penalty?: number;
  /**
   * `"transactionally"` (default): consumption is part of the calling
   * mutation (strict). `"asynchronously"`: check against a stale snapshot and
   * queue the consumption, applied in order by a background drain, so callers
   * never conflict on the limit's state, at the price of a bounded overshoot
   * (docs/rateLimiter.md, "Asynchronous updates"). An asynchronous limit
   * cannot be sharded (refused with `INVALID_ARGUMENT`).
   */
  applyUpdates?: "transactionally" | "asynchronously";
};

/** Tokens refill continuously at `rate` per `period`, up to `capacity` (default `rate`). */
export type TokenBucketConfig = Common & {
  kind: "token bucket";
  /** Largest burst; defaults to `rate`. */
  capacity?: number;
  start?: null;
};

/** `rate` tokens are added at the start of each `period`-long window, up to `capacity` (default `rate`). */
export type FixedWindowConfig = Common & {
  kind: "fixed window";
  /** Most tokens that can accumulate; defaults to `rate`. */
  capacity?: number;
  /** Origin of the window grid in ms since epoch; a stable per-key offset when omitted. */
  start?: number;
};

/**
 * At most about `rate` per any `period`-long interval: the previous window's
 * count is weighted by how much of it still overlaps, so there is no 2× burst
 * at a window boundary.
 */
export type SlidingWindowConfig = Common & {
  kind: "sliding window";
  /** Origin of the window grid in ms since epoch; a stable per-key offset when omitted. */
  start?: number;
  capacity?: never;
};

/**
 * Generic cell rate algorithm: one timestamp per key, a steady `rate` per
 * `period` with bursts up to `capacity` (default `rate`), exact retry times.
 */
export type GcraConfig = Common & {
  kind: "gcra";
  /** Largest burst; defaults to `rate`. */
  capacity?: number;
  start?: null;
};

/** One rate limit's configuration. */
export type RateLimitConfig =
  TokenBucketConfig | FixedWindowConfig | SlidingWindowConfig | GcraConfig;

const common = {
  rate: v.number(),
  period: v.number(),
  maxReserved: v.optional(v.number()),
  shards: v.optional(v.number()),
  shadow: v.optional(v.boolean()),
  penalty: v.optional(v.number()),
  applyUpdates: v.optional(
    v.union(v.literal("transactionally"), v.literal("asynchronously")),
  ),
};

/**
 * Validator for {@link RateLimitConfig}. One flat object rather than a union
 * per kind: smaller to check on every call, and `validateConfig` (validate.ts)
 * enforces which fields each kind accepts, with clearer messages.
 */
export const vRateLimitConfig = v.object({
  kind: v.union(
    v.literal("token bucket"),
    v.literal("fixed window"),
    v.literal("sliding window"),
    v.literal("gcra"),
  ),
  ...common,
  capacity: v.optional(v.number()),
  start: v.optional(v.union(v.number(), v.null())),
});

/**
 * The config validator of the hot `limit`/`check` calls: the same fields with
 * `kind` and `applyUpdates` as plain strings. Arguments are checked on every
 * call, so the validator is kept small; `validateConfig` (validate.ts) then refuses an
 * unknown kind (or any other bad value) with `INVALID_ARGUMENT`, before
 * anything is read or written.
 */
export const vRequestConfig = v.object({
  kind: v.string(),
  ...common,
  applyUpdates: v.optional(v.string()),
  capacity: v.optional(v.number()),
  start: v.optional(v.union(v.number(), v.null())),
});

/** A config as `limit`/`check` receive it, before `validateConfig` (validate.ts). */
export type RequestConfig = Infer<typeof vRequestConfig>;

/**
 * A config as the component receives it: every kind's fields in one shape.
 * Every {@link RateLimitConfig} is one; `validateConfig` (validate.ts) rejects the
 * combinations the union type rules out.
 */
export type WireConfig = Infer<typeof vRateLimitConfig>;

// Keeps the hand-written type and the validator from drifting apart.
type _SameShape =
  RateLimitConfig extends Infer<typeof vRateLimitConfig> ? true : never;
const _sameShape: _SameShape = true;
void _sameShape;

/** The per-shard limit for `config` (rate, capacity and maxReserved divided by the shard count). */
export function shardLimit(
  name: string,
  key: string | undefined,
  config: WireConfig,
): ShardLimit {
  const shards = config.shards ?? 1;
  const capacity = config.capacity ?? config.rate;
  return {
    kind: config.kind,
    rate: config.rate / shards,
    period: config.period,
    capacity: capacity / shards,
    maxReserved:
      config.maxReserved === undefined
        ? undefined
        : config.maxReserved / shards,
    start:
      typeof config.start === "number"
        ? config.start
        : config.kind === "fixed window" || config.kind === "sliding window"
          ? windowOrigin(name, key, config.period)
          : 0,
  };
}

/** The whole limit's capacity (what `RateLimit-Limit` reports). */
export function capacityOf(config: WireConfig): number {
  return config.capacity ?? config.rate;
}
