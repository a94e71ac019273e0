/**
 * Convex validators for the component's arguments and results, shared by the
 * component (which enforces them) and the client (which is typed by them).
 */
import { v, type Infer } from "convex/values";
import { vRateLimitConfig, vRequestConfig } from "./config.js";

/** One limit to check or consume inside a `limit`/`check` call. */
export const vLimitRequest = v.object({
  name: v.string(),
  key: v.optional(v.string()),
  count: v.optional(v.number()),
  reserve: v.optional(v.boolean()),
  config: vRequestConfig,
});

/** A limit that denied (or, in shadow mode, would have denied) a request. */
export const vDenial = v.object({
  name: v.string(),
  key: v.optional(v.string()),
  retryAfter: v.number(),
});

/** A limit that denied (or, in shadow mode, would have denied) a request. */
export type Denial = Infer<typeof vDenial>;

/**
 * What the component's `limit` and `check` return. Kept small because it is
 * validated on every call: enforced and shadow-mode denials travel in one
 * list, and the client expands it with {@link toLimitResult}.
 */
export const vLimitResult = v.object({
  ok: v.boolean(),
  /** Denied: ms until a retry can succeed. Admitted reservation: ms to wait before the work. */
  retryAfter: v.optional(v.number()),
  /** Every limit that denied, in request order; `shadow` marks those only reported. */
  denials: v.optional(
    v.array(
      v.object({
        name: v.string(),
        key: v.optional(v.string()),
        retryAfter: v.number(),
        shadow: v.optional(v.boolean()),
      }),
    ),
  ),
  /** The capacity of the most constrained limit in the call. */
  limit: v.number(),
  /** Whole tokens it has left after this call (estimated from the shards read when sharded). */
  remaining: v.number(),
  /** Ms until it is full again. */
  resetAfter: v.number(),
});

/** The component's result, as {@link vLimitResult} describes it. */
export type WireLimitResult = Infer<typeof vLimitResult>;

type Quota = { limit?: number; remaining?: number; resetAfter?: number };

/**
 * The result of `limit` and `check`: `{ ok: true, retryAfter? }` or
 * `{ ok: false, retryAfter }` like `@convex-dev/rate-limiter`, plus which
 * limit denied (`name`, `denied`), shadow-mode denials (`shadow`) and quota
 * figures for HTTP headers.
 */
export type LimitResult =
  | ({
      ok: true;
      retryAfter?: number;
      shadow?: Denial[];
      /** Set when admitted by the fail-open contention policy, without consuming. */
      reason?: "contention";
    } & Quota)
  | ({
      ok: false;
      retryAfter: number;
      name: string;
      denied: Denial[];
      shadow?: Denial[];
      /** Set when denied by the contention policy rather than by the limit. */
      reason?: "contention";
    } & Quota);

/**
 * Expands the component's result: `denied` (enforced), `shadow` (reported
 * only) and `name`, the denying limit with the longest wait (the first such).
 */
export function toLimitResult(wire: WireLimitResult): LimitResult {
  // The two plain `Error`s below guard an internal invariant of the
  // component's answer (never a user's mistake), so they carry no code.
  const { denials, ...rest } = wire;
  if (denials === undefined) {
    if (!rest.ok) throw new Error("A denied result must list its denials.");
    return { ...rest, ok: true };
  }
  const denied: Denial[] = [];
  const shadow: Denial[] = [];
  for (const { shadow: isShadow, ...d } of denials)
    (isShadow ? shadow : denied).push(d);
  const shadowPart = shadow.length > 0 ? { shadow } : {};
  if (!rest.ok) {
    if (denied.length === 0)
      throw new Error("A denied result must list its denials.");
    const longest = denied.reduce((a, b) =>
      b.retryAfter > a.retryAfter ? b : a,
    );
    return {
      ...rest,
      ok: false,
      retryAfter: rest.retryAfter ?? longest.retryAfter,
      name: longest.name,
      denied,
      ...shadowPart,
    };
  }
  return { ...rest, ok: true, ...shadowPart };
}

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
