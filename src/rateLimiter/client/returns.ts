/**
 * Return validators for what the rateLimiter client gives back, for apps that
 * pass those results through their own functions
 * (`returns: vRateLimitResult`).
 */
import { v } from "convex/values";
import { vDenial, vValue } from "../shared/validators.js";

const quota = {
  /** The capacity of the most constrained limit in the call. */
  limit: v.optional(v.number()),
  /** Whole tokens left after this call. */
  remaining: v.optional(v.number()),
  /** Ms until it is full again. */
  resetAfter: v.optional(v.number()),
};

/** What `limit`, `check`, `limitAll` and `checkAll` return (`LimitResult`). */
export const vRateLimitResult = v.union(
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

/** What `getValue` and the hook API's `getRateLimit` return (`RateLimitValue`). */
export const vRateLimitValue = vValue;

/** What `statusAt` computes (`RateLimitStatus`), should a function return it. */
export const vRateLimitStatus = v.object({
  value: v.number(),
  ok: v.boolean(),
  retryAfter: v.optional(v.number()),
});

/** One limit that denied a request (`Denial`). */
export { vDenial };
