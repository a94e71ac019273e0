/**
 * The client's public types: options of the calls, the ctx shapes they take,
 * and the per-name typing that makes `limit(ctx, "typo")` a type error.
 */
import type { RateLimitConfig } from "../shared/config.js";
import type { LimitResult } from "../shared/validators.js";

/** What `limit`/`check` return: `{ ok: true, retryAfter? } | { ok: false, retryAfter }` plus details. */
export type RateLimitReturns = LimitResult;

/**
 * What `limit` does, when called from an action or HTTP action, if the
 * component's mutation fails on write contention (OCC retries exhausted):
 * - `"deny"` (default): return `{ ok: false, reason: "contention", retryAfter }`;
 * - `"allow"`: fail open, return `{ ok: true, reason: "contention" }`;
 * - `"throw"`: rethrow the error.
 * Either way a `rateLimiter.contention` line is logged. Inside a mutation the
 * failure aborts the caller's whole transaction and cannot be caught.
 */
export type ContentionPolicy = "deny" | "allow" | "throw";

/** Options of the {@link RateLimiter} constructor. */
export type RateLimiterOptions = {
  /** Default contention policy of every `limit`/`limitAll` call (see {@link ContentionPolicy}). */
  onContention?: ContentionPolicy;
};

/** Options of `limit` and `check`. */
export type RateLimitArgs = {
  /** Whose limit: a user id, an IP... Omit for one limit shared by everyone. */
  key?: string;
  /** Tokens to take; a whole number >= 1, at most the capacity. Defaults to 1. */
  count?: number;
  /** Take the tokens even if not yet available; `retryAfter` then says when to run the work. */
  reserve?: boolean;
  /** Throw a `ConvexError` (see {@link RateLimitError}) instead of returning `ok: false`. */
  throws?: boolean;
  /** Overrides the constructor's {@link ContentionPolicy} for this call. */
  onContention?: ContentionPolicy;
};

// The ctx shapes every convex-opskit client takes, declared once in src/shared/.
export type { RunMutationCtx, RunQueryCtx } from "../../shared/ctx.js";

export type Names<Limits> = keyof Limits & string;

/** Options for a limit name: `config` is required unless the name was defined in the constructor. */
export type NamedOptions<Limits, Name extends string, Args> =
  Name extends Names<Limits>
    ? [(Args & { config?: RateLimitConfig })?]
    : [Args & { config: RateLimitConfig }];

/** One limit of a {@link RateLimiter.limitAll} call; unknown names need an inline `config`. */
export type LimitRequest<Limits> =
  | {
      [N in Names<Limits>]: {
        name: N;
        key?: string;
        count?: number;
        reserve?: boolean;
        config?: RateLimitConfig;
      };
    }[Names<Limits>]
  | {
      name: string;
      key?: string;
      count?: number;
      reserve?: boolean;
      config: RateLimitConfig;
    };
