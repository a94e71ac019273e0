// Over ~400 lines, not yet split: the split along its seams is issue 13's
// (architecture) work, planned file by file and kept out of the hardening
// sessions so the attack fixes could land without a concurrent reshape.
/**
 * Rate-limit configurations: their TypeScript types, the Convex validators the
 * component checks them with, and the rules that reject bad ones. Shared by the
 * client and the component so both refuse the same input with the same words.
 */
import { v, type Infer } from "convex/values";
import { clipped, opskitError, shown } from "../../shared/errors.js";
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
 * per kind: smaller to check on every call, and {@link validateConfig}
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
 * call, so the validator is kept small; {@link validateConfig} then refuses an
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

/** A config as `limit`/`check` receive it, before {@link validateConfig}. */
export type RequestConfig = Infer<typeof vRequestConfig>;

/**
 * A config as the component receives it: every kind's fields in one shape.
 * Every {@link RateLimitConfig} is one; {@link validateConfig} rejects the
 * combinations the union type rules out.
 */
export type WireConfig = Infer<typeof vRateLimitConfig>;

// Keeps the hand-written type and the validator from drifting apart.
type _SameShape =
  RateLimitConfig extends Infer<typeof vRateLimitConfig> ? true : never;
const _sameShape: _SameShape = true;
void _sameShape;

const KINDS = new Set([
  "token bucket",
  "fixed window",
  "sliding window",
  "gcra",
]);

function bad(
  name: string,
  message: string,
  details: Record<string, unknown> = {},
): never {
  throw opskitError(
    "INVALID_ARGUMENT",
    `Rate limit ${shown(name)}: ${message}`,
    {
      name: typeof name === "string" ? clipped(name) : name,
      ...(details as Record<string, string | number | boolean | null>),
    },
  );
}

/** Longest accepted limit name, in characters (UTF-16 code units). */
export const MAX_NAME_LENGTH = 256;
/** Longest accepted key, in characters (UTF-16 code units). */
export const MAX_KEY_LENGTH = 256;

/**
 * Throws `INVALID_ARGUMENT` unless `name` is a non-empty string of at most
 * {@link MAX_NAME_LENGTH} characters and `key` (when given) a string of at
 * most {@link MAX_KEY_LENGTH}. Names and keys are stored, indexed and logged
 * verbatim, and keys are often client-influenced (IPs, hook key functions),
 * so this runs before anything is read or written. The error never echoes an
 * over-long value: it carries its length and a short prefix.
 */
export function validateNameAndKey(name: unknown, key: unknown): void {
  if (
    typeof name !== "string" ||
    name.length === 0 ||
    name.length > MAX_NAME_LENGTH
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      `Rate limit name must be a non-empty string of at most ${MAX_NAME_LENGTH} characters (got ${
        typeof name === "string" ? `${name.length} characters` : typeof name
      })`,
      typeof name === "string"
        ? { name: name.slice(0, 64), nameLength: name.length }
        : {},
    );
  if (key === undefined) return;
  if (typeof key !== "string" || key.length > MAX_KEY_LENGTH)
    throw opskitError(
      "INVALID_ARGUMENT",
      `Rate limit ${shown(name)}: key must be a string of at most ${MAX_KEY_LENGTH} characters (got ${
        typeof key === "string" ? `${key.length} characters` : typeof key
      })`,
      {
        name,
        ...(typeof key === "string"
          ? { key: key.slice(0, 64), keyLength: key.length }
          : {}),
      },
    );
}

/** Most shards a limit may have. */
export const MAX_SHARDS = 1024;

/** Largest bound (`limit`, formerly `upTo`) accepted by `countStates`. */
export const MAX_COUNT_STATES = 10_000;

/**
 * Throws `INVALID_ARGUMENT` unless `upTo` is undefined or a whole number from
 * 1 to {@link MAX_COUNT_STATES}; returns the effective bound (default 1000).
 * `field` names the argument in the message (`countStates(ctx, { limit })`).
 */
export function validateUpTo(
  upTo: unknown,
  field: "upTo" | "limit" = "upTo",
): number {
  if (upTo === undefined) return 1000;
  if (
    typeof upTo !== "number" ||
    !Number.isInteger(upTo) ||
    upTo < 1 ||
    upTo > MAX_COUNT_STATES
  )
    throw opskitError(
      "INVALID_ARGUMENT",
      `countStates: ${field} must be a whole number from 1 to ${MAX_COUNT_STATES} (got ${shown(upTo)})`,
      {
        [field]:
          typeof upTo === "number"
            ? Number.isFinite(upTo)
              ? upTo
              : String(upTo)
            : typeof upTo,
      },
    );
  return upTo;
}

const positiveFinite = (x: unknown): x is number =>
  typeof x === "number" && Number.isFinite(x) && x > 0;

/**
 * Throws `INVALID_ARGUMENT` unless `config` can be honoured: positive finite
 * rate and period, consistent optional fields, whole shard count no larger
 * than the capacity.
 */
export function validateConfig(
  name: string,
  config: RequestConfig,
): asserts config is WireConfig {
  if (!config || typeof config !== "object") bad(name, "config is missing");
  if (!KINDS.has(config.kind as string))
    bad(
      name,
      `kind must be one of "token bucket", "fixed window", "sliding window", "gcra" (got ${shown(config.kind)})`,
    );
  if (!positiveFinite(config.rate))
    bad(
      name,
      `rate must be a positive finite number (got ${shown(config.rate)})`,
    );
  if (!positiveFinite(config.period))
    bad(
      name,
      `period must be a positive finite number of ms (got ${shown(config.period)})`,
    );
  const c = config as { capacity?: number };
  if (config.kind === "sliding window" && c.capacity !== undefined)
    bad(
      name,
      "a sliding window has no capacity: it admits `rate` per any `period`",
    );
  if (c.capacity !== undefined && !positiveFinite(c.capacity))
    bad(
      name,
      `capacity must be a positive finite number (got ${shown(c.capacity)})`,
    );
  if (
    config.maxReserved !== undefined &&
    !(Number.isFinite(config.maxReserved) && config.maxReserved >= 0)
  )
    bad(
      name,
      `maxReserved must be a finite number >= 0 (got ${shown(config.maxReserved)})`,
    );
  if (
    config.penalty !== undefined &&
    !(Number.isFinite(config.penalty) && config.penalty >= 0)
  )
    bad(
      name,
      `penalty must be a finite number of ms >= 0 (got ${shown(config.penalty)})`,
    );
  if (
    config.start !== undefined &&
    config.start !== null &&
    (config.kind === "token bucket" || config.kind === "gcra")
  )
    bad(name, `start only applies to windowed limits, not "${config.kind}"`);
  if (typeof config.start === "number" && !Number.isFinite(config.start))
    bad(name, "start must be a finite timestamp in ms");
  if (
    config.applyUpdates !== undefined &&
    config.applyUpdates !== "transactionally" &&
    config.applyUpdates !== "asynchronously"
  )
    bad(
      name,
      `applyUpdates must be "transactionally" or "asynchronously" (got ${shown(config.applyUpdates)})`,
    );
  if (
    config.applyUpdates === "asynchronously" &&
    config.shards !== undefined &&
    config.shards !== 1
  )
    bad(
      name,
      `an asynchronous limit cannot be sharded (got shards: ${String(config.shards)}); its callers never conflict on its state`,
    );
  if (config.applyUpdates === "asynchronously" && config.penalty)
    bad(
      name,
      "an asynchronous limit cannot have a penalty: its denials write nothing",
    );
  const shards = config.shards ?? 1;
  if (!Number.isInteger(shards) || shards < 1)
    bad(
      name,
      `shards must be a whole number >= 1 (got ${shown(config.shards)})`,
    );
  if (shards > MAX_SHARDS)
    bad(
      name,
      `shards (${shards}) must be at most ${MAX_SHARDS}; a changed shard count reads every state of a key once`,
    );
  const capacity = c.capacity ?? config.rate;
  if (shards > capacity)
    bad(
      name,
      `shards (${shards}) must not exceed the capacity (${capacity}): each shard must hold at least one token`,
    );
}

/**
 * Throws `INVALID_ARGUMENT` unless `count` is a whole number >= 1 that the
 * limit could ever admit (at most its capacity, plus `maxReserved` when reserving).
 */
export function validateCount(
  name: string,
  config: WireConfig,
  count: number,
  reserve: boolean,
): void {
  if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 1)
    bad(
      name,
      `count must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER} (got ${shown(count)})`,
      {
        count: Number.isFinite(count) ? count : String(count),
      },
    );
  const capacity = config.capacity ?? config.rate;
  const ceiling = reserve
    ? config.maxReserved === undefined
      ? Infinity
      : capacity + config.maxReserved
    : capacity;
  if (count > ceiling)
    bad(
      name,
      `count ${count} can never be admitted: it exceeds the ${reserve ? "capacity plus maxReserved" : "capacity"} (${ceiling})`,
      { count },
    );
}

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
